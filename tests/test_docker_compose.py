import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def test_compose_file_describes_every_service_with_a_health_check():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, name


def test_app_services_restart_and_carry_what_production_requires():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["restart"] == "unless-stopped", name
        environment = services[name]["environment"]
        for required in (
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "ANYMAIL_WEBHOOK_SECRET",
            "SUPPORT_EMAIL",
        ):
            assert ":?" in environment[required], (name, required)
    # Behind our proxy only: nobody else may write the X-Forwarded-For the app trusts.
    assert all(port.startswith("127.0.0.1:") for port in services["web"]["ports"])
    health = " ".join(services["web"]["healthcheck"]["test"])
    assert "X-Forwarded-Proto" in health and "ALLOWED_HOSTS" in health


def test_app_services_wait_for_healthy_databases():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis"]["condition"] == "service_healthy", name


@pytest.mark.skipif(
    subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode
    != 0
    if shutil.which("docker")
    else True,
    reason="the docker compose plugin is not installed here",
)
def test_docker_compose_accepts_the_file():
    env = {
        "SECRET_KEY": "x",
        "FIELD_ENCRYPTION_KEYS": "x",
        "SITE_URL": "https://clinicmail.example",
        "SUPPORT_EMAIL": "support@clinicmail.example",
        "ANYMAIL_WEBHOOK_SECRET": "a:b",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], check=True, env=env)
