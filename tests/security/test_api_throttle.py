"""The API is throttled per address, before any token is read, and per token; the counts are
kept in Redis, shared by every web process."""

import os
import secrets
import subprocess
import sys

import pytest
import redis
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from messaging.log.throttles import ClientAddressThrottle

ADDRESSES = (
    "127.0.0.1",
    "203.0.113.9",
    "198.51.100.7",
    "192.0.2.1",
    "192.0.2.2",
    "192.0.2.3",
    "6.6.6.6",
    "2001:db8:1:2::",
    "2001:db8:1:3::",
)


@pytest.fixture(autouse=True)
def counts_forgotten():
    """Each test starts with no request counted, whatever ran before it."""
    cache.delete_many([ClientAddressThrottle.key_for(address) for address in ADDRESSES])
    yield
    cache.delete_many([ClientAddressThrottle.key_for(address) for address in ADDRESSES])


def api_with(token: str | None = None, **extra) -> APIClient:
    api = APIClient(**extra)
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return api


def test_guessing_tokens_from_one_address_is_soon_429(db, settings):
    assert settings.API_RATE_PER_IP == "240/min"
    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    answers = []
    for _ in range(300):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token {secrets.token_hex(32)}")
        answers.append(guesser.get("/api/clients"))
    statuses = [answer.status_code for answer in answers]
    assert statuses[:240] == [401] * 240  # each wrong token was read and refused
    assert statuses[240:] == [429] * 60
    assert 0 < int(answers[-1]["Retry-After"]) <= 60
    # Another address is not held back by this one.
    assert APIClient(REMOTE_ADDR="198.51.100.7").get("/api/clients").status_code == 401


def test_a_good_token_is_refused_too_once_its_address_is_over(cast, settings):
    settings.API_RATE_PER_IP = "10/min"
    _, token = AuthToken.objects.create(user=cast.alice)
    for _ in range(10):
        api_with(f"{secrets.token_hex(32)}").get("/api/clients")
    refused = api_with(token).get("/api/clients")
    assert refused.status_code == 429
    assert "Retry-After" in refused


def test_a_token_over_its_rate_is_429_and_other_tokens_go_on(cast, settings):
    assert settings.API_RATE_PER_TOKEN == "120/min"
    _, busy = AuthToken.objects.create(user=cast.alice)
    _, other = AuthToken.objects.create(user=cast.alice)
    api = api_with(busy)
    statuses = [api.get("/api/clients").status_code for _ in range(121)]
    assert statuses == [200] * 120 + [429]
    over = api.get("/api/clients")
    assert over.status_code == 429
    assert 0 < int(over["Retry-After"]) <= 60
    assert api_with(other).get("/api/clients").status_code == 200


def test_a_forged_x_forwarded_for_is_ignored_without_proxies(db, settings):
    settings.API_RATE_PER_IP = "5/min"
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT == 0
    statuses = [
        APIClient(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
        .get("/api/clients")
        .status_code
        for n in range(6)
    ]
    assert statuses == [401] * 5 + [429]


def test_behind_one_proxy_the_address_it_saw_is_counted(db, settings):
    """The control for the test above: with a proxy of ours in front, the address it appends is
    the client's, so each of these counts on its own."""
    settings.API_RATE_PER_IP = "5/min"
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = [
        APIClient(REMOTE_ADDR="192.0.2.2", HTTP_X_FORWARDED_FOR=f"6.6.6.6, 192.0.2.{n}")
        .get("/api/clients")
        .status_code
        for n in (1, 3) * 3
    ]
    assert statuses == [401] * 6
    # Both clients' counts: 3 each, under 5; the forged first hop counted nothing.
    for address in ("192.0.2.1", "192.0.2.3"):
        assert len(cache.get(ClientAddressThrottle.key_for(address))) == 3
    for address in ("6.6.6.6", "192.0.2.2"):
        assert cache.get(ClientAddressThrottle.key_for(address)) is None


def test_the_counts_are_kept_in_redis(db, settings):
    APIClient(REMOTE_ADDR="203.0.113.9").get("/api/clients")
    server = redis.Redis.from_url(settings.REDIS_URL)
    key = cache.make_key(ClientAddressThrottle.key_for("203.0.113.9"))
    assert server.exists(key)
    assert 0 < server.ttl(key) <= 60


@pytest.mark.parametrize("rate", ["lots", "100/fortnight", "/min"])
def test_a_bad_rate_stops_the_process_from_starting(rate):
    result = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.REST_FRAMEWORK"],
        env={**os.environ, "API_RATE_PER_IP": rate},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "API_RATE_PER_IP must look like 120/min" in result.stderr


def test_an_ipv6_client_is_counted_by_its_64_network(db, settings):
    """One line's /64 holds 2**64 addresses: taking a fresh one per guess changes nothing."""
    settings.API_RATE_PER_IP = "5/min"
    statuses = [
        APIClient(REMOTE_ADDR=f"2001:db8:1:2::{n:x}").get("/api/clients").status_code
        for n in range(1, 8)
    ]
    assert statuses == [401] * 5 + [429] * 2
    # The next /64 is another client.
    assert APIClient(REMOTE_ADDR="2001:db8:1:3::1").get("/api/clients").status_code == 401
