"""The partnership's own settings (front door, calendar, reporting year, reopening window,
retention, suppression threshold, follow-up) and what it publishes about Accord (its
accessibility statement and privacy notice). The settings pages are one caller; every rule
is here.

Each takes ``actor=`` and refuses anyone but the partnership's business unit (the
deployment's administrators may act for any partnership), checks what it is given, writes
in one transaction with its own audit verb naming the fields changed (never their values),
and follows the change where it reaches escalations: a new calendar moves open stages' due
dates, through the escalations app's handler (``register_calendar_handler``), registered
when Django starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.records import apply_changes

from ..calendar import calendar_problem
from ..models import Partnership, PublicStatement, User
from .common import by_field, changed_fields, require_business_unit

# The partnership's own settings the business unit keeps (its name, short name and
# reference prefix are the deployment's: references and addresses depend on them).
PARTNERSHIP_FIELDS = (
    "works_in_wales",
    "front_door_name",
    "front_door_name_cy",
    "front_door_phone",
    "front_door_form_url",
    "emergency_wording",
    "emergency_wording_cy",
    "holiday_country",
    "holiday_subdivision",
    "reporting_year_start_month",
    "reopen_within_days",
    "retention_days_after_closure",
    "suppression_threshold",
    "follow_up_weeks",
    "facilitators_see_children",
    "guest_idle_days",
    "safeguards",
)
CALENDAR_FIELDS = frozenset({"holiday_country", "holiday_subdivision"})

# What the escalations app does when the calendar changes (move the open stages' due dates
# with it): registered by it when Django starts.
_calendar_changed: list[Callable[..., Any]] = []


def register_calendar_handler(handler: Callable[..., Any]) -> None:
    _calendar_changed[:] = [handler]


# Whether the partnership holds any escalation, raised in Accord or brought in from its old
# log: registered by the escalations app when Django starts.
_holds_escalations: list[Callable[[Partnership], bool]] = []


def register_records_check(check: Callable[[Partnership], bool]) -> None:
    _holds_escalations[:] = [check]


def reporting_year_refusal(partnership: Partnership) -> str:
    """Why the first month of the reporting year may not change, or "" if it may: once any
    escalation is recorded, readers who see small counts hidden (the executive) have read, or
    may read, whole reporting years cut at the old month; years cut at a new month would
    overlap them, and the difference of two overlapping years is a count of the months between,
    which neither report protects (docs/decisions/0015-report-periods.md)."""
    if not any(check(partnership) for check in _holds_escalations):
        return ""
    return _(
        "The reporting year's first month cannot change once escalations are recorded: the "
        "executive reads whole reporting years with small counts hidden, and years starting in "
        "another month would overlap the years already reported, so that setting the two beside "
        "each other could give away a hidden count."
    )


# --------------------------------------------------------------------------- the partnership


def partnership_update(*, actor: User | None, partnership: Partnership, data: dict[str, Any]) -> list[str]:
    """Change the partnership's own settings (``PARTNERSHIP_FIELDS``): answer the fields that
    changed. A new bank-holiday calendar moves the open stages' due dates with it."""
    require_business_unit(actor, partnership)
    unknown = set(data) - set(PARTNERSHIP_FIELDS)
    if unknown:
        raise ValidationError(_("These are not settings the business unit keeps: %s") % ", ".join(unknown))
    with transaction.atomic():
        locked = Partnership.objects.select_for_update(no_key=True).get(pk=partnership.pk)
        changed = changed_fields(locked, data, PARTNERSHIP_FIELDS)
        if not changed:
            return []
        if "reporting_year_start_month" in changed:
            refusal = reporting_year_refusal(locked)
            if refusal:
                raise ValidationError({"reporting_year_start_month": refusal})
        for name in changed:
            setattr(locked, name, data[name])
        if "holiday_country" in changed or "holiday_subdivision" in changed:
            problem = calendar_problem(locked.holiday_country, locked.holiday_subdivision)
            if problem:
                raise ValidationError(problem)
        try:
            locked.full_clean(exclude=["name", "slug", "reference_prefix"])
        except ValidationError as error:
            raise by_field(error) from error
        locked.save(update_fields=changed)
        audit_record(
            actor=actor,
            verb=Verb.PARTNERSHIP_SETTINGS_CHANGED,
            target=locked,
            partnership_id=locked.pk,
            payload={"fields": changed},
        )
    for name in changed:
        setattr(partnership, name, data[name])
    if CALENDAR_FIELDS & set(changed):
        for handler in _calendar_changed:
            handler(partnership=locked)
    return changed


STATEMENT_FIELDS = (
    "compliance",
    "known_issues",
    "known_issues_cy",
    "contact_email",
    "contact_phone",
    "last_tested",
    "last_reviewed",
    "privacy_notice",
    "privacy_notice_cy",
    "data_protection_contact",
)


def statement_save(*, actor: User | None, partnership: Partnership, data: dict[str, Any]) -> list[str]:
    """What the partnership publishes about Accord: its accessibility statement (in GOV.UK's
    sample form) and its privacy notice, open to anyone. Answers the fields changed."""
    require_business_unit(actor, partnership)
    with transaction.atomic():
        statement, _created = PublicStatement.objects.select_for_update().get_or_create(
            partnership=partnership
        )
        wanted = {name: data[name] for name in STATEMENT_FIELDS if name in data}
        for name in wanted:
            setattr(statement, name, wanted[name])
        try:
            statement.full_clean(exclude=["partnership"])
        except ValidationError as error:
            raise by_field(error) from error
        statement.refresh_from_db()
        changed = apply_changes(statement, wanted)
        if changed:
            audit_record(
                actor=actor,
                verb=Verb.STATEMENT_CHANGED,
                target=statement,
                partnership_id=partnership.pk,
                payload={"fields": changed},
            )
    return changed
