import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import env


def load_settings(**overrides: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **overrides}
    code = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("DATABASE_URL", "mysql://db/x", "DATABASE_URL must be a postgres"),
        ("DATABASE_URL", "sqlite:///db.sqlite3", "DATABASE_URL must be a postgres"),
        ("CELERY_BROKER_URL", "http://broker", "CELERY_BROKER_URL must be a URL"),
        ("EMAIL_ESP", "sparkpost", "EMAIL_ESP must be one of"),
        ("ANYMAIL_WEBHOOK_SECRET", "no-colon-here", "ANYMAIL_WEBHOOK_SECRET must be user:password"),
        ("CONN_MAX_AGE", "soon", "CONN_MAX_AGE must be a whole number"),
        ("SESSION_MAX_HOURS", "13", "SESSION_MAX_HOURS may be at most 12"),
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key", "FIELD_ENCRYPTION_KEYS"),
    ],
)
def test_it_refuses_bad_values_loudly(name, value, words):
    result = load_settings(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert words in result.stderr


def test_it_needs_a_postgresql_server():
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    code = "from django.conf import settings; settings.DATABASES"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DATABASE_URL must be set" in result.stderr


def test_production_needs_the_support_address():
    """Removal requests are the messages sent to it: a placeholder would silently file none."""
    environment = {k: v for k, v in os.environ.items() if k != "SUPPORT_EMAIL"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; settings.DEBUG"],
        env={**environment, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SUPPORT_EMAIL must be set" in result.stderr


def test_production_needs_a_secret_key():
    result = load_settings(DEBUG="false", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_is_off_and_cookies_secure_by_default():
    environment = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    code = "from django.conf import settings; print(settings.DEBUG, settings.SESSION_COOKIE_SECURE)"
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("YES", True), ("off", False)])
def test_booleans_accept_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env.env_bool("SOME_FLAG", not expected) is expected


def test_several_webhook_secrets_are_accepted_for_rotation(monkeypatch):
    monkeypatch.setenv("SOME_SECRET", "old:one, new:two")
    assert env.env_basic_auth_secrets("SOME_SECRET") == ["old:one", "new:two"]


def test_a_negative_number_is_refused(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "-5")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env.env_int("SOME_NUMBER", 1)
