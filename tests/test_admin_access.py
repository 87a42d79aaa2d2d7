import pytest

from tests.otp import support_login


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/clinic/client/",
        "/admin/clinic/clinic/",
        "/admin/clinic/appointment/",
        "/admin/clinic/invoice/",
    ],
)
def test_clinic_staff_reach_no_admin_page(client, cast, path):
    cast.alice_admin.is_staff = True  # even a staff flag does not open the platform admin
    cast.alice_admin.save()
    client.force_login(cast.alice_admin)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_support_sees_every_clinics_clients(client, cast):
    support_login(client, cast.support)
    body = client.get("/admin/clinic/client/").content.decode()
    assert "Bob Brown" in body
    assert "Dana Dunn" in body


def test_support_opens_a_client_of_any_clinic(client, cast):
    support_login(client, cast.support)
    assert client.get(f"/admin/clinic/client/{cast.dana.pk}/change/").status_code == 200


def test_the_smtp_password_is_never_shown_back(client, cast):
    cast.alice_clinic.smtp_password = "s3cret-smtp-pass"
    cast.alice_clinic.save()
    support_login(client, cast.support)
    body = client.get(f"/admin/clinic/clinic/{cast.alice_clinic.pk}/change/").content.decode()
    assert "s3cret-smtp-pass" not in body
