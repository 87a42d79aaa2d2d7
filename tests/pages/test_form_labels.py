"""Labels read as a person writes them ("SMTP host", not Django's "Smtp host" made from the field's
name), on every form clinic staff fill in."""

import re


def labels(body: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>", "", text).strip()
        for text in re.findall(r"<label[^>]*>(.*?)</label>", body, re.S)
    ]


def test_the_settings_form_spells_smtp_as_smtp(client, cast):
    client.force_login(cast.alice_admin)
    shown = labels(client.get("/settings/").content.decode())
    for label in ("SMTP host", "SMTP port", "SMTP username", "SMTP password", "From email address"):
        assert any(text.startswith(label) for text in shown), (label, shown)
    assert not [text for text in shown if "Smtp" in text], shown


def test_the_client_form_asks_for_an_email_address(client, cast):
    client.force_login(cast.alice)
    shown = labels(client.get(f"/clients/{cast.bob.pk}/edit/").content.decode())
    assert "Email address" in shown
    assert any(text.startswith("Name") for text in shown), shown
