"""GOV.UK Notify's settings, checked as Accord starts: with a Notify key set, every kind of
notice and the daily digest need a template, or the outbox would hold notices it can never
send. The web server, the worker and the cron command refuse to start without them
(``refuse_to_start_without_notify_templates``), and ``manage.py check`` says the same."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .channels import DIGEST
from .models import kind_codes

_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# A Notify API key is its name, the service's id and the secret: name-<uuid>-<uuid>.
_API_KEY = re.compile(rf".+-{_UUID}-{_UUID}", re.IGNORECASE)
_TEMPLATE_ID = re.compile(rf"{_UUID}", re.IGNORECASE)


def template_variable(template: str) -> str:
    """The environment variable that names a template's id (``ACCORD_NOTIFY_TEMPLATE_DIGEST``)."""
    return f"{settings.NOTIFY_TEMPLATE_VARIABLE_PREFIX}{template.upper()}"


def templates_needed() -> list[str]:
    """A template for each kind of notice the apps registered, and one for the digest."""
    return [*kind_codes(), DIGEST]


@register(Tags.compatibility)
def notify_settings(app_configs=None, **kwargs) -> list[Error | Warning]:
    if not settings.ACCORD_NOTIFY_API_KEY:
        return []
    problems: list[Error | Warning] = []
    if not _API_KEY.fullmatch(settings.ACCORD_NOTIFY_API_KEY.strip()):
        problems.append(
            Error(
                "ACCORD_NOTIFY_API_KEY is not a GOV.UK Notify API key (its name, then two ids).",
                hint="Copy the whole key from Notify's API integration page (docs/notify.md).",
                id="accord.E101",
            )
        )
    templates = settings.ACCORD_NOTIFY_TEMPLATES
    missing = [template_variable(t) for t in templates_needed() if t not in templates]
    if missing:
        problems.append(
            Error(
                "ACCORD_NOTIFY_API_KEY is set, so the outbox sends through GOV.UK Notify, but these "
                f"templates are not named: {', '.join(missing)}.",
                hint="Set each to the id of its email template in Notify (docs/notify.md lists them).",
                id="accord.E102",
            )
        )
    malformed = [
        template_variable(t) for t, value in sorted(templates.items()) if not _TEMPLATE_ID.fullmatch(value)
    ]
    if malformed:
        problems.append(
            Error(
                f"These are not GOV.UK Notify template ids: {', '.join(malformed)}.",
                hint="A template's id is shown on its page in Notify (Copy template ID).",
                id="accord.E103",
            )
        )
    unknown = [template_variable(t) for t in sorted(templates) if t not in templates_needed()]
    if unknown:
        problems.append(
            Warning(
                f"No notice of Accord's uses these templates: {', '.join(unknown)}.",
                hint="Check their names against docs/notify.md.",
                id="accord.W101",
            )
        )
    return problems


def refuse_to_start_without_notify_templates() -> None:
    """Called as the web server, the worker and the cron command start: a Notify key whose
    templates are missing or malformed stops them, with the reasons."""
    errors = [p for p in notify_settings() if isinstance(p, Error)]
    if errors:
        raise ImproperlyConfigured(
            "Accord will not start with these GOV.UK Notify settings:\n"
            + "\n".join(f"- {e.msg} ({e.id}) {e.hint}" for e in errors)
        )
