"""The ladder's moves: escalating to a higher stage, and pausing and resuming a stage's clock."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import RuleViolation
from accord.partnership.models import User

from ..models import Escalation, EventType, Pause, Status
from ._base import _audit, _blank, _event, _locked, _require, _touch, today
from .discussions import manager_consulted
from .timescales import _current_period, _end_period, _open_period, _stage, _top_stage, period_due_date

# --------------------------------------------------------------------------- the ladder


def escalation_escalate(
    *,
    actor: User,
    escalation: Escalation,
    reason: str,
    efforts_to_resolve: str = "",
    to_stage: int | None = None,
    skip_reason: str = "",
    expected_version: int | None = None,
) -> Escalation:
    """Move to the next stage (or skip to ``to_stage`` with a reason)."""
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "escalate", escalation)
        partnership = escalation.partnership
        target_number = to_stage if to_stage is not None else escalation.stage + 1
        errors: dict[str, str] = {}
        if _blank(reason):
            errors["reason"] = _("Enter why you are escalating")
        top = _top_stage(partnership)
        if target_number <= escalation.stage:
            errors["to_stage"] = _("Select a later stage than the current one")
        elif target_number > top:
            errors["to_stage"] = _("This escalation is already at the top of the ladder")
        elif target_number > escalation.stage + 1 and _blank(skip_reason):
            errors["skip_reason"] = _("Enter why you are skipping a stage")
        if errors:
            raise ValidationError(errors)
        target = _stage(partnership, target_number)
        if target_number > 1 and not manager_consulted(escalation):
            # Not a slip in the reason given: shown above the form, not under a field.
            raise RuleViolation(
                {
                    NON_FIELD_ERRORS: _(
                        "Record a discussion with the raiser's own manager or safeguarding "
                        "lead before escalating beyond stage 1"
                    )
                },
                code="consult_first",
            )
        # Rule 3 is for entering the formal part of the ladder; a move between formal
        # stages (several at the top) needs only its reason.
        entering_formal = target.is_formal and escalation.formal_at is None
        if entering_formal:
            formal_errors = {}
            if _blank(efforts_to_resolve):
                formal_errors["efforts_to_resolve"] = _(
                    "Enter the evidence of efforts to resolve this at the earlier stages"
                )
            if formal_errors:
                raise RuleViolation(formal_errors, code="evidence_first")

        current = _current_period(escalation)
        if current is not None:
            _end_period(current, partnership)
        period = _open_period(escalation, partnership, target, skip_reason=skip_reason.strip())
        escalation.stage = target.number
        escalation.highest_stage = max(escalation.highest_stage, target.number)
        escalation.stage_started_on = period.started_on
        escalation.due_date = period.due_date
        fields = ["stage", "highest_stage", "stage_started_on", "due_date"]
        if entering_formal:
            escalation.formal_at = clock.now()
            escalation.formal_reason = reason.strip()
            escalation.efforts_to_resolve = efforts_to_resolve.strip()
            fields += ["formal_at", "formal_reason", "efforts_to_resolve"]
            _event(escalation, actor, EventType.FORMALLY_ESCALATED, reason.strip())
        else:
            summary = reason.strip()
            if skip_reason.strip():
                summary += "\n" + _("Stage skipped: %(reason)s") % {"reason": skip_reason.strip()}
            _event(escalation, actor, EventType.ESCALATED, summary)
        _touch(escalation, *fields)
        _audit(actor, escalation, "escalate", to_stage=target.number)
    return escalation


def escalation_pause(
    *, actor: User, escalation: Escalation, reason: str, expected_version: int | None = None
) -> Escalation:
    if _blank(reason):
        raise ValidationError({"reason": _("Enter why the stage is paused")})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "pause", escalation)
        period = _current_period(escalation)
        Pause.objects.create(stage_period=period, paused_on=today(), reason=reason.strip(), paused_by=actor)
        escalation.status = Status.PAUSED
        escalation.due_date = None
        period.due_date = None
        period.save(update_fields=["due_date"])
        _event(escalation, actor, EventType.PAUSED, reason.strip())
        _touch(escalation, "status", "due_date")
        _audit(actor, escalation, "pause")
    return escalation


def escalation_resume(
    *, actor: User, escalation: Escalation, expected_version: int | None = None
) -> Escalation:
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "resume", escalation)
        period = _current_period(escalation)
        period.pauses.filter(resumed_on__isnull=True).update(resumed_on=today())
        period.due_date = period_due_date(period, escalation.partnership)
        period.save(update_fields=["due_date"])
        escalation.status = Status.OPEN
        escalation.due_date = period.due_date
        _event(escalation, actor, EventType.RESUMED)
        _touch(escalation, "status", "due_date")
        _audit(actor, escalation, "resume")
    return escalation
