"""Ending an escalation and what follows: its resolution with agreed actions (each marked done
in time), withdrawal and reopening."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import IllegalTransition, NotAllowed, NotFound
from accord.partnership.calendar import calendar_for
from accord.partnership.models import Partnership, User
from accord.partnership.selectors import partnership_agencies

from .. import tallies
from ..models import (
    AfterNotHeld,
    AgreedAction,
    ChildCentredOutcome,
    Draft,
    Escalation,
    EventType,
    FollowUp,
    Held,
    LearningFrom,
    Outcome,
    Resolution,
    Status,
)
from ..notices import notify_actions_asked
from ..policies import may_complete_action, may_see_action, not_held_follow_up
from ._base import _audit, _blank, _event, _locked, _require, _touch, refusal, today
from .learning import learning_problem, learning_record
from .timescales import _current_period, _end_period, _open_period, _stage


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
        if action.due_date < today():
            raise ValidationError(
                {"actions": _("An agreed action's due date must be today or in the future")}
            )
    return actions


def create_actions(escalation: Escalation, actor: User, actions: list[ActionDetails]) -> list[AgreedAction]:
    """The agreed actions, validated already (``_validate_actions``), written at once; each
    owning agency's leaders are told, with a link to the action."""
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
    notify_actions_asked(escalation, created, actor)
    return created


def agreed_action_complete(
    *,
    actor: User,
    escalation: Escalation,
    action_id: int,
    note: str = "",
    expected_version: int | None = None,
) -> AgreedAction:
    """Mark an agreed action done, with what was done (``policies.may_complete_action``):
    its owning agency's people (a party or not: they need not see the escalation), the
    parties' managers and leaders, or the formal body. Someone who may see neither the
    action nor the escalation is told it does not exist."""
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        action = escalation.agreed_actions.filter(pk=action_id).select_related("owner_agency").first()
        if action is not None:
            action.escalation = escalation
        if action is None or not may_see_action(actor, action):
            raise NotFound()
        if action.completed_on is not None:
            raise IllegalTransition(_("That action was already marked done."))
        if not may_complete_action(actor, action):
            raise NotAllowed(
                _(
                    "An agreed action is marked done by its agency, the parties' managers and leaders, or the %(body)s."
                )
                % {"body": escalation.partnership.formal_body_shown}
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
        if learning_problem(escalation, learning):
            errors["learning"] = learning_problem(escalation, learning)
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
        learning_record(
            actor=actor, escalation=escalation, text=learning, recorded_with=LearningFrom.RESOLUTION
        )
        create_actions(escalation, actor, actions)
        weeks = escalation.partnership.follow_up_weeks
        if weeks:
            FollowUp.objects.create(
                escalation=escalation, resolution=resolution, due_on=today() + dt.timedelta(weeks=weeks)
            )
        _close(escalation, Status.RESOLVED, now)
        _event(
            escalation, actor, EventType.RESOLVED, f"{Outcome(outcome).label}: {agreed_way_forward.strip()}"
        )
        _touch(escalation, "status", "closed_at", "due_date", "resolved_working_days")
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
    escalation.resolved_working_days = (
        working_days_to_resolution(escalation.partnership, escalation.raised_at, now)
        if status == Status.RESOLVED
        else None
    )


def working_days_to_resolution(
    partnership: Partnership, raised_at: dt.datetime, resolved_at: dt.datetime
) -> int:
    """The working days after the day it was raised up to and including the day it was
    resolved, on the partnership's calendar (0 for one resolved the day it was raised)."""
    raised, resolved = timezone.localdate(raised_at), timezone.localdate(resolved_at)
    return calendar_for(partnership).working_days_between(raised, resolved) if resolved > raised else 0


def escalation_withdraw(
    *,
    actor: User,
    escalation: Escalation,
    reason: str,
    learning: str = "",
    expected_version: int | None = None,
) -> Escalation:
    """Withdraw it, with the reason, and any learning for the partnership (never naming the child)."""
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "withdraw", escalation)
        errors = {}
        if _blank(reason):
            errors["reason"] = _("Enter why the escalation is withdrawn")
        if learning_problem(escalation, learning):
            errors["learning"] = learning_problem(escalation, learning)
        if errors:
            raise ValidationError(errors)
        learning_record(
            actor=actor, escalation=escalation, text=learning, recorded_with=LearningFrom.WITHDRAWAL
        )
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
        # What was agreed is being reopened: its follow-up, unanswered, is not asked; one
        # that said it did not hold is acted on.
        escalation.follow_ups.filter(answered_at__isnull=True).delete()
        not_held = not_held_follow_up(escalation)
        if not_held is not None:
            _act_on(not_held, AfterNotHeld.REOPENED, escalation.partnership_id)
            escalation.__dict__.pop("_accord_not_held", None)
        escalation.status = Status.OPEN
        escalation.closed_at = None
        escalation.resolved_working_days = None
        escalation.stage_started_on = period.started_on
        escalation.due_date = period.due_date
        _event(escalation, actor, EventType.REOPENED, reason.strip())
        _touch(escalation, "status", "closed_at", "resolved_working_days", "stage_started_on", "due_date")
        _audit(actor, escalation, "reopen")
    return escalation


# --------------------------------------------------------------------------- following up


def escalation_follow_up(
    *,
    actor: User,
    escalation: Escalation,
    held: str,
    what_changed: str,
    learning: str = "",
    expected_version: int | None = None,
) -> FollowUp:
    """Say, some weeks after the resolution, whether the agreed way forward held and what
    changed for the child: once, by a party or a party's manager or leader, once it is due."""
    errors: dict[str, str] = {}
    if held not in Held.values:
        errors["held"] = _("Select whether the agreed way forward held")
    if _blank(what_changed):
        errors["what_changed"] = _("Enter what changed for the child")
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "follow_up", escalation)
        if learning_problem(escalation, learning):
            errors["learning"] = learning_problem(escalation, learning)
        if errors:
            raise ValidationError(errors)
        follow_up = due_follow_up(escalation)
        learning_record(
            actor=actor, escalation=escalation, text=learning, recorded_with=LearningFrom.FOLLOW_UP
        )
        now = clock.now()
        follow_up.held, follow_up.what_changed = held, what_changed.strip()
        follow_up.answered_at, follow_up.answered_by = now, actor
        follow_up.save(update_fields=["held", "what_changed", "answered_at", "answered_by"])
        tallies.follow_up_answered(follow_up, escalation.partnership_id)
        _event(escalation, actor, EventType.FOLLOWED_UP, str(Held(held).label))
        _touch(escalation)
        _audit(actor, escalation, "follow_up", held=held)
    return follow_up


def due_follow_up(escalation: Escalation) -> FollowUp:
    """The escalation's follow-up that is due and not yet answered (the policies checked one is)."""
    return escalation.follow_ups.filter(answered_at__isnull=True, due_on__lte=today()).get()


# --------------------------------------------------------------------------- when it did not hold


def _act_on(follow_up: FollowUp, what: str, partnership_id: int, raised: Escalation | None = None) -> None:
    follow_up.followed_by, follow_up.followed_at, follow_up.raised_again = what, clock.now(), raised
    follow_up.save(update_fields=["followed_by", "followed_at", "raised_again"])
    tallies.follow_up_acted_on(follow_up, partnership_id)


def escalation_raised_again(*, actor: User, escalation: Escalation | int, raised: Escalation) -> FollowUp:
    """Link a newly raised escalation to the one whose agreed way forward did not hold, which
    it raises again (``follow_through.py``): the first's timeline says so, and what followed
    is counted. Refused, as the raising of it is, unless the actor may raise it again now."""
    with transaction.atomic():
        escalation = _locked(escalation, None)
        _require(actor, "raise_again", escalation)
        follow_up = not_held_follow_up(escalation)
        _act_on(follow_up, AfterNotHeld.RAISED_AGAIN, escalation.partnership_id, raised)
        escalation.__dict__.pop("_accord_not_held", None)
        _event(
            escalation,
            actor,
            EventType.RAISED_AGAIN,
            _("Raised again as %(reference)s") % {"reference": raised.reference},
        )
        _touch(escalation)
        _audit(actor, escalation, "raise_again", linked=raised.reference)
    return follow_up


# The draft's note of the escalation it raises again (a key the journey's forms never show).
RAISES_AGAIN = "_raises_again"


def link_from_draft(escalation: Escalation, actor: User, draft: Draft) -> None:
    """Called as an escalation is raised from a draft: if the draft raises another again, link
    the two (in the raising's transaction). If the first was reopened or raised again by
    someone else meanwhile, the new one stands on its own."""
    first = draft.data.get(RAISES_AGAIN)
    if not first:
        return
    original = Escalation.objects.filter(pk=first, partnership_id=escalation.partnership_id).first()
    if original is None or refusal(actor, "raise_again", original) is not None:
        return
    escalation_raised_again(actor=actor, escalation=original, raised=escalation)
