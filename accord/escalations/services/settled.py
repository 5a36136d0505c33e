"""A difference already settled, recorded in a minute: most end in the first conversation,
and each must still reach the formal body's figures (rule 5). It is raised and resolved at
stage 1 at once; the other side is told and may add its view. And details added to an open
escalation after it was raised (what the protocol had not asked for yet)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import NotAllowed, TooMany
from accord.partnership.models import Partnership, Role, User
from accord.partnership.protocol import ANSWERS
from accord.partnership.roles import PDG_ROLES
from accord.partnership.selectors import user_has_role

from .. import tallies
from ..models import Draft, Escalation, EventType, FollowUp, LearningFrom, Outcome, Resolution, Status
from ._base import _audit, _blank, _event, _locked, _require, _touch, today
from .closing import _close
from .learning import learning_record
from .raising import TEXT_ANSWERS, RaiseDetails, escalation_raise


@dataclass
class SettledDetails:
    """What a settled difference needs: with whom, a line on what it was about, how it ended
    (the outcome and the way forward agreed), and any learning for the partnership."""

    kind: str
    with_agency_id: int
    summary: str
    outcome: str
    agreed_way_forward: str
    learning: str = ""
    with_practitioner_username: str = ""
    # Whom it was about (empty: the partnership's first subject; ``subjects.py``).
    subject: str = ""


# How many settled differences one person may record in an hour. Nobody on the other side
# confirms one before it is counted and they are told, so a flood of them (a script, a slip)
# would fill the formal body's figures and the other side's notifications: a practitioner
# records the few of a busy week, and a backlog comes in by the earlier log's import.
SETTLED_PER_HOUR = 20


def _settled_recently(actor: User) -> int:
    since = clock.now() - dt.timedelta(hours=1)
    return Resolution.objects.filter(
        settled_when_raised=True, resolved_by=actor, resolved_at__gte=since
    ).count()


def escalation_record_settled(
    *,
    actor: User,
    partnership: Partnership,
    details: SettledDetails,
    immediate_danger: bool,
    draft: Draft | None = None,
) -> Escalation:
    """Record a difference the practitioners settled between them: raised and resolved at
    stage 1 by the raiser, counted in every figure as any other; the other side is told.
    Rule 1 holds as for any raising (a child in immediate danger: nothing is stored)."""
    errors: dict[str, str] = {}
    if details.outcome not in Outcome.values:
        errors["outcome"] = _("Select how it ended")
    if _blank(details.agreed_way_forward):
        errors["agreed_way_forward"] = _("Enter what was agreed")
    elif len(details.agreed_way_forward) > 2000:
        errors["agreed_way_forward"] = _("What was agreed must be 2,000 characters or fewer")
    if len(details.learning or "") > 5000:
        errors["learning"] = _("The learning must be 5,000 characters or fewer")
    if user_has_role(actor, partnership.pk, *PDG_ROLES, Role.FACILITATOR):
        # Rule 4: whoever holds a formal body's or facilitator's role never records how a
        # difference ended, whatever else they hold.
        raise NotAllowed(
            _("A member of the formal body or a facilitator cannot record how a difference ended.")
        )
    if _settled_recently(actor) >= SETTLED_PER_HOUR:
        raise TooMany(
            _(
                "You have recorded %(n)s settled differences in the last hour: wait a while before "
                "recording another, or ask the business unit to import a longer list"
            )
            % {"n": SETTLED_PER_HOUR},
            retry_after=3600,
        )
    raise_details = RaiseDetails(
        kind=details.kind,
        with_agency_id=details.with_agency_id,
        summary=details.summary,
        with_practitioner_username=details.with_practitioner_username,
        subject=details.subject,
    )
    with transaction.atomic():
        escalation = escalation_raise(
            actor=actor,
            partnership=partnership,
            details=raise_details,
            immediate_danger=immediate_danger,
            draft=draft,
            settled=True,
            errors=errors,
        )
        now = clock.now()
        resolution = Resolution.objects.create(
            escalation=escalation,
            outcome=details.outcome,
            agreed_way_forward=details.agreed_way_forward.strip(),
            # Not asked of a conversation that settled it: "not recorded", never a guess.
            child_centred_outcome_achieved="",
            learning=details.learning.strip(),
            stage=escalation.stage,
            resolved_by=actor,
            resolved_at=now,
            settled_when_raised=True,
        )
        tallies.resolution_recorded(resolution, escalation)
        # The learning in words, for the partnership (a settled one records no child to name).
        learning_record(
            actor=actor, escalation=escalation, text=details.learning, recorded_with=LearningFrom.RESOLUTION
        )
        weeks = partnership.follow_up_weeks
        if weeks:
            FollowUp.objects.create(
                escalation=escalation, resolution=resolution, due_on=today() + dt.timedelta(weeks=weeks)
            )
        _close(escalation, Status.RESOLVED, now)
        _event(
            escalation,
            actor,
            EventType.SETTLED,
            f"{Outcome(details.outcome).label}: {details.agreed_way_forward.strip()}",
        )
        _touch(escalation, "status", "closed_at", "due_date", "resolved_working_days")
        _audit(actor, escalation, "resolve", outcome=details.outcome, settled=True)
    return escalation


MOST_VIEW = 5000


def escalation_add_view(
    *, actor: User, escalation: Escalation, view: str, expected_version: int | None = None
) -> Escalation:
    """The other side of a difference recorded as settled adds its view (on the timeline)."""
    if _blank(view):
        raise ValidationError({"view": _("Enter your view")})
    if len(view) > MOST_VIEW:
        raise ValidationError({"view": _("Your view must be 5,000 characters or fewer")})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "add_view", escalation)
        _event(escalation, actor, EventType.VIEW_ADDED, view.strip())
        _touch(escalation)
        _audit(actor, escalation, "add_view", answered=["view"])
    return escalation


def escalation_add_details(
    *, actor: User, escalation: Escalation, answers: dict[str, str], expected_version: int | None = None
) -> Escalation:
    """Add what the protocol had not asked for yet, or correct it (the raiser's account:
    ``add_details``). Only answers given are written; an answer already given is not blanked."""
    # (Not rule 3's efforts to resolve: those are written with the move that enters the
    # formal stages.)
    given = {
        k: v.strip()
        for k, v in answers.items()
        if k in TEXT_ANSWERS and k != "efforts_to_resolve" and isinstance(v, str) and v.strip()
    }
    if not given:
        raise ValidationError({"answers": _("Enter at least one detail to add")})
    too_long = [k for k, v in given.items() if len(v) > 20000]
    if too_long:
        raise ValidationError({k: _("This must be 20,000 characters or fewer") for k in too_long})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "add_details", escalation)
        changed = [k for k, v in given.items() if getattr(escalation, k) != v]
        # What an answer said before it was changed stays on the timeline.
        words = "\n".join(
            str(ANSWERS.get(n, n)) + (f" (was: {getattr(escalation, n)})" if getattr(escalation, n) else "")
            for n in changed
        )
        for name in changed:
            setattr(escalation, name, given[name])
        if changed:
            _event(escalation, actor, EventType.DETAILS_ADDED, words)
            _touch(escalation, *changed)
            _audit(actor, escalation, "add_details", answered=sorted(changed))
    return escalation
