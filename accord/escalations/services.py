"""Every change to an escalation, as one service per transition of the ladder.

Each service takes ``actor=`` explicitly, checks permission and the protocol's
rules, locks the escalation row, changes it, stamps who and when, appends the
timeline event and the audit entry in the same transaction, and bumps the
escalation's version. Pages, the API and commands all call these; nothing else
writes an escalation.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import antivirus, clock
from accord.core.crypto import decrypt_bytes, encrypt_bytes, lookup_hash
from accord.core.errors import (
    DomainError,
    IllegalTransition,
    ImmediateDanger,
    NotAllowed,
    NotFound,
    RuleViolation,
    StaleVersion,
)
from accord.partnership.calendar import calendar_for
from accord.partnership.models import (
    AreaOfDisagreement,
    Partnership,
    PracticeTheme,
    Role,
    Stage,
    User,
)
from accord.partnership.protocol import (
    Ladder,
    ProposedStage,
    StageRule,
    forget_ladder,
    ladder_of,
    ladder_shape_errors,
)
from accord.partnership.selectors import partnership_agencies, user_has_role

from . import tallies
from .models import (
    IRU_ORIGINS,
    OPEN_STATUSES,
    AgreedAction,
    Child,
    ChildCentredOutcome,
    Discussion,
    Document,
    Escalation,
    EscalationCounter,
    Event,
    EventType,
    FamilyAware,
    Kind,
    Origin,
    Outcome,
    Pause,
    PdgAction,
    PdgActionKind,
    Resolution,
    StagePeriod,
    Status,
    Urgency,
)
from .notices import notify_for_event
from .policies import can_raise_in, may_complete_action, refusal_reason, reopen_too_late, user_may

logger = logging.getLogger(__name__)

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
    "resolve": Verb.RESOLVED,
    "withdraw": Verb.WITHDRAWN,
    "reopen": Verb.REOPENED,
}


def _audit(actor: User, escalation: Escalation, action: str, **payload: Any) -> None:
    audit_record(
        actor=actor,
        verb=ACTION_VERBS[action],
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"action": action, "reference": escalation.reference, **payload},
    )


def ladder(partnership: Partnership) -> list[StageRule]:
    """The partnership's stages, lowest first (as this process keeps them: no query)."""
    return list(ladder_of(partnership).stages)


def ladder_validate(*, partnership: Partnership, stages: list[ProposedStage]) -> None:
    """Refuse (``ValidationError``) a ladder Accord cannot run (``ladder_shape_errors``),
    or a change that would strand open escalations: a stage keeps its number (escalations
    and their history refer to it; to reorder, rename), a stage open escalations stand at
    is not removed, and keeps whether it is formal, or they would become formal, or stop
    being so, with nobody acting."""
    errors = ladder_shape_errors(stages)
    numbered = sorted(s.number for s in stages) == list(range(1, len(stages) + 1))
    if numbered and any(s.was_number is not None and s.number != s.was_number for s in stages):
        raise ValidationError(_("A stage's number cannot change: change its name and timescales instead."))
    if errors:
        raise ValidationError(errors)
    numbers = {s.number for s in stages}
    stranded = list(
        Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES)
        .exclude(stage__in=numbers)
        .order_by("reference")
        .values_list("reference", flat=True)
    )
    if stranded:
        raise ValidationError(
            _("Open escalations stand at a stage this would remove: %(references)s.")
            % {"references": ", ".join(stranded)}
        )
    switched = [s.number for s in stages if s.was_formal is not None and s.is_formal != s.was_formal]
    if switched:
        standing = list(
            Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES, stage__in=switched)
            .order_by("stage", "reference")
            .values_list("stage", "reference")
        )
        if standing:
            raise ValidationError(
                _(
                    "Open escalations stand at stage %(stages)s: whether it is formal cannot change "
                    "until they have moved on or closed (%(references)s)."
                )
                % {
                    "stages": ", ".join(str(n) for n in sorted({n for n, _r in standing})),
                    "references": ", ".join(r for _n, r in standing),
                }
            )


def _stage(partnership: Partnership, number: int) -> Stage:
    try:
        return Stage.objects.get(partnership=partnership, number=number)
    except Stage.DoesNotExist:
        raise RuleViolation(
            _("Stage %(number)s is not on this partnership's ladder.") % {"number": number},
            code="stage",
        ) from None


def _top_stage(partnership: Partnership) -> int:
    top = Stage.objects.filter(partnership=partnership).order_by("-number").first()
    return top.number if top else 1


def period_due_date(period: StagePeriod, partnership: Partnership) -> dt.date | None:
    pauses = [(p.paused_on, p.resumed_on) for p in period.pauses.all()]
    return calendar_for(partnership).add_working_days(period.started_on, period.working_days, pauses=pauses)


def period_allowance(
    ladder: Ladder, *, stage: int, priority: str, origin: str, earlier: Iterable[StagePeriod] = ()
) -> int:
    """The working days a period at ``stage`` gets: the stage's timescale for the priority,
    cut to what is left of any budget over the stage (a run of stages' total, or an
    origin's cap on the whole dispute) after the ``earlier`` periods of the escalation. The
    one place it is worked out: raising, escalating, reopening, a change of the ladder and
    its preview all ask it."""
    budgets = ladder.budgets_at(stage, origin)
    if not budgets:
        return ladder.working_days(stage, priority)
    ended = [p for p in earlier if p.ended_on is not None]
    used = {b: sum(p.working_days_taken or 0 for p in ended if b.covers(p.stage)) for b in budgets}
    return ladder.allowance(stage, priority, origin, used)


def _new_period_due(
    partnership: Partnership, stage: Stage, priority: str, origin: str, escalation: Escalation | None = None
) -> tuple[dt.date, int, dt.date | None]:
    """A stage period starting today: its start, its working days and its due date (a new
    period has no pauses, so ``period_due_date`` would give the same)."""
    started_on = today()
    ladder = ladder_of(partnership)
    earlier: list[StagePeriod] = []
    if escalation is not None and escalation.pk and ladder.budgets_at(stage.number, origin):
        earlier = list(escalation.stage_periods.filter(ended_on__isnull=False))
    working_days = period_allowance(
        ladder, stage=stage.number, priority=priority, origin=origin, earlier=earlier
    )
    return started_on, working_days, calendar_for(partnership).add_working_days(started_on, working_days)


def _open_period(
    escalation: Escalation, partnership: Partnership, stage: Stage, skip_reason: str = ""
) -> StagePeriod:
    started_on, working_days, due_date = _new_period_due(
        partnership, stage, escalation.urgency, escalation.origin, escalation
    )
    return StagePeriod.objects.create(
        escalation=escalation,
        stage=stage.number,
        started_on=started_on,
        working_days=working_days,
        due_date=due_date,
        skip_reason=skip_reason,
    )


def _end_period(period: StagePeriod, partnership: Partnership) -> None:
    """Close a stage period, recording how many working days it took and whether it was on time."""
    period.ended_on = today()
    pauses = [(p.paused_on, p.resumed_on) for p in period.pauses.all()]
    period.working_days_taken = calendar_for(partnership).working_days_between(
        period.started_on, period.ended_on, pauses=pauses
    )
    period.on_time = period.working_days_taken <= period.working_days
    period.save(update_fields=["ended_on", "working_days_taken", "on_time"])
    tallies.stage_ended(period, partnership.pk)


def _current_period(escalation: Escalation) -> StagePeriod | None:
    return escalation.stage_periods.filter(ended_on__isnull=True).order_by("-id").first()


def _next_reference(partnership: Partnership) -> str:
    year = today().year
    counter, _created = EscalationCounter.objects.select_for_update().get_or_create(
        partnership=partnership, year=year
    )
    # The row is locked until this transaction ends: the number read is the one to follow.
    issued = counter.last + 1
    EscalationCounter.objects.filter(pk=counter.pk).update(last=issued)
    return f"{partnership.reference_prefix}-{year}-{issued:05d}"


def _blank(value: str | None) -> bool:
    return not (value or "").strip()


def _or_list(numbers: Sequence[int]) -> str:
    """1, 2 or 3"""
    words = [str(n) for n in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " " + _("or") + " " + words[-1]


# --------------------------------------------------------------------------- raising


@dataclass
class ChildDetails:
    name: str
    date_of_birth: dt.date | None = None
    agency_reference: str = ""


@dataclass
class RaiseDetails:
    """Everything a raiser tells Accord (see DOMAIN.md 'The thing being tracked')."""

    kind: str
    with_agency_id: int
    summary: str
    decision_challenged: str
    concern: str
    evidence: str
    tried_so_far: str
    desired_outcome: str
    area_of_disagreement_code: str
    urgency: str = Urgency.ROUTINE
    origin: str = Origin.PRACTITIONER
    with_practitioner_username: str = ""
    with_people: str = ""
    professional_curiosity: str = ""
    child_voice: str = ""
    family_view: str = ""
    family_aware: str = ""
    theme_codes: Sequence[str] = ()
    children: Sequence[ChildDetails] = field(default_factory=list)
    reflection: str = ""
    start_stage: int = 1
    start_stage_reason: str = ""


REQUIRED_TEXT = {
    "summary": "Enter a short summary of the difference",
    "decision_challenged": "Enter the decision or situation you are challenging",
    "concern": "Enter your concern",
    "evidence": "Enter the evidence for your concern",
    "tried_so_far": "Enter what has been tried so far",
    "desired_outcome": "Enter the child-centred outcome you want",
}


def escalation_validate_details(
    *, actor: User, partnership: Partnership, details: RaiseDetails
) -> dict[str, Any]:
    """Check a raise request against the partnership's data and the protocol.

    Answers the resolved objects; raises ``ValidationError`` with a message per field.
    """
    errors: dict[str, list[str]] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if details.kind not in Kind.values:
        fail("kind", _("Select whether this is about a child or a theme"))
    if details.urgency not in ladder_of(partnership).priority_codes:
        fail("urgency", _("Select how urgent this is"))
    if details.origin not in Origin.values:
        fail("origin", _("Select where the concern came from"))
    for name, message in REQUIRED_TEXT.items():
        if _blank(getattr(details, name)):
            fail(name, _(message))
    if len(details.summary or "") > 200:
        fail("summary", _("Summary must be 200 characters or fewer"))

    with_agency = partnership_agencies(partnership).filter(pk=details.with_agency_id).first()
    if with_agency is None:
        fail("with_agency", _("Select the agency the difference is with"))
    elif with_agency.pk == actor.agency_id:
        fail("with_agency", _("Select another agency: Accord is for differences between agencies"))

    with_practitioner = None
    if details.with_practitioner_username:
        with_practitioner = User.objects.filter(
            username=details.with_practitioner_username, is_active=True
        ).first()
        if with_practitioner is None or with_agency is None or with_practitioner.agency_id != with_agency.pk:
            fail("with_practitioner", _("Select a practitioner who works for that agency"))
            with_practitioner = None

    area = AreaOfDisagreement.objects.filter(
        partnership=partnership, code=details.area_of_disagreement_code, is_active=True
    ).first()
    if area is None:
        fail("area_of_disagreement", _("Select the area of disagreement"))
    theme_codes = list(dict.fromkeys(details.theme_codes or []))
    themes = list(PracticeTheme.objects.filter(partnership=partnership, code__in=theme_codes, is_active=True))
    if len(themes) != len(theme_codes):
        fail("themes", _("Select practice themes from the list"))

    if details.kind == Kind.CASE:
        if not details.children:
            fail("children", _("Enter the name or initials of at least one child"))
        for child in details.children:
            if _blank(child.name):
                fail("children", _("Enter the name or initials of each child"))
            if child.date_of_birth and child.date_of_birth > today():
                fail("children", _("A child's date of birth must be in the past"))
    elif details.kind == Kind.THEME:
        if details.children:
            fail("children", _("A thematic escalation is not about an individual child: remove the children"))
        if not _blank(details.family_view) or details.family_aware:
            fail(
                "family_aware",
                _(
                    "A thematic escalation is not about one family: leave out the family's view "
                    "and whether the family knows"
                ),
            )

    if details.family_aware and details.family_aware not in FamilyAware.values:
        fail("family_aware", _("Select whether the family knows of the challenge"))

    if details.start_stage != 1:
        from_review = details.origin in IRU_ORIGINS
        starts = ladder_of(partnership).conference_chair_starts()
        if not (user_has_role(actor, partnership.pk, Role.CONFERENCE_CHAIR) and from_review):
            fail(
                "start_stage",
                _(
                    "Only a conference chair or IRO raising from a conference or review can start above stage 1"
                ),
            )
        elif details.start_stage not in starts:
            fail(
                "start_stage",
                _("A conference chair or IRO can start at stage %(stages)s")
                % {"stages": _or_list([1, *starts])},
            )
        elif _blank(details.start_stage_reason):
            fail("start_stage_reason", _("Enter why this starts above stage 1"))
    if details.origin in IRU_ORIGINS and not user_has_role(actor, partnership.pk, Role.CONFERENCE_CHAIR):
        fail("origin", _("Only a conference chair or IRO can raise from a conference or review"))

    if errors:
        raise ValidationError(errors)
    return {
        "with_agency": with_agency,
        "with_practitioner": with_practitioner,
        "area": area,
        "themes": themes,
    }


RELATED_ON_RAISE = (
    "partnership",
    "raised_by",
    "raising_agency",
    "with_agency",
    "with_practitioner",
    "area_of_disagreement",
)


def escalation_raise(
    *,
    actor: User,
    partnership: Partnership,
    details: RaiseDetails,
    immediate_danger: bool,
) -> Escalation:
    """Raise an escalation. Rule 1: if a child may be in immediate danger, store nothing."""
    if immediate_danger:
        raise ImmediateDanger(
            _(
                "Accord is not for a child in immediate danger. Call 999 now, then the "
                "%(front_door)s on %(phone)s."
            )
            % {"front_door": partnership.front_door_name, "phone": partnership.front_door_phone}
        )
    if not can_raise_in(actor, partnership.pk) or actor.agency_id is None:
        raise NotAllowed(_("You cannot raise escalations in this partnership."))
    found = escalation_validate_details(actor=actor, partnership=partnership, details=details)

    with transaction.atomic():
        start = _stage(partnership, details.start_stage)
        now = clock.now()
        escalation = Escalation(
            partnership=partnership,
            reference=_next_reference(partnership),
            kind=details.kind,
            status=Status.OPEN,
            stage=start.number,
            highest_stage=start.number,
            urgency=details.urgency,
            origin=details.origin,
            raised_by=actor,
            raising_agency_id=actor.agency_id,
            with_agency=found["with_agency"],
            with_practitioner=found["with_practitioner"],
            with_people=details.with_people.strip(),
            summary=details.summary.strip(),
            decision_challenged=details.decision_challenged.strip(),
            concern=details.concern.strip(),
            evidence=details.evidence.strip(),
            professional_curiosity=details.professional_curiosity.strip(),
            child_voice=details.child_voice.strip(),
            family_view=details.family_view.strip(),
            family_aware=details.family_aware,
            tried_so_far=details.tried_so_far.strip(),
            desired_outcome=details.desired_outcome.strip(),
            area_of_disagreement=found["area"],
            reflection=details.reflection.strip(),
            raised_at=now,
            # A conference chair or IRO starting at a formal stage (where the ladder allows
            # it) escalates formally at once, for the reason they gave for starting there.
            formal_at=now if start.is_formal else None,
            formal_reason=details.start_stage_reason.strip() if start.is_formal else "",
            stage_started_on=today(),
            # Written with the row rather than after it: a second write of a new
            # escalation costs PostgreSQL every one of its indexes again.
            due_date=_new_period_due(partnership, start, details.urgency, details.origin)[2],
        )
        # Field values are checked here; the related records were just read and the
        # reference just issued, and the database enforces the check constraints, so
        # asking again (about twenty queries) would prove nothing more.
        escalation.full_clean(
            exclude=["themes", *RELATED_ON_RAISE, "reference"],
            validate_unique=False,
            validate_constraints=False,
        )
        escalation.save()
        escalation.themes.set(found["themes"])
        tallies.escalation_raised(escalation, [t.pk for t in found["themes"]])
        tallies.remember(escalation)
        Child.objects.bulk_create(
            [
                Child(
                    escalation=escalation,
                    name=child.name.strip(),
                    date_of_birth=child.date_of_birth,
                    agency_reference=child.agency_reference.strip(),
                    agency_reference_hash=lookup_hash(child.agency_reference),
                )
                for child in details.children
            ]
        )
        period = _open_period(escalation, partnership, start, skip_reason=details.start_stage_reason.strip())
        if period.due_date != escalation.due_date:  # raised as midnight passed
            escalation.due_date = period.due_date
            escalation.save(update_fields=["due_date"])
        _event(escalation, actor, EventType.RAISED, escalation.summary)
        audit_record(
            actor=actor,
            verb=Verb.ESCALATION_RAISED,
            target=escalation,
            partnership_id=partnership.pk,
            payload={"reference": escalation.reference, "stage": escalation.stage, "kind": escalation.kind},
        )
    return escalation


# --------------------------------------------------------------------------- discussions


def escalation_record_discussion(
    *,
    actor: User,
    escalation: Escalation,
    held_on: dt.date,
    note: str,
    with_manager: bool = False,
    participants: str = "",
    agreed: bool | None = None,
    expected_version: int | None = None,
) -> Discussion:
    errors: dict[str, str] = {}
    if _blank(note):
        errors["note"] = _("Enter what was discussed")
    if held_on is None:
        errors["held_on"] = _("Enter the date the discussion took place")
    elif held_on > today():
        errors["held_on"] = _("The date of the discussion must be today or in the past")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "record_discussion", escalation)
        if held_on < escalation.raised_at.astimezone(timezone.get_current_timezone()).date() - dt.timedelta(
            days=90
        ):
            raise ValidationError(
                {"held_on": _("The date of the discussion is too long before the escalation was raised")}
            )
        if with_manager:
            # Rule 2's consultation is with the raiser's own manager or safeguarding lead:
            # recorded by the raiser, or by that manager.
            raiser = escalation.raised_by
            is_raisers_manager = actor.pk == raiser.line_manager_id or (
                actor.agency_id == escalation.raising_agency_id
                and user_has_role(actor, escalation.partnership_id, Role.MANAGER, Role.SENIOR_LEADER)
            )
            if actor.pk != raiser.pk and not is_raisers_manager:
                raise ValidationError(
                    {
                        "with_manager": _(
                            "Only the raiser or the raiser's own manager can record the consultation with that manager"
                        )
                    }
                )
        discussion = Discussion.objects.create(
            escalation=escalation,
            stage=escalation.stage,
            recorded_by=actor,
            held_on=held_on,
            with_manager=with_manager,
            participants=participants.strip(),
            note=note.strip(),
            agreed=agreed,
        )
        label = (
            _("Consultation with the raiser's manager or safeguarding lead")
            if with_manager
            else _("Discussion")
        )
        _event(escalation, actor, EventType.DISCUSSION, f"{label} on {held_on:%-d %B %Y}: {note.strip()}")
        _touch(escalation)
        _audit(actor, escalation, "record_discussion", with_manager=with_manager)
    return discussion


def manager_consulted(escalation: Escalation, discussions: Iterable[Discussion] | None = None) -> bool:
    """Rule 2: a recorded discussion with the raiser's own manager or safeguarding lead.
    ``discussions``, when the caller has already read all of the escalation's, are looked
    through instead of asking the database again."""
    if discussions is not None:
        return any(d.with_manager and d.escalation_id == escalation.pk for d in discussions)
    return escalation.discussions.filter(with_manager=True).exists()


def efforts_from_history(escalation: Escalation) -> str:
    """A pre-filled account of the efforts to resolve, from the recorded discussions."""
    lines = []
    for discussion in escalation.discussions.select_related("recorded_by").order_by("held_on", "id"):
        outcome = ""
        if discussion.agreed is True:
            outcome = _(" Agreement reached.")
        elif discussion.agreed is False:
            outcome = _(" No agreement.")
        lines.append(
            _("Stage %(stage)s, %(date)s (%(who)s): %(note)s%(outcome)s")
            % {
                "stage": discussion.stage,
                "date": f"{discussion.held_on:%-d %B %Y}",
                "who": discussion.recorded_by.get_full_name() or discussion.recorded_by.username,
                "note": discussion.note,
                "outcome": outcome,
            }
        )
    return "\n".join(lines)


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
            raise RuleViolation(
                {
                    "reason": _(
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


@dataclass(frozen=True)
class OpenPeriodUnder:
    """An open stage period and what it would have under a ladder."""

    period: StagePeriod
    working_days: int
    due_date: dt.date | None


def open_periods_under(
    partnership: Partnership,
    ladder: Ladder,
    *,
    refresh_timescales: bool = True,
    escalation_ids: Sequence[int] | None = None,
) -> list[OpenPeriodUnder]:
    """Every open stage period of the partnership (or of these of its escalations), with the
    working days and due date it would have under ``ladder`` (the current one, or one a
    change proposes). Without ``refresh_timescales`` a period keeps its working days and
    only its due date is worked out again (after a change of the bank holidays)."""
    periods_qs = StagePeriod.objects.filter(escalation__partnership=partnership, ended_on__isnull=True)
    if escalation_ids is not None:
        periods_qs = periods_qs.filter(escalation_id__in=list(escalation_ids))
    periods = list(
        periods_qs.select_related("escalation")
        .only(
            "id",
            "escalation_id",
            "stage",
            "started_on",
            "working_days",
            "due_date",
            "escalation__reference",
            "escalation__urgency",
            "escalation__origin",
        )
        .prefetch_related("pauses")
        .order_by("escalation_id")
    )
    earlier: dict[int, list[StagePeriod]] = {}
    if refresh_timescales and ladder.budgets:
        for p in StagePeriod.objects.filter(
            escalation_id__in=[p.escalation_id for p in periods], ended_on__isnull=False
        ).only("escalation_id", "stage", "ended_on", "working_days_taken"):
            earlier.setdefault(p.escalation_id, []).append(p)
    calendar = calendar_for(partnership)
    numbers = set(ladder.numbers)
    found = []
    for period in periods:
        days = period.working_days
        if refresh_timescales and period.stage in numbers:
            e = period.escalation
            days = period_allowance(
                ladder,
                stage=period.stage,
                priority=e.urgency,
                origin=e.origin,
                earlier=earlier.get(e.pk, ()),
            )
        pauses = [(p.paused_on, p.resumed_on) for p in period.pauses.all()]
        found.append(
            OpenPeriodUnder(period, days, calendar.add_working_days(period.started_on, days, pauses=pauses))
        )
    return found


# Open escalations moved to a new ladder or calendar in one transaction: each batch locks
# its rows for a few milliseconds, so that nobody working one waits for the whole change.
RECOMPUTE_BATCH = 100


def escalations_recompute_due_dates(
    *, partnership: Partnership, refresh_timescales: bool = False, batch: int = RECOMPUTE_BATCH
) -> int:
    """Recompute every open stage's due date from its history (after a calendar or ladder change).

    With ``refresh_timescales`` the open stages also take the ladder's current timescales
    (for their priority, within any budget). The open escalations are taken a batch at a
    time, each batch in its own transaction (when the caller holds none) with its rows
    locked, so a change at national scale never stops others working for long.
    """
    changed = 0
    forget_ladder(partnership)  # read as it is now, not as it was when this object first asked
    ladder = ladder_of(partnership)
    last = 0
    while True:
        with transaction.atomic():
            ids = list(
                Escalation.objects.filter(partnership=partnership, status__in=OPEN_STATUSES, pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            # Lock the batch (in id order) so that nobody moves one of them on meanwhile.
            list(Escalation.objects.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk"))
            changed += _write_due_dates(
                open_periods_under(
                    partnership, ladder, refresh_timescales=refresh_timescales, escalation_ids=ids
                )
            )
        last = ids[-1]
    return changed


def _write_due_dates(unders: list[OpenPeriodUnder]) -> int:
    periods = []
    by_due: dict[dt.date | None, list[int]] = {}
    for under in unders:
        period = under.period
        if (under.working_days, under.due_date) == (period.working_days, period.due_date):
            continue
        moved = under.due_date != period.due_date
        period.working_days, period.due_date = under.working_days, under.due_date
        periods.append(period)
        if moved:
            by_due.setdefault(under.due_date, []).append(period.escalation_id)
    StagePeriod.objects.bulk_update(periods, ["working_days", "due_date"], batch_size=500)
    for due, ids in by_due.items():
        Escalation.objects.filter(pk__in=ids).update(due_date=due, version=F("version") + 1)
    return sum(len(ids) for ids in by_due.values())


# --------------------------------------------------------------------------- the PDG


def escalation_pdg_action(
    *,
    actor: User,
    escalation: Escalation,
    action: str,
    note: str = "",
    facilitator_username: str = "",
    expected_version: int | None = None,
) -> PdgAction:
    """Record what the PDG offers or does. It never sets the outcome (rule 4)."""
    if action not in PdgActionKind.values:
        raise ValidationError({"action": _("Select what is being offered or done")})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "pdg_act", escalation)
        facilitator = None
        if facilitator_username:
            facilitator = User.objects.filter(username=facilitator_username, is_active=True).first()
            if facilitator is None or not user_has_role(
                facilitator, escalation.partnership_id, Role.FACILITATOR
            ):
                raise ValidationError(
                    {"facilitator": _("Select a restorative facilitator of this partnership")}
                )
        elif action == PdgActionKind.RESTORATIVE_FACILITATOR:
            raise ValidationError({"facilitator": _("Select the restorative facilitator to appoint")})
        if facilitator is not None:
            # One facilitator at a time: a new appointment ends the one before (and its access).
            _end_appointments(actor, escalation, keep=facilitator)
        pdg_action = PdgAction.objects.create(
            escalation=escalation,
            action=action,
            facilitator=facilitator,
            note=note.strip(),
            recorded_by=actor,
        )
        summary = str(PdgActionKind(action).label)
        if note.strip():
            summary += f": {note.strip()}"
        _event(escalation, actor, EventType.PDG_ACTION, summary)
        if facilitator is not None:
            _event(
                escalation,
                actor,
                EventType.FACILITATOR_APPOINTED,
                _("%(name)s appointed as restorative facilitator")
                % {"name": facilitator.get_full_name() or facilitator.username},
            )
        _touch(escalation)
        _audit(actor, escalation, "pdg_action", pdg_action=action, facilitator=facilitator_username or None)
    return pdg_action


def _end_appointments(
    actor: User, escalation: Escalation, *, keep: User | None = None, reason: str = ""
) -> list[str]:
    """End the escalation's current facilitator appointments; name whose ended. Saved one by
    one, so that each person's access is recounted (``visibility``)."""
    ended = []
    now = clock.now()
    for appointment in escalation.pdg_actions.filter(
        facilitator__isnull=False, ended_at__isnull=True
    ).select_related("facilitator"):
        appointment.ended_at, appointment.ended_by = now, actor
        appointment.save(update_fields=["ended_at", "ended_by"])
        if keep is not None and appointment.facilitator_id == keep.pk:
            continue  # appointed again: the new appointment carries on
        person = appointment.facilitator
        summary = _("%(name)s's appointment as restorative facilitator ended") % {
            "name": person.get_full_name() or person.username
        }
        if reason.strip():
            summary += f": {reason.strip()}"
        _event(escalation, actor, EventType.FACILITATOR_ENDED, summary)
        ended.append(person.username)
    return ended


def escalation_end_facilitation(
    *, actor: User, escalation: Escalation, reason: str = "", expected_version: int | None = None
) -> Escalation:
    """End the restorative facilitator's appointment (the PDG, whatever the escalation's state):
    the facilitator no longer sees the escalation."""
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "end_facilitation", escalation)
        ended = _end_appointments(actor, escalation, reason=reason)
        _touch(escalation)
        _audit(actor, escalation, "end_facilitation", facilitators=ended)
    return escalation


@dataclass
class ActionDetails:
    description: str
    owner_agency_id: int
    due_date: dt.date


def _validate_actions(partnership: Partnership, actions: Iterable[ActionDetails]) -> list[ActionDetails]:
    actions = list(actions)
    agencies = set(partnership_agencies(partnership).values_list("pk", flat=True))
    for action in actions:
        if _blank(action.description):
            raise ValidationError({"actions": _("Enter a description for each agreed action")})
        if action.owner_agency_id not in agencies:
            raise ValidationError({"actions": _("Select an agency of this partnership to own each action")})
        if action.due_date is None:
            raise ValidationError({"actions": _("Enter a due date for each agreed action")})
    return actions


def agreed_action_complete(
    *,
    actor: User,
    escalation: Escalation,
    action_id: int,
    note: str = "",
    expected_version: int | None = None,
) -> AgreedAction:
    """Mark an agreed action done, with what was done (``policies.may_complete_action``):
    its owning agency's people, the parties' managers and leaders, or the formal body."""
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        if not actor.has_perm("escalations.view", escalation):
            raise NotFound()
        action = escalation.agreed_actions.filter(pk=action_id).select_related("owner_agency").first()
        if action is None:
            raise NotFound()
        action.escalation = escalation
        if action.completed_on is not None:
            raise IllegalTransition(_("That action was already marked done."))
        if not may_complete_action(actor, action):
            raise NotAllowed(
                _(
                    "An agreed action is marked done by its agency, the parties' managers and leaders, or the %(body)s."
                )
                % {"body": escalation.partnership.formal_body_name}
            )
        action.completed_on, action.completed_by, action.completion_note = today(), actor, note.strip()
        action.save(update_fields=["completed_on", "completed_by", "completion_note"])
        _event(
            escalation,
            actor,
            EventType.ACTION_COMPLETED,
            _("Done (%(agency)s): %(action)s") % {"agency": action.owner_agency, "action": action.description}
            + (f". {note.strip()}" if note.strip() else ""),
        )
        _touch(escalation)
        _audit(actor, escalation, "complete_action", agreed_action=action.pk)
    return action


def escalation_commission_response(
    *,
    actor: User,
    escalation: Escalation,
    note: str,
    actions: Iterable[ActionDetails],
    expected_version: int | None = None,
) -> list[AgreedAction]:
    """For a thematic escalation at the PDG: the multi-agency response it commissions."""
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "pdg_act", escalation)
        if escalation.kind != Kind.THEME:
            raise NotAllowed(_("Only a thematic escalation has a commissioned multi-agency response."))
        actions = _validate_actions(escalation.partnership, actions)
        if not actions:
            raise ValidationError({"actions": _("Enter at least one action")})
        created = AgreedAction.objects.bulk_create(
            [
                AgreedAction(
                    escalation=escalation,
                    description=a.description.strip(),
                    owner_agency_id=a.owner_agency_id,
                    due_date=a.due_date,
                    recorded_by=actor,
                )
                for a in actions
            ]
        )
        _event(
            escalation,
            actor,
            EventType.PDG_ACTION,
            _("Multi-agency response commissioned: %(note)s") % {"note": note.strip()},
        )
        _touch(escalation)
        _audit(actor, escalation, "commission_response", actions=len(created))
    return created


# --------------------------------------------------------------------------- ending


def escalation_resolve(
    *,
    actor: User,
    escalation: Escalation,
    outcome: str,
    agreed_way_forward: str,
    child_centred_outcome_achieved: str,
    actions: Iterable[ActionDetails] = (),
    learning: str = "",
    referred_to: str = "",
    expected_version: int | None = None,
) -> Resolution:
    """Record the resolution. Only the parties' own managers and leaders can (rule 4)."""
    errors: dict[str, str] = {}
    if outcome not in Outcome.values:
        errors["outcome"] = _("Select the outcome")
    if _blank(agreed_way_forward):
        errors["agreed_way_forward"] = _("Enter the agreed way forward")
    if child_centred_outcome_achieved not in ChildCentredOutcome.values:
        errors["child_centred_outcome_achieved"] = _("Select whether the child-centred outcome was achieved")
    if outcome == Outcome.REFERRED_ON and _blank(referred_to):
        errors["referred_to"] = _("Enter the process it was referred on to")
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "resolve", escalation)
        if errors:
            raise ValidationError(errors)
        actions = _validate_actions(escalation.partnership, actions)
        now = clock.now()
        resolution = Resolution.objects.create(
            escalation=escalation,
            outcome=outcome,
            agreed_way_forward=agreed_way_forward.strip(),
            child_centred_outcome_achieved=child_centred_outcome_achieved,
            learning=learning.strip(),
            referred_to=referred_to.strip(),
            stage=escalation.stage,
            resolved_by=actor,
            resolved_at=now,
        )
        tallies.resolution_recorded(resolution, escalation)
        AgreedAction.objects.bulk_create(
            [
                AgreedAction(
                    escalation=escalation,
                    description=a.description.strip(),
                    owner_agency_id=a.owner_agency_id,
                    due_date=a.due_date,
                    recorded_by=actor,
                )
                for a in actions
            ]
        )
        _close(escalation, Status.RESOLVED, now)
        _event(
            escalation, actor, EventType.RESOLVED, f"{Outcome(outcome).label}: {agreed_way_forward.strip()}"
        )
        _touch(escalation, "status", "closed_at", "due_date")
        _audit(actor, escalation, "resolve", outcome=outcome)
    return resolution


def _close(escalation: Escalation, status: Status, now: dt.datetime) -> None:
    period = _current_period(escalation)
    if period is not None:
        period.pauses.filter(resumed_on__isnull=True).update(resumed_on=today())
        _end_period(period, escalation.partnership)
    escalation.status = status
    escalation.closed_at = now
    escalation.due_date = None


def escalation_withdraw(
    *, actor: User, escalation: Escalation, reason: str, expected_version: int | None = None
) -> Escalation:
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "withdraw", escalation)
        if _blank(reason):
            raise ValidationError({"reason": _("Enter why the escalation is withdrawn")})
        escalation.closing_reason = reason.strip()
        _close(escalation, Status.WITHDRAWN, clock.now())
        _event(escalation, actor, EventType.WITHDRAWN, reason.strip())
        _touch(escalation, "status", "closed_at", "due_date", "closing_reason")
        _audit(actor, escalation, "withdraw")
    return escalation


def escalation_reopen(
    *, actor: User, escalation: Escalation, reason: str, expected_version: int | None = None
) -> Escalation:
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "reopen", escalation)
        if _blank(reason):
            raise ValidationError({"reason": _("Enter why the escalation is reopened")})
        stage = _stage(escalation.partnership, escalation.stage)
        period = _open_period(escalation, escalation.partnership, stage)
        escalation.status = Status.OPEN
        escalation.closed_at = None
        escalation.stage_started_on = period.started_on
        escalation.due_date = period.due_date
        _event(escalation, actor, EventType.REOPENED, reason.strip())
        _touch(escalation, "status", "closed_at", "stage_started_on", "due_date")
        _audit(actor, escalation, "reopen")
    return escalation


# --------------------------------------------------------------------------- evidence documents

SNIFFERS: list[tuple[bytes, str]] = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
]


_MARKUP = re.compile(rb"^\s*(?:\xef\xbb\xbf)?\s*<\s*[!?a-zA-Z/]")
# What a Word document (an archive) may hold, opened: at most this many entries and
# this many bytes in all once expanded, and no entry expanding more than 200 times.
DOCX_MAX_ENTRIES = 2000
DOCX_MAX_EXPANDED = 100 * 1024 * 1024
DOCX_MAX_RATIO = 200


def sniff_content_type(head: bytes) -> str | None:
    """The type of a file from its first bytes, never its name. Text that opens as markup
    (a web page, SVG or XML) is not plain text: a browser could run it."""
    for magic, content_type in SNIFFERS:
        if head.startswith(magic):
            return content_type
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The first bytes may end inside a character: judge them without the last three.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return None
    if "\x00" in text or _MARKUP.match(head):
        return None
    return "text/plain"


def docx_problem(content: bytes) -> str | None:
    """Why an archive named a Word document is not one Accord keeps (None if it is): it
    must open, hold a Word document's parts, and expand to a bounded size."""
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
            names = {e.filename for e in entries}
            if len(entries) > DOCX_MAX_ENTRIES:
                return _("The selected Word document holds too many parts")
            if not {"[Content_Types].xml", "word/document.xml"} <= names:
                return _("The selected file must be a PDF, Word document, PNG, JPEG or plain text file")
            expanded = sum(e.file_size for e in entries)
            if expanded > DOCX_MAX_EXPANDED or any(
                e.file_size > DOCX_MAX_RATIO * max(e.compress_size, 1) for e in entries
            ):
                return _("The selected Word document expands to more than Accord keeps: save it as a PDF")
    except (zipfile.BadZipFile, OSError, ValueError):
        return _("The selected file must be a PDF, Word document, PNG, JPEG or plain text file")
    return None


def safe_filename(name: str) -> str:
    import unicodedata

    base = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = base.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .") or "document"
    return base[:150]


def _virus_check(content: bytes) -> None:
    if not antivirus.enabled():
        return
    try:
        found = antivirus.scan(content)
    except antivirus.ScanUnavailable:
        raise ValidationError(
            {"file": _("The file could not be checked for viruses. Try again later")}
        ) from None
    if found:
        raise ValidationError({"file": _("The selected file contains a virus")})


def escalation_add_document(
    *,
    actor: User,
    escalation: Escalation,
    upload: Any,
    description: str = "",
    expected_version: int | None = None,
) -> Document:
    from django.conf import settings

    if upload is None:
        raise ValidationError({"file": _("Select a file")})
    if upload.size > settings.EVIDENCE_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file must be smaller than %(mb)s MB")
                % {"mb": settings.EVIDENCE_MAX_BYTES // (1024 * 1024)}
            }
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The selected file is empty")})
    head = upload.read(2048)
    upload.seek(0)
    content_type = sniff_content_type(head)
    if content_type not in settings.EVIDENCE_ALLOWED_TYPES:
        raise ValidationError(
            {"file": _("The selected file must be a PDF, Word document, PNG, JPEG or plain text file")}
        )
    content = b"".join(upload.chunks())
    if content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        problem = docx_problem(content)
        if problem:
            raise ValidationError({"file": problem})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "add_document", escalation)
        name = safe_filename(upload.name or "document")
        document = Document(
            escalation=escalation,
            filename=name,
            content_type=content_type,
            size=upload.size,
            description=description.strip()[:200],
            uploaded_by=actor,
        )
        from django.core.files.base import ContentFile

        _virus_check(content)
        encrypted = encrypt_bytes(content)
        document.file.save(
            f"{escalation.pk}-{clock.now():%Y%m%d%H%M%S%f}.bin", ContentFile(encrypted), save=False
        )
        document.save()
        _event(escalation, actor, EventType.DOCUMENT_ADDED, name)
        _touch(escalation)
        audit_record(
            actor=actor,
            verb=Verb.DOCUMENT_UPLOADED,
            target=document,
            partnership_id=escalation.partnership_id,
            payload={"reference": escalation.reference, "size": upload.size, "content_type": content_type},
        )
    return document


def escalation_document_read(
    *, actor: User, escalation: Escalation, document_id: int
) -> tuple[Document, bytes]:
    """An evidence document of an escalation the actor may see, decrypted, with the read
    audited (``NotFound`` for one that is not this escalation's, or is missing from
    storage). The pages and the API both read documents through this."""
    if not actor.has_perm("escalations.view", escalation):
        raise NotFound()
    document = escalation.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound()
    audit_record(
        actor=actor,
        verb=Verb.DOCUMENT_DOWNLOADED,
        target=document,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference},
    )
    try:
        with document.file.open("rb") as stored:
            content = decrypt_bytes(stored.read())
    except OSError:
        logger.exception("Evidence document %s is missing from storage", document.pk)
        raise NotFound() from None
    return document, content
