"""Encryption at rest for the most sensitive data: children's identifiers, the private
reflection, draft answers and evidence documents.

Keys come from the environment: ``ACCORD_ENCRYPTION_KEYS`` is a comma-separated list
of Fernet keys, newest first. Everything is encrypted with the first; any of them
decrypts, so a key can be rotated in (``manage.py rotate_encryption_keys``) without
downtime. ``ACCORD_LOOKUP_KEY`` keys the hashes that allow an exact-match search
(for example by an agency's case reference) without decrypting anything.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

MARKER = "enc1:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("ACCORD_ENCRYPTION_KEYS is empty.")
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"ACCORD_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}"
        ) from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ACCORD_ENCRYPTION_KEYS))


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    return fernet().decrypt(token)


def encrypt_text(value: str) -> str:
    return MARKER + fernet().encrypt(value.encode()).decode()


def decrypt_text(value: str) -> str:
    if not value.startswith(MARKER):
        return value  # written before encryption was switched on
    try:
        return fernet().decrypt(value[len(MARKER) :].encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A value cannot be decrypted with any key in ACCORD_ENCRYPTION_KEYS."
        ) from None


def rotate_text(value: str) -> str:
    if not value or not value.startswith(MARKER):
        return encrypt_text(value) if value else value
    return MARKER + fernet().rotate(value[len(MARKER) :].encode()).decode()


def lookup_hash(value: str) -> str:
    """A keyed hash of a normalised value, for exact-match lookups without decrypting."""
    normalised = " ".join((value or "").split()).upper()
    if not normalised:
        return ""
    return hmac.new(settings.ACCORD_LOOKUP_KEY.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def derive_key(secret: str, purpose: str) -> str:
    """A stable Fernet key derived from a secret (used for development and tests only)."""
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


class EncryptedTextField(models.TextField):
    """Text stored encrypted; read back as plain text. Not searchable or sortable."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))


class EncryptedJSONField(models.TextField):
    """A JSON value stored encrypted."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return json.loads(decrypt_text(value))

    def to_python(self, value: Any):
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value):
        return encrypt_text(json.dumps(value if value is not None else {}, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))


class EncryptedDateField(models.TextField):
    """A date stored encrypted (as ISO text)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return None
        import datetime as dt

        return dt.date.fromisoformat(decrypt_text(value))

    def to_python(self, value):
        import datetime as dt

        if isinstance(value, dt.date) or value is None:
            return value
        return dt.date.fromisoformat(value) if value else None

    def get_prep_value(self, value):
        if value is None or value == "":
            return None
        return encrypt_text(value.isoformat() if hasattr(value, "isoformat") else str(value))
