"""Accord's own deployment checks, run by `manage.py check --deploy`."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register

# The lookup hashes' key must be at least as long as the hash it keys (HMAC-SHA256).
LOOKUP_KEY_MIN_BYTES = 32


@register(Tags.security, deploy=True)
def encryption_keys(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    if getattr(settings, "ACCORD_KEYS_DERIVED", False):
        errors.append(
            Error(
                "The encryption or lookup key is derived from SECRET_KEY (ACCORD_DERIVE_DEV_KEYS=1 or "
                "DEBUG), which is for development only.",
                hint="Set ACCORD_ENCRYPTION_KEYS and ACCORD_LOOKUP_KEY (README, Configuration).",
                id="accord.E001",
            )
        )
    if len(settings.ACCORD_LOOKUP_KEY.encode()) < LOOKUP_KEY_MIN_BYTES:
        errors.append(
            Error(
                f"ACCORD_LOOKUP_KEY is shorter than {LOOKUP_KEY_MIN_BYTES} bytes: children's case "
                "references hashed with it could be found by guessing.",
                hint='Generate one with: python -c "import secrets; print(secrets.token_hex(32))"',
                id="accord.E002",
            )
        )
    return errors
