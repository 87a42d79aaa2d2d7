"""Whether a removal request was sent by the client: only the receiving ESP's own checks count.

Anything in the message itself (`Received-SPF`, `Authentication-Results`, an `X-Mailgun-Spf`
line) may have been written by whoever sent it, so it is never read as a verdict. A request is the
client's own when the ESP reports a DMARC pass, or an SPF pass for an envelope sender whose domain
is aligned with the From address's domain, or a DKIM pass for a signing domain aligned with it.
Alignment is DMARC's relaxed alignment: the same organizational domain, found with the Public
Suffix List shipped in `publicsuffixlist` (no network)."""

import re
from dataclasses import dataclass
from functools import cache

from publicsuffixlist import PublicSuffixList

from suppression.streams import ESP_NAMES

AUTHENTICATED = "pass"
NOT_FROM_HEADERS = (
    "Headers inside the message (Received-SPF, Authentication-Results) are not read: whoever "
    "sent it can write them."
)


@dataclass(frozen=True)
class EspVerdicts:
    """What the receiving ESP itself found. Empty strings: the ESP gave no verdict.

    `dkim_domains` names the signing domains the ESP's DKIM verdicts are for; None when the ESP
    gives one verdict without naming a domain and no single signature can stand for it."""

    esp: str
    spf: str = ""
    envelope_sender: str = ""
    dkim: str = ""
    dkim_domains: tuple[tuple[str, str], ...] | None = None
    dmarc: str = ""
    note: str = ""
    # False where nothing proves the post came from the ESP (no signature over it): its
    # verdicts are kept for support to read, never taken as proof.
    provable: bool = True

    @property
    def spf_words(self) -> str:
        domain = domain_of(self.envelope_sender)
        return f"{self.spf} ({domain})" if self.spf and domain else self.spf

    @property
    def dkim_words(self) -> str:
        if self.dkim_domains:
            return ", ".join(f"{result} ({domain})" for domain, result in self.dkim_domains)
        return self.dkim


@dataclass(frozen=True)
class Verification:
    verified: bool
    words: str


def domain_of(address: str) -> str:
    return address.rpartition("@")[2].strip().strip("<>").rstrip(".").lower() if address else ""


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def organizational_domain(domain: str) -> str:
    """The registered domain under its public suffix ("example.co.uk" for
    "mail.example.co.uk"); empty for a public suffix itself or a non-domain."""
    domain = domain.strip().rstrip(".").lower()
    if not domain or "." not in domain:
        return ""
    return _suffixes().privatesuffix(domain) or ""


def aligned(domain: str, from_domain: str) -> bool:
    """DMARC relaxed alignment: both domains have the same organizational domain."""
    organizational = organizational_domain(domain)
    return bool(organizational) and organizational == organizational_domain(from_domain)


def single_signature_domain(
    signatures: list[str], result: str
) -> tuple[tuple[str, str], ...] | None:
    """For an ESP that gives one DKIM verdict without naming a domain: the verdict stands for
    the d= of the message's DKIM signature only when there is exactly one. With none or several,
    it cannot be tied to a domain."""
    if not result or len(signatures) != 1:
        return None
    found = re.search(r"(?:^|;)\s*d\s*=\s*([^\s;]+)", signatures[0], re.IGNORECASE)
    return ((found.group(1).rstrip(".").lower(), result.lower()),) if found else None


def verification(verdicts: EspVerdicts, from_address: str) -> Verification:
    """Whether the ESP's own checks show the From address's domain sent the message, in words
    for support."""
    from_domain = domain_of(from_address)
    esp = ESP_NAMES.get(verdicts.esp, verdicts.esp)
    if not verdicts.provable:
        return Verification(
            False,
            f"Not shown to come from {from_domain}, so it cannot be approved. {verdicts.note}",
        )
    if verdicts.dmarc.lower() == AUTHENTICATED:
        return Verification(True, f"{esp} reports that the message passed DMARC for {from_domain}.")
    envelope_domain = domain_of(verdicts.envelope_sender)
    if verdicts.spf.lower() == AUTHENTICATED and aligned(envelope_domain, from_domain):
        return Verification(
            True,
            f"{esp} reports an SPF pass for the envelope sender's domain {envelope_domain}, "
            f"which is aligned with {from_domain}.",
        )
    for domain, result in verdicts.dkim_domains or ():
        if result.lower() == AUTHENTICATED and aligned(domain, from_domain):
            return Verification(
                True,
                f"{esp} reports a DKIM pass for the signing domain {domain}, which is aligned "
                f"with {from_domain}.",
            )
    reasons = [
        _spf_reason(verdicts, envelope_domain, from_domain),
        _dkim_reason(verdicts, from_domain),
        f"DMARC: {verdicts.dmarc.lower()}." if verdicts.dmarc else f"{esp} gave no DMARC verdict.",
    ]
    return Verification(
        False,
        " ".join(
            [
                f"Not shown to come from {from_domain}, so it cannot be approved.",
                *([verdicts.note] if verdicts.note else []),
                *reasons,
                NOT_FROM_HEADERS,
            ]
        ),
    )


def _spf_reason(verdicts: EspVerdicts, envelope_domain: str, from_domain: str) -> str:
    if not verdicts.spf:
        return f"{ESP_NAMES.get(verdicts.esp, verdicts.esp)} gave no SPF verdict."
    if verdicts.spf.lower() != AUTHENTICATED:
        return f"SPF: {verdicts.spf.lower()}."
    return (
        f"SPF passed for the envelope sender's domain {envelope_domain or '(none)'}, which is not "
        f"aligned with {from_domain}."
    )


def _dkim_reason(verdicts: EspVerdicts, from_domain: str) -> str:
    if not verdicts.dkim and not verdicts.dkim_domains:
        return f"{ESP_NAMES.get(verdicts.esp, verdicts.esp)} gave no DKIM verdict."
    if verdicts.dkim_domains:
        passed = [
            domain for domain, result in verdicts.dkim_domains if result.lower() == AUTHENTICATED
        ]
        if passed:
            return f"DKIM passed for {', '.join(passed)}, not aligned with {from_domain}."
        return f"DKIM: {verdicts.dkim_words}."
    if verdicts.dkim.lower() == AUTHENTICATED:
        return (
            "DKIM passed, but the message does not have exactly one DKIM signature, so the "
            "signing domain is unknown."
        )
    return f"DKIM: {verdicts.dkim.lower()}."
