"""Discussions: what the parties record, and what the ladder asks of them before it moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.partnership.models import Role, User
from accord.partnership.selectors import user_has_role

from ..models import Discussion, Escalation, EventType
from ._base import _audit, _blank, _event, _locked, _require, _touch, today

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
        # (In one language, the one it was recorded in: the date's month too.)
        text = _("%(label)s on %(date)s: %(note)s") % {
            "label": label,
            "date": date_format(held_on, "j F Y"),
            "note": note.strip(),
        }
        _event(escalation, actor, EventType.DISCUSSION, text)
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
