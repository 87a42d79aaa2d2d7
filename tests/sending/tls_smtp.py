"""A clinic's own SMTP server for the tests: aiosmtpd with a certificate from a test authority
(made here with cryptography and trusted through SMTP_CA_FILE), on a loopback address of its own
and an email port, offering STARTTLS (and requiring it) or TLS from the start."""

import datetime
import ipaddress
import random
import socket
import ssl
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SERVER_NAME = "mail.alice.test"  # the name on the server's certificate, besides its address
BANNER = "Internal-Relay-7f3a9c ready, build 2.4.1-secret"  # must never reach a page


class Mailbox:
    """Accepts mail, except for the recipients it is told to refuse: for good (550) or for now
    (451, as greylisting does: once per recipient). Notes the TLS version each email came over
    and every EHLO (none: nothing connected)."""

    def __init__(self):
        self.messages = []
        self.tls_versions: list[str | None] = []
        self.ehlos = 0
        self.unknown_users: set[str] = set()
        self.greylisted: set[str] = set()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.ehlos += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.unknown_users:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown {BANNER}"
        if address in self.greylisted:
            self.greylisted.discard(address)
            return "451 4.7.1 Greylisted, please try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = server.transport.get_extra_info("ssl_object")
        self.tls_versions.append(tls.version() if tls else None)
        self.messages.append(envelope)
        return "250 OK"


@dataclass
class CertificateAuthority:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    pem_path: str
    issued: list = field(default_factory=list)

    def issue(self, names: list[str], addresses: list[str], tmp_path) -> ssl.SSLContext:
        """A server context with a certificate for these names and addresses, signed by us."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        alternative_names = [x509.DNSName(name) for name in names] + [
            x509.IPAddress(ipaddress.ip_address(address)) for address in addresses
        ]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(alternative_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        chain = tmp_path / f"server-{len(self.issued)}.pem"
        chain.write_bytes(
            certificate.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.issued.append(chain)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain)
        return context


@pytest.fixture(scope="session")
def smtp_authority(tmp_path_factory) -> CertificateAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Clinic mail test authority")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path_factory.mktemp("authority") / "authority.pem"
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return CertificateAuthority(key, certificate, str(pem))


def loopback_address(port: int) -> str:
    """A loopback address of its own (all of 127/8 is this machine's), free on an email port,
    so a test server can listen on 587 or 465 beside any other test run."""
    for _ in range(50):
        address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
        with socket.socket() as probe:
            try:
                probe.bind((address, port))
            except OSError:
                continue
        return address
    raise RuntimeError(f"No free loopback address on port {port}")


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"clinic-user" and auth_data.password == b"clinic-pass"
    return AuthResult(success=ok, handled=False)


@dataclass
class RunningServer:
    address: str
    port: int
    mailbox: Mailbox
    controller: Controller


def start_server(
    authority: CertificateAuthority, tmp_path, *, security: str = "starttls", names=(SERVER_NAME,)
) -> RunningServer:
    """`security`: "starttls" (offered and required before mail or log-in, port 587), "tls"
    (TLS from the first byte, port 465) or "none" (no encryption offered, port 587)."""
    port = 465 if security == "tls" else 587
    address = loopback_address(port)
    mailbox = Mailbox()
    context = authority.issue(list(names), [address], tmp_path)
    options = {
        "starttls": {"tls_context": context, "require_starttls": True},
        # aiosmtpd counts only STARTTLS as TLS for AUTH; here every byte is encrypted anyway.
        "tls": {"ssl_context": context, "auth_require_tls": False},
        "none": {"auth_require_tls": False},
    }[security]
    controller = Controller(
        mailbox,
        hostname=address,
        port=port,
        authenticator=authenticate,
        auth_exclude_mechanism=["LOGIN"],
        ident=BANNER,
        **options,
    )
    controller.start()
    return RunningServer(address, port, mailbox, controller)


def resolving(monkeypatch, answers: dict[str, list[list[str]]]) -> dict[str, int]:
    """DNS for the names given, answer after answer (the last one repeats), all other names
    resolved as usual; returns how many times each name was looked up."""
    real = socket.getaddrinfo
    lookups = dict.fromkeys(answers, 0)

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return real(host, port, family, type, proto, flags)
        given = answers[host]
        addresses = given[min(lookups[host], len(given) - 1)]
        lookups[host] += 1
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, port or 0),
            )
            for address in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups
