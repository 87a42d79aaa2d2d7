from clinic.models import Clinic


def test_only_clinic_admins_reach_the_settings(client, cast):
    client.force_login(cast.alice)
    assert client.get("/settings/").status_code == 403
    client.force_login(cast.alice_admin)
    body = client.get("/settings/").content.decode()
    assert "no delivery statuses and no failure" in body


def test_settings_are_saved_and_the_password_never_shown_back(client, cast):
    client.force_login(cast.alice_admin)
    response = client.post(
        "/settings/",
        {
            "time_zone": "Europe/Dublin",
            "reminder_lead_hours": 48,
            "from_name": "Alice",
            "sending_connection": "own_smtp",
            "smtp_host": "smtp.alice.test",
            "smtp_port": 587,
            "smtp_username": "alice",
            "smtp_password": "pa55-word-secret",
            "smtp_security": "starttls",
            "smtp_from_email": "desk@alice.test",
        },
    )
    assert response.status_code == 302
    clinic = Clinic.objects.get(pk=cast.alice_clinic.pk)
    assert (clinic.time_zone, clinic.reminder_lead_hours) == ("Europe/Dublin", 48)
    assert clinic.smtp_password == "pa55-word-secret"
    assert "pa55-word-secret" not in client.get("/settings/").content.decode()


def test_a_bad_time_zone_is_refused_in_words(client, cast):
    client.force_login(cast.alice_admin)
    page = client.post(
        "/settings/",
        {
            "time_zone": "Mars/Olympus",
            "reminder_lead_hours": 24,
            "sending_connection": "platform_esp",
            "smtp_port": 587,
        },
    )
    assert "is not a time zone" in page.content.decode()


def test_the_smtp_test_reports_what_the_server_said(client, cast):
    cast.alice_clinic.sending_connection = "own_smtp"
    cast.alice_clinic.smtp_host, cast.alice_clinic.smtp_port = "127.0.0.1", 9
    cast.alice_clinic.save()
    client.force_login(cast.alice_admin)
    page = client.post("/settings/smtp-test/", follow=True)
    assert "The test email failed: The clinic&#x27;s SMTP server could not be reached" in (
        page.content.decode()
    )
