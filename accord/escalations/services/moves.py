"""The ladder's moves: escalating to a higher stage, and pausing and resuming a stage's clock."""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import RuleViolation
from accord.partnership.models import User
from accord.partnership.protocol import ladder_of

from ..models import Escalation, EventType, Pause, Status
from ._base import _audit, _blank, _event, _locked, _require, _touch, today
from .discussions import manager_consulted
from .raising import MISSING, TEXT_ANSWERS
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
    answers: dict[str, str] | None = None,
) -> Escalation:
    """Move to the next stage (or skip to ``to_stage`` with a reason).

    The stage entered asks for its answers (``Ladder.required_to_enter``: the protocol's,
    and rule 3's for a formal stage); ``answers`` gives or corrects any of them (what is
    known already counts), and a refusal names each one still missing."""
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
        entering_formal = target.is_formal and escalation.formal_at is None
        given = _answers_given(actor, escalation, answers or {}, efforts_to_resolve, entering_formal)
        _refuse_missing_answers(escalation, target_number, given, entering_formal)
        changed: list[str] = []
        for name, value in given.items():
            if value and value != getattr(escalation, name):
                setattr(escalation, name, value)
                changed.append(name)

        current = _current_period(escalation)
        if current is not None:
            _end_period(current, partnership)
        period = _open_period(escalation, partnership, target, skip_reason=skip_reason.strip())
        escalation.stage = target.number
        if target.number > escalation.highest_stage:
            # Beyond any stage it reached, a removed one too: the figures count this one.
            escalation.highest_stage, escalation.highest_stage_gone = target.number, ""
        escalation.stage_started_on = period.started_on
        escalation.due_date = period.due_date
        fields = ["stage", "highest_stage", "highest_stage_gone", "stage_started_on", "due_date"]
        fields += [name for name in changed if name not in fields]
        if entering_formal:
            escalation.formal_at = clock.now()
            escalation.formal_reason = reason.strip()
            fields += ["formal_at", "formal_reason"]
            _event(escalation, actor, EventType.FORMALLY_ESCALATED, reason.strip())
        else:
            summary = reason.strip()
            if skip_reason.strip():
                summary += "\n" + _("Stage skipped: %(reason)s") % {"reason": skip_reason.strip()}
            _event(escalation, actor, EventType.ESCALATED, summary)
        _touch(escalation, *fields)
        _audit(actor, escalation, "escalate", to_stage=target.number, answered=sorted(changed))
    return escalation


def _answers_given(
    actor: User, escalation: Escalation, answers: dict[str, str], efforts: str, entering_formal: bool
) -> dict[str, str]:
    """What a move may write: an answer not yet given, by anyone who may make the move; a
    change to one already given only by the raiser or their line manager (it is the raiser's
    account: anyone else adds theirs as a discussion). Rule 3's efforts to resolve are given
    with the move that enters the formal stages, and only then."""
    may_correct = escalation.raised_by_id == actor.pk or (
        escalation.raised_by is not None and escalation.raised_by.line_manager_id == actor.pk
    )
    given: dict[str, str] = {}
    for name, value in answers.items():
        if name not in TEXT_ANSWERS or name == "efforts_to_resolve" or not isinstance(value, str):
            continue
        value = value.strip()
        known = getattr(escalation, name)
        if not value or value == known:
            continue
        if known and not may_correct:
            raise RuleViolation(
                {
                    name: _(
                        "Only the raiser or their manager can change what the raiser wrote: add your view as a discussion"
                    )
                },
                code="not_your_account",
            )
        given[name] = value
    efforts = (efforts or answers.get("efforts_to_resolve") or "").strip()
    if entering_formal:
        # Rule 3: written for this move, whatever was written before.
        given["efforts_to_resolve"] = efforts
    return given


def _refuse_missing_answers(
    escalation: Escalation, target_number: int, given: dict[str, str], entering_formal: bool
) -> None:
    """Refuse the move if an answer a stage on the way asks for is still missing (with what
    is given now)."""
    ladder = ladder_of(escalation.partnership)
    wanted: list[str] = []
    for number in range(escalation.stage + 1, target_number + 1):
        wanted += [a for a in ladder.required_to_enter(number) if a not in wanted]
    if not entering_formal:
        # Rule 3's efforts are recorded on entering the formal stages, once: a move between
        # formal stages (or an informal one) is not asked for them again.
        wanted = [a for a in wanted if a != "efforts_to_resolve"]
    missing: dict[str, str] = {}
    for name in wanted:
        if name == "efforts_to_resolve":
            if _blank(given.get(name)):  # given with this move, never taken from before
                missing[name] = str(MISSING[name])
        elif name in TEXT_ANSWERS:
            if _blank(given.get(name) or getattr(escalation, name)):
                missing[name] = str(MISSING[name])
        elif name == "areas_of_disagreement" and not escalation.areas_of_disagreement.exists():
            missing[name] = str(MISSING[name])
        elif name == "themes" and not escalation.themes.exists():
            missing[name] = str(MISSING[name])
    if missing:
        formal = entering_formal and set(missing) & {"evidence", "efforts_to_resolve"}
        raise RuleViolation(missing, code="evidence_first" if formal else "stage_requires")


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
