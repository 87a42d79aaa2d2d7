from tests.factories import PASSWORD


def test_it_logs_in_with_the_email_address(client, cast):
    response = client.post(
        "/accounts/login/", {"username": "ALICE@alice.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"  # home, which sends clinic staff on to their clients
    assert client.get("/")["Location"] == "/clients/"


def test_it_refuses_a_wrong_password(client, cast):
    response = client.post("/accounts/login/", {"username": "alice@alice.test", "password": "x"})
    assert response.status_code == 200
    assert b"didn&#x27;t match" in response.content or b"didn't match" in response.content


def test_it_logs_out_with_post(client, cast):
    client.force_login(cast.alice)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/clients/").status_code == 302


def test_login_page_has_labelled_fields(client, db):
    body = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">Email address</label>' in body
    assert 'name="password"' in body
