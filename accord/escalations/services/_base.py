"""The services' common steps: refusals, the row lock, the version, the timeline and the audit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import F
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import (
    DomainError,
    IllegalTransition,
    NotAllowed,
    NotFound,
    RuleViolation,
    StaleVersion,
)
from accord.partnership.models import User

from .. import tallies
from ..models import Escalation, Event, EventType, Status
from ..notices import notify_for_event
from ..policies import refusal_reason, reopen_too_late, user_may

# --------------------------------------------------------------------------- helpers


def today() -> dt.date:
    return clock.today()


def refusal(actor: User, permission: str, escalation: Escalation) -> DomainError | None:
    """Why ``actor`` may not take this action now, or None if they may: not found if they
    may not see it; not allowed for them (403, saying why where a rule does); or not
    allowed from the escalation's current state (an illegal transition, 409)."""
    if not actor.has_perm("escalations.view", escalation):
        return NotFound()
    if actor.has_perm(f"escalations.{permission}", escalation):
        return None
    if permission == "reopen" and escalation.is_past_record:
        return IllegalTransition(
            _(
                "This escalation was brought in from the partnership's earlier log and cannot be "
                "reopened: raise a new one."
            )
        )
    if permission == "reopen" and reopen_too_late(actor, escalation):
        return RuleViolation(
            {
                "reason": _(
                    "An escalation can only be reopened within %(days)s days of closing; raise a new one"
                )
                % {"days": escalation.partnership.reopen_within_days}
            },
            code="reopen_window",
        )
    if not user_may(permission, actor, escalation):
        return NotAllowed(refusal_reason(permission, actor, escalation))
    if permission == "follow_up":
        pending = escalation.follow_ups.filter(answered_at__isnull=True).order_by("due_on").first()
        if pending is not None and escalation.status == Status.RESOLVED:
            return IllegalTransition(
                _("The follow-up is asked on %(date)s, some weeks after the resolution: not before.")
                % {"date": date_format(pending.due_on, "j F Y")}
            )
        return IllegalTransition(
            _("There is no follow-up to answer: it is asked once, some weeks after a resolution.")
        )
    if permission == "end_facilitation":
        return IllegalTransition(
            _("No restorative facilitator is appointed to this escalation: there is nothing to end.")
        )
    return IllegalTransition(
        _("That cannot be done while the escalation is %(status)s at stage %(stage)s.")
        % {"status": escalation.get_status_display().lower(), "stage": escalation.stage}
    )


def _require(actor: User, permission: str, escalation: Escalation) -> None:
    problem = refusal(actor, permission, escalation)
    if problem is not None:
        raise problem


def _locked(escalation: Escalation | int, expected_version: int | None) -> Escalation:
    pk = escalation.pk if isinstance(escalation, Escalation) else escalation
    try:
        current = (
            Escalation.objects.select_for_update(of=("self",))
            .select_related("partnership", "raised_by", "with_practitioner")
            .get(pk=pk)
        )
    except Escalation.DoesNotExist:
        raise NotFound() from None
    if expected_version is not None and current.version != expected_version:
        raise StaleVersion(_("This escalation was changed by someone else while you were working on it."))
    tallies.remember(current)
    return current


def _touch(escalation: Escalation, *fields: str) -> None:
    escalation.version = F("version") + 1
    escalation.save(update_fields=[*fields, "version"])
    escalation.refresh_from_db(fields=["version"])
    # The reports' daily tallies follow the change in the same transaction.
    tallies.escalation_changed(escalation)


# Others told of every timeline event beside the partnership's people (``guests.py``: the
# professionals named by email, each emailed a fresh link), registered as their module loads.
EVENT_LISTENERS: list[Callable[[Event], None]] = []


def _event(escalation: Escalation, actor: User, type_: EventType, summary: str = "") -> Event:
    """Append to the timeline, and write the notifications it causes in the same transaction."""
    event = Event.objects.create(
        escalation=escalation,
        type=type_,
        at=clock.now(),
        actor=actor,
        stage=escalation.stage,
        summary=summary,
    )
    notify_for_event(event)
    for listener in EVENT_LISTENERS:
        listener(event)
    return event


# Each action on an escalation is audited under its own verb.
ACTION_VERBS = {
    "record_discussion": Verb.DISCUSSION_RECORDED,
    "escalate": Verb.ESCALATED,
    "pause": Verb.PAUSED,
    "resume": Verb.RESUMED,
    "pdg_action": Verb.PDG_ACTION,
    "end_facilitation": Verb.FACILITATION_ENDED,
    "commission_response": Verb.RESPONSE_COMMISSIONED,
    "complete_action": Verb.ACTION_COMPLETED,
    "add_party": Verb.PARTY_ADDED,
    "remove_party": Verb.PARTY_REMOVED,
    "reassign": Verb.REASSIGNED,
    "resolve": Verb.RESOLVED,
    "follow_up": Verb.FOLLOWED_UP,
    "withdraw": Verb.WITHDRAWN,
    "reopen": Verb.REOPENED,
    "add_details": Verb.ESCALATION_CHANGED,
    "add_view": Verb.ESCALATION_CHANGED,
    "raise_again": Verb.RAISED_AGAIN,
}


def _audit(actor: User, escalation: Escalation, action: str, **payload: Any) -> None:
    audit_record(
        actor=actor,
        verb=ACTION_VERBS[action],
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"action": action, "reference": escalation.reference, **payload},
    )


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def _or_list(numbers: Sequence[int]) -> str:
    """1, 2 or 3"""
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " " + _("or") + " " + words[-1]
