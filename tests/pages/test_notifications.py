from notifications.services import notification_create


def note(cast, text="Reminder to Bob Brown failed.", client=None):
    return notification_create(
        clinic=cast.alice_clinic,
        recipient=cast.alice,
        text=text,
        client=client or cast.bob,
        email_id="5b0d4c1e-6f0a-4f7e-9a51-2f1f0a7c9d11",
    )


def test_the_bell_shows_the_unread_count_on_every_page(client, cast):
    note(cast)
    note(cast)
    client.force_login(cast.alice)
    for path in ("/clients/", f"/clients/{cast.bob.pk}/", "/notifications/"):
        assert 'data-unread="2">2</span>' in client.get(path).content.decode(), path
    assert (
        'aria-label="Notifications: 2 unread"'
        in client.get("/notifications/bell/").content.decode()
    )


EMAIL_ON_BOBS_PAGE = (
    "/clients/{}/?email=5b0d4c1e-6f0a-4f7e-9a51-2f1f0a7c9d11"
    "#email-5b0d4c1e-6f0a-4f7e-9a51-2f1f0a7c9d11"
)


def test_opening_an_unread_notification_marks_it_read_on_the_way_to_its_email(client, cast):
    unread = note(cast)
    client.force_login(cast.alice)
    body = client.get("/notifications/").content.decode()
    target = EMAIL_ON_BOBS_PAGE.format(cast.bob.pk)
    assert f'action="/notifications/{unread.pk}/read/"' in body
    assert f'name="next" value="{target}"' in body
    assert "Open Bob Brown: the email</button>" in body

    opened = client.post(f"/notifications/{unread.pk}/read/", {"next": target})
    assert opened.status_code == 302
    assert opened["Location"] == target
    unread.refresh_from_db()
    assert unread.read_at is not None
    assert "data-unread" not in client.get("/clients/").content.decode()


def test_a_read_notification_links_straight_to_its_email(client, cast):
    read = note(cast)
    client.force_login(cast.alice)
    client.post(f"/notifications/{read.pk}/read/")
    body = client.get("/notifications/").content.decode()
    assert f'href="{EMAIL_ON_BOBS_PAGE.format(cast.bob.pk)}">Open Bob Brown: the email</a>' in body


def test_an_open_link_to_another_site_is_not_followed(client, cast):
    unread = note(cast)
    client.force_login(cast.alice)
    opened = client.post(f"/notifications/{unread.pk}/read/", {"next": "https://evil.test/"})
    assert opened["Location"] == "/notifications/"


def test_mark_one_then_all_read(client, cast):
    first, _ = note(cast), note(cast)
    client.force_login(cast.alice)
    client.post(f"/notifications/{first.pk}/read/")
    assert 'data-unread="1"' in client.get("/clients/").content.decode()
    client.post("/notifications/read-all/")
    assert "data-unread" not in client.get("/clients/").content.decode()


def test_nobody_else_sees_or_marks_them(client, cast):
    mine = note(cast)
    client.force_login(cast.charlie)
    assert "Reminder to Bob Brown" not in client.get("/notifications/").content.decode()
    client.post(f"/notifications/{mine.pk}/read/")
    client.force_login(cast.alice)
    assert 'data-unread="1"' in client.get("/clients/").content.decode()


def test_a_notification_opens_the_page_of_the_log_that_holds_its_email(client, cast):
    """Twenty emails a page: the one a notification names may be on an older page."""
    from datetime import timedelta

    from django.utils import timezone
    from django_scopes import scopes_disabled

    from messaging.log.presentation import PAGE_SIZE
    from messaging.models import OutboundEmail
    from tests.factories import OutboundEmailFactory

    with scopes_disabled():
        emails = [OutboundEmailFactory(client=cast.bob) for _ in range(PAGE_SIZE + 3)]
        for age, email in enumerate(emails):  # the first is the oldest
            OutboundEmail.objects.filter(pk=email.pk).update(
                created_at=timezone.now() - timedelta(hours=len(emails) - age)
            )
    oldest = emails[0]
    client.force_login(cast.alice)
    first_page = client.get(f"/clients/{cast.bob.pk}/").content.decode()
    assert f'id="email-{oldest.pk}"' not in first_page  # the control: not on page 1
    opened = client.get(f"/clients/{cast.bob.pk}/", {"email": str(oldest.pk)}).content.decode()
    assert f'id="email-{oldest.pk}"' in opened
    # An id that is not this client's email (or not an id at all) opens the first page.
    for other in ("5b0d4c1e-6f0a-4f7e-9a51-2f1f0a7c9d11", "not-an-id"):
        page = client.get(f"/clients/{cast.bob.pk}/", {"email": other})
        assert page.status_code == 200
        assert f'id="email-{emails[-1].pk}"' in page.content.decode()
