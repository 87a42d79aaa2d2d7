"""Checking an address where it is typed: syntax only (a well-kept library, no network look-ups)
and "did you mean" for typos of common mail domains. Whether a domain exists is the ESP's verdict
(a hard bounce), so the reserved names the demo and tests use (.test, .invalid) stay acceptable."""

import difflib

import email_validator
from django.core.exceptions import ValidationError

# email-validator documents this list as the one to edit; only names we reserve are removed.
for _reserved in ("test", "invalid"):
    if _reserved in email_validator.SPECIAL_USE_DOMAIN_NAMES:
        email_validator.SPECIAL_USE_DOMAIN_NAMES.remove(_reserved)

COMMON_DOMAINS = (
    "gmail.com",
    "googlemail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "outlook.com",
    "live.com",
    "live.co.uk",
    "yahoo.com",
    "yahoo.co.uk",
    "icloud.com",
    "me.com",
    "aol.com",
    "msn.com",
    "btinternet.com",
    "sky.com",
    "virginmedia.com",
    "protonmail.com",
    "proton.me",
    "gmx.com",
    "mail.com",
    "ymail.com",
    "talktalk.net",
    "ntlworld.com",
    "eircom.net",
)


def validate_email_syntax(address: str) -> str:
    """The address, normalised, or a ValidationError in words."""
    try:
        result = email_validator.validate_email(address, check_deliverability=False)
    except email_validator.EmailNotValidError as error:
        raise ValidationError(f"This is not a valid email address: {error}") from None
    return result.normalized


def suggest_address(address: str) -> str | None:
    """A likely intended address when the domain looks like a typo of a common one."""
    local, _, domain = address.strip().rpartition("@")
    domain = domain.lower()
    if not local or not domain or domain in COMMON_DOMAINS:
        return None
    close = difflib.get_close_matches(domain, COMMON_DOMAINS, n=1, cutoff=0.8)
    return f"{local}@{close[0]}" if close else None
