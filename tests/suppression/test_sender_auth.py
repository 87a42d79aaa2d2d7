"""The rule that decides whether a removal request is the client's own, on the ESP's verdicts
alone: DMARC pass, or SPF or DKIM pass aligned with the From domain (relaxed alignment)."""

import pytest

from suppression.sender_auth import (
    EspVerdicts,
    aligned,
    organizational_domain,
    single_signature_domain,
    verification,
)


@pytest.mark.parametrize(
    ("domain", "organizational"),
    [
        ("example.com", "example.com"),
        ("mail.example.com", "example.com"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("EXAMPLE.COM.", "example.com"),
        ("co.uk", ""),  # a public suffix belongs to nobody
        ("com", ""),
        ("", ""),
    ],
)
def test_the_organizational_domain_comes_from_the_public_suffix_list(domain, organizational):
    assert organizational_domain(domain) == organizational


def test_alignment_is_relaxed_but_a_shared_public_suffix_is_not_alignment():
    assert aligned("bounces.mail.example.com", "example.com")
    assert not aligned("example.co.uk", "other.co.uk")
    assert not aligned("co.uk", "co.uk")
    assert not aligned("example.com.attacker.example", "example.com")


def test_a_dkim_verdict_without_a_domain_stands_for_the_one_signature_only():
    one = ["v=1; a=rsa-sha256; d=Example.com; s=s1; b=x"]
    assert single_signature_domain(one, "Pass") == (("example.com", "pass"),)
    assert single_signature_domain([*one, "v=1; d=attacker.example; s=a"], "Pass") is None
    assert single_signature_domain([], "Pass") is None
    assert single_signature_domain(one, "") is None


@pytest.mark.parametrize(
    ("verdicts", "verified"),
    [
        (EspVerdicts(esp="Amazon SES", dmarc="PASS"), True),
        (EspVerdicts(esp="SendGrid", spf="pass", envelope_sender="b@mail.example.com"), True),
        (EspVerdicts(esp="SendGrid", spf="pass", envelope_sender="m@attacker.example"), False),
        (EspVerdicts(esp="SendGrid", spf="softfail", envelope_sender="b@example.com"), False),
        (EspVerdicts(esp="SendGrid", dkim_domains=(("example.com", "pass"),)), True),
        (EspVerdicts(esp="SendGrid", dkim_domains=(("example.com", "fail"),)), False),
        (EspVerdicts(esp="SendGrid", dkim_domains=(("attacker.example", "pass"),)), False),
        (EspVerdicts(esp="Mailgun", dkim="Pass"), False),  # no single signature to tie it to
        (EspVerdicts(esp="Amazon SES", dmarc="FAIL", spf="FAIL", dkim="FAIL"), False),
        (EspVerdicts(esp="Postmark", note="Postmark reports nothing."), False),
    ],
)
def test_only_the_esps_pass_aligned_with_the_from_domain_verifies(verdicts, verified):
    checked = verification(verdicts, "Bob@Example.com")
    assert checked.verified is verified
    assert checked.words
    if not verified:
        assert "cannot be approved" in checked.words
        assert "are not read" in checked.words  # support is told headers were not trusted
