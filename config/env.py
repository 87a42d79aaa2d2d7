"""Strict readers of the environment: a bad value raises ImproperlyConfigured, never a default."""

import os
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None else value


def env_required(name: str, why: str) -> str:
    value = _raw(name)
    if value is None:
        raise ImproperlyConfigured(f"{name} must be set: {why}")
    return value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def env_percent(name: str, default: float) -> float:
    """A percentage, 0 to 100 ("4" or "0.08"), as a number of percent."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a percentage such as 4 or 0.08, not {value!r}"
        ) from None
    if not 0 < number <= 100:
        raise ImproperlyConfigured(f"{name} must be above 0 and at most 100, not {number}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def env_choices(name: str, choices: tuple[str, ...]) -> list[str]:
    """A comma-separated list, each item one of `choices`; unset: none."""
    values = env_list(name, [])
    wrong = [value for value in values if value not in choices]
    if wrong:
        raise ImproperlyConfigured(
            f"{name} may list only {', '.join(choices)}, not {', '.join(map(repr, wrong))}"
        )
    return values


def env_database(name: str, why: str) -> dict:
    """A postgres:// URL; a server on a Unix socket is named by `?host=/its/folder`."""
    url = env_required(name, why)
    scheme = urlsplit(url).scheme
    if scheme not in ("postgres", "postgresql"):
        raise ImproperlyConfigured(f"{name} must be a postgres:// URL, not {scheme!r}")
    return environ.Env.db_url_config(url)


def env_url(name: str, default: str | None, schemes: tuple[str, ...]) -> str | None:
    value = env_str(name, default)
    if value is not None and urlsplit(value).scheme not in schemes:
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}"
        )
    return value


def env_basic_auth_secrets(name: str) -> list[str]:
    secrets = env_list(name, [])
    for secret in secrets:
        user, _, password = secret.partition(":")
        if not user or not password:
            raise ImproperlyConfigured(f"{name} must be user:password (comma-separated to rotate)")
    return secrets
