from tests.otp import support_login


def test_it_lists_only_the_users_clinic_clients(client, cast):
    client.force_login(cast.alice)
    body = client.get("/clients/").content.decode()
    assert "Bob Brown" in body
    assert "Dana Dunn" not in body


def test_it_searches_by_name_and_address(client, cast):
    client.force_login(cast.alice)
    assert "Bob Brown" in client.get("/clients/?q=brown").content.decode()
    assert "Bob Brown" in client.get("/clients/?q=BOB@example").content.decode()
    assert "Bob Brown" not in client.get("/clients/?q=zzz").content.decode()


def test_it_never_searches_into_another_clinic(client, cast):
    client.force_login(cast.charlie)
    assert "Bob Brown" not in client.get("/clients/?q=bob").content.decode()


def test_it_shows_the_client_summary(client, cast):
    client.force_login(cast.alice)
    response = client.get(f"/clients/{cast.bob.pk}/")
    assert response.status_code == 200
    assert "bob@example.test" in response.content.decode()


def test_another_clinics_client_is_404(client, cast):
    client.force_login(cast.charlie)
    assert client.get(f"/clients/{cast.bob.pk}/").status_code == 404


def test_anonymous_is_sent_to_login(client, cast):
    response = client.get(f"/clients/{cast.bob.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_without_a_clinic_gets_403_on_clinic_pages(client, cast):
    support_login(client, cast.support)
    assert client.get("/clients/").status_code == 403
