"""Which SMTP servers a clinic may send through: servers on the internet, on the ports email is
submitted on.

A clinic admin types the host and the port, and the platform connects to them from inside its
own network: an internal address or any other port must never be reachable that way, or the
settings page becomes a scanner of the platform's network and its cloud metadata. The name is
resolved, every address it resolves to is checked, and the connection then goes to an address
that was checked, so a DNS answer that changes in between (rebinding) cannot reach an internal
host. Hosts named in `SMTP_PRIVATE_HOSTS_ALLOWED` (a local server for the tests or the demo) may
resolve to any address; the ports stay the same for every host."""

import ipaddress
import socket

from django.conf import settings

SMTP_PORTS = (587, 465, 25, 2525)

PORT_WORDS = (
    "Use port 587 (STARTTLS), 465 (TLS from the start), 25 or 2525: the clinic's server can "
    "only be reached on the ports used for sending email."
)
INTERNAL_ADDRESS_WORDS = (
    "This server's address is in a private, local or reserved network, which cannot be used. "
    "Give the name of the clinic's email server on the internet."
)
NOT_FOUND_WORDS = "No server of this name could be found. Check the spelling of the server name."

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Cloud providers' metadata services and platform endpoints. Most are in link-local or private
# ranges anyway; some are not (Azure's wire server is a public address).
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, Google Cloud, Azure, OpenStack, DigitalOcean
        "169.254.169.253",  # AWS DNS
        "169.254.169.123",  # AWS time
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "fd00:ec2::253",
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
        "192.0.0.192",  # Oracle Cloud
    )
)
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")  # an IPv4 address inside an IPv6 one


class SmtpServerNotAllowed(Exception):
    """The clinic's settings name a server or port the platform will not connect to."""

    def __init__(self, words: str):
        super().__init__(words)
        self.words = words


class SmtpServerNotFound(SmtpServerNotAllowed):
    """The server's name does not resolve (now): perhaps a typing error, perhaps DNS is down."""


def smtp_port_check(port: int | None) -> None:
    if port not in SMTP_PORTS:
        raise SmtpServerNotAllowed(PORT_WORDS)


def bare_host(host: str) -> str:
    """The host as DNS knows it: no brackets round an IPv6 address, no root dot, lower case."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host.rstrip(".").lower()


def is_private_host_allowed(host: str) -> bool:
    allowed = {bare_host(name) for name in settings.SMTP_PRIVATE_HOSTS_ALLOWED}
    return bare_host(host) in allowed


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64), if any: it is the
    one a connection would reach."""
    if address.version != 6:
        return None
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_internal_address(address: IPAddress) -> bool:
    """Whether an address is anything but a host on the public internet: loopback, private,
    link-local, reserved, multicast, unspecified, shared (100.64/10) or a cloud metadata
    service."""
    embedded = _embedded_ipv4(address)
    if embedded is not None and is_internal_address(embedded):
        return True
    if address.version == 4 and address in SHARED_ADDRESS_SPACE:
        return True
    return (
        address in METADATA_ADDRESSES
        or address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or (address.version == 6 and address.is_site_local)
        or not address.is_global
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise SmtpServerNotFound(NOT_FOUND_WORDS) from None
    addresses = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])  # no IPv6 zone index
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise SmtpServerNotFound(NOT_FOUND_WORDS)
    return addresses


def smtp_server_addresses(host: str, port: int) -> list[str]:
    """The addresses the clinic's server may be reached at, each one checked, in the resolver's
    order: connect to these, never to the name again. Raises SmtpServerNotAllowed with words
    for a port other than an email port, and for a name any of whose addresses is internal
    (unless the host is exempted by SMTP_PRIVATE_HOSTS_ALLOWED)."""
    smtp_port_check(port)
    addresses = _resolve(bare_host(host), port)
    if not is_private_host_allowed(host) and any(map(is_internal_address, addresses)):
        raise SmtpServerNotAllowed(INTERNAL_ADDRESS_WORDS)
    return [str(address) for address in addresses]
