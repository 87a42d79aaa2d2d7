"""Secrets kept in the database encrypted at rest (a clinic's SMTP password), with keys that are
not SECRET_KEY: `FIELD_ENCRYPTION_KEYS`, newest first, so a key can be rotated (cryptography's
MultiFernet encrypts with the first and decrypts with any)."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set to encrypt stored secrets.")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(plain: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS: the key it was "
            "encrypted with is missing from the list."
        ) from None


class EncryptedTextField(models.TextField):
    """Text that Python code reads and writes in clear and the database holds encrypted. An empty
    value is stored empty, so "no password" stays visible as such."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value
