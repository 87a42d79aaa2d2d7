"""Production settings pass Django's deployment checks, and every response carries HTTPS-only and
Content-Security-Policy headers once DEBUG is off."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def production_environment(**overrides: str) -> dict[str, str]:
    """What an operator sets for a real deployment (docs/operations.md), on top of the test
    run's database and Redis."""
    environment = {k: v for k, v in os.environ.items() if k != "SECURE_SSL_REDIRECT"}
    environment.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="clinicmail.example",
        SITE_URL="https://clinicmail.example",
        FIELD_ENCRYPTION_KEYS="41ijqSX0Am28oruPAran9udiNWmE7UiPWm3h6KduNzo=",
        ANYMAIL_WEBHOOK_SECRET=f"esp:{secrets.token_urlsafe(24)}",
        MAILGUN_WEBHOOK_SIGNING_KEY=secrets.token_urlsafe(24),
        AMAZON_SNS_TOPICS="arn:aws:sns:eu-west-1:123456789012:clinicmail-events",
        SUPPORT_EMAIL="support@clinicmail.example",
    )
    environment.update(overrides)
    return environment


def deploy_check(**overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks():
    result = deploy_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_the_deployment_checks_would_see_plain_http_allowed():
    result = deploy_check(SECURE_SSL_REDIRECT="false")
    assert result.returncode != 0
    assert "security.W008" in result.stdout + result.stderr


def test_responses_tell_browsers_https_only(client, db):
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == ("max-age=31536000; includeSubDomains; preload")


def test_plain_http_is_sent_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


@pytest.mark.parametrize(
    "directive",
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ],
)
def test_every_page_carries_the_content_security_policy(client, db, directive):
    policy = client.get("/accounts/login/", secure=True)["Content-Security-Policy"]
    assert directive in [part.strip() for part in policy.split(";")]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_as_an_unprivileged_user():
    users = [argument for name, argument in dockerfile_instructions() if name == "USER"]
    assert users, "the Dockerfile never leaves root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert "useradd" in (ROOT / "Dockerfile").read_text()


@pytest.mark.parametrize(
    "kept_out",
    [".git", ".venv", ".postgres", ".celery", "**/__pycache__", ".pytest_cache", "mutants", "docs"],
)
def test_the_build_context_leaves_out_history_environments_and_outputs(kept_out):
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert kept_out in patterns
    assert not any(pattern.startswith("!") for pattern in patterns)  # nothing let back in


def test_with_debug_on_the_policy_is_reported_not_enforced():
    code = (
        "from django.conf import settings; "
        "print(settings.CONTENT_SECURITY_POLICY,"
        " bool(settings.CONTENT_SECURITY_POLICY_REPORT_ONLY),"
        " settings.SECURE_SSL_REDIRECT, settings.SECURE_HSTS_SECONDS)"
    )
    environment = {**os.environ, "DEBUG": "true"}
    environment.pop("SECURE_SSL_REDIRECT", None)
    result = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.split() == ["None", "True", "False", "0"], result.stderr


def lock_pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", text, re.MULTILINE))


def test_the_image_installs_only_hashed_pins_that_agree_with_the_development_lock():
    runs = [argument for name, argument in dockerfile_instructions() if name == "RUN"]
    assert any("--require-hashes -r requirements-deploy.lock" in run for run in runs)
    assert any("--no-deps ." in run for run in runs)
    deploy, development = lock_pins("requirements-deploy.lock"), lock_pins("requirements.lock")
    assert {"django", "celery", "django-anymail"} <= set(deploy)
    assert "pytest" not in deploy  # the dev extra stays out of the image
    disagreeing = {
        package: (version, development.get(package))
        for package, version in deploy.items()
        if development.get(package) != version
    }
    assert disagreeing == {}
