"""Accord's own deployment checks, run by `manage.py check --deploy`."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection

# A key of a keyed hash must be at least as long as the hash it keys (HMAC-SHA256).
LOOKUP_KEY_MIN_BYTES = 32


@register(Tags.security, deploy=True)
def encryption_keys(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    if getattr(settings, "ACCORD_KEYS_DERIVED", False):
        errors.append(
            Error(
                "An encryption, lookup or audit key is derived from SECRET_KEY (ACCORD_DERIVE_DEV_KEYS=1 or "
                "DEBUG), which is for development only.",
                hint="Set ACCORD_ENCRYPTION_KEYS, ACCORD_LOOKUP_KEY and ACCORD_AUDIT_KEY (README, Configuration).",
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
    if len(settings.ACCORD_AUDIT_KEY.encode()) < LOOKUP_KEY_MIN_BYTES:
        errors.append(
            Error(
                f"ACCORD_AUDIT_KEY is shorter than {LOOKUP_KEY_MIN_BYTES} bytes: the audit trail's chain "
                "could be rewritten by guessing it.",
                hint='Generate one with: python -c "import secrets; print(secrets.token_hex(32))"',
                id="accord.E003",
            )
        )
    return errors


def refuse_to_serve_with_weak_keys() -> None:
    """Called as the server and the worker start (``config/wsgi.py``, ``run_worker``,
    ``send_due_reminders``): with ``DEBUG`` off, keys derived from
    ``SECRET_KEY`` or too short stop it, with the reasons, rather than serve children's
    records under them (``check --deploy`` says the same, but nothing made a deployment run
    it)."""
    if settings.DEBUG or not getattr(settings, "ACCORD_REFUSE_WEAK_KEYS", True):
        return
    errors = encryption_keys()
    if errors:
        raise ImproperlyConfigured(
            "Accord will not serve with DEBUG off and these keys:\n"
            + "\n".join(f"- {e.msg} ({e.id}) {e.hint}" for e in errors)
        )


@register(Tags.database, deploy=True)
def audit_table_owner(app_configs=None, databases=None, **kwargs) -> list[Warning]:
    """On PostgreSQL, the role Accord runs as should not own the audit table: its owner can
    switch off the triggers that keep the trail append-only. A database check, so run by
    `check --deploy --database default` (and by migrate)."""
    if connection.vendor != "postgresql" or not databases or "default" not in databases:
        return []
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_get_userbyid(relowner) = current_user FROM pg_class WHERE oid = 'audit_auditevent'::regclass"
            )
            row = cursor.fetchone()
    except DatabaseError:
        return []  # no database yet (or not migrated): nothing to say of its owner
    if row and row[0]:
        return [
            Warning(
                "Accord is connected to PostgreSQL as the owner of the audit table, which can switch off the "
                "triggers that refuse changes to it.",
                hint="Run Accord as a role that does not own its tables (README, 'A database role that cannot "
                "rewrite the audit trail').",
                id="accord.W001",
            )
        ]
    return []
