"""The cast: Alice works at Alice's clinic; Charlie works at another clinic and must never see
Alice's clients."""

from types import SimpleNamespace

import pytest
from django_scopes import scope, scopes_disabled
from hypothesis import settings as hypothesis_settings

from clinic.models import Membership
from tests.factories import ClientFactory, ClinicFactory, MembershipFactory, UserFactory
from tests.processes import start_worker, worker_env  # noqa: F401  (fixtures)

# No timed assertions: hypothesis's per-example deadline (200 ms by default) fails a correct
# test on a busy machine. Speed is measured by the benchmarks in bench/, never here.
hypothesis_settings.register_profile("clinicmail", deadline=None)
hypothesis_settings.load_profile("clinicmail")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def login_throttling_off(settings):
    """Django's test client logs in without a request, which django-axes refuses; the
    throttling itself is tested with it switched back on."""
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def no_drain_requested_before():
    """A drain requested by an earlier test, on a broker no worker reads, must not stand in for
    the drains this test's posts request."""
    from messaging.tracking.receive import drain_requests

    drain_requests.forget()


@pytest.fixture(autouse=True)
def api_throttles_forgotten():
    """The API's throttles count in Redis, by address: every test's requests come from the test
    client's address, and an earlier test's count must not answer this one's requests 429."""
    from django.core.cache import cache

    from messaging.log.throttles import ClientAddressThrottle

    cache.delete(ClientAddressThrottle.key_for("127.0.0.1"))


@pytest.fixture
def cast(db):
    with scopes_disabled():
        alice_clinic = ClinicFactory(
            name="Alice Physio", slug="alice-physio", time_zone="Europe/London"
        )
        charlie_clinic = ClinicFactory(
            name="Charlie Osteo", slug="charlie-osteo", time_zone="Australia/Sydney"
        )
        alice = MembershipFactory(clinic=alice_clinic, user__email="alice@alice.test").user
        alice_admin = MembershipFactory(
            clinic=alice_clinic, user__email="boss@alice.test", role=Membership.Role.CLINIC_ADMIN
        ).user
        charlie = MembershipFactory(clinic=charlie_clinic, user__email="charlie@charlie.test").user
        support = UserFactory(email="support@platform.test", is_superuser=True, is_staff=True)
        bob = ClientFactory(clinic=alice_clinic, name="Bob Brown", email="bob@example.test")
        dana = ClientFactory(clinic=charlie_clinic, name="Dana Dunn", email="dana@example.test")
    return SimpleNamespace(
        alice_clinic=alice_clinic,
        charlie_clinic=charlie_clinic,
        alice=alice,
        alice_admin=alice_admin,
        charlie=charlie,
        support=support,
        bob=bob,
        dana=dana,
    )


@pytest.fixture
def in_alice_clinic(cast):
    with scope(clinic=cast.alice_clinic):
        yield cast


@pytest.fixture
def unscoped():
    with scopes_disabled():
        yield


@pytest.fixture
def esp_simulator(settings):
    """The local Mailgun simulator, with anymail's real Mailgun backend pointed at it."""
    from espsim.server import start

    with start(
        port=0,
        api_key=settings.ANYMAIL["MAILGUN_API_KEY"],
        signing_key=settings.ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"],
        delay_scale=0.02,
    ) as simulator:
        settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
        settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_API_URL": simulator.api_url}
        yield simulator


@pytest.fixture
def eager_celery():
    from config.celery import app

    # Retries run at once, in the test; their outcome is read from the database.
    # (The app reads Django settings under the CELERY_ namespace, so keys carry the prefix.)
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=False)
    yield app
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_TASK_EAGER_PROPAGATES=True)


class Clock:
    """Django's clock, moved by the test: timezone.now() answers `at` until moved again."""

    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at

    def move_to(self, at) -> None:
        self.at = at

    def move_by(self, delta) -> None:
        self.at += delta


@pytest.fixture
def clock(monkeypatch):
    from django.utils import timezone

    moved = Clock(timezone.now())
    monkeypatch.setattr(timezone, "now", moved)
    return moved


@pytest.fixture(autouse=True)
def sns_trusts_the_tests_certificate(settings):
    """SNS messages signed by tests/signing.py are trusted, from its topic, as Amazon's are."""
    from tests.signing import TEST_TOPIC, sns_certificates

    settings.AMAZON_SNS_CERT_URLS = [sns_certificates().prefix]
    settings.AMAZON_SNS_TOPICS = [TEST_TOPIC]
