"""The formal body: its offers and actions, a facilitator's appointment and its end, and the
response it commissions to a theme (it never decides a case, rule 4)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import NotAllowed
from accord.partnership.models import Role, User
from accord.partnership.selectors import user_has_role

from ..models import AgreedAction, Escalation, EventType, Kind, PdgAction, PdgActionKind
from ._base import _audit, _event, _locked, _require, _touch
from .closing import ActionDetails, _validate_actions, create_actions

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


def escalation_facilitator_appoint(
    *,
    actor: User,
    escalation: Escalation,
    facilitator_username: str,
    note: str = "",
    expected_version: int | None = None,
) -> PdgAction:
    """At a facilitated stage (not formal: Portsmouth's "Re-think"), those who lead the stage
    appoint a facilitator of the partnership to help the parties, beside them. The
    facilitator sees the escalation while appointed; one at a time."""
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "appoint_facilitator", escalation)
        facilitator = User.objects.filter(username=facilitator_username or "", is_active=True).first()
        if facilitator is None or not user_has_role(facilitator, escalation.partnership_id, Role.FACILITATOR):
            raise ValidationError({"facilitator": _("Select a facilitator of this partnership")})
        _end_appointments(actor, escalation, keep=facilitator)
        appointment = PdgAction.objects.create(
            escalation=escalation,
            action=PdgActionKind.RESTORATIVE_FACILITATOR,
            facilitator=facilitator,
            note=note.strip(),
            recorded_by=actor,
        )
        summary = _("%(name)s appointed as facilitator at stage %(stage)s") % {
            "name": facilitator.get_full_name() or facilitator.username,
            "stage": escalation.stage,
        }
        if note.strip():
            summary += f": {note.strip()}"
        _event(escalation, actor, EventType.FACILITATOR_APPOINTED, summary)
        _touch(escalation)
        _audit(
            actor,
            escalation,
            "pdg_action",
            pdg_action=PdgActionKind.RESTORATIVE_FACILITATOR,
            facilitator=facilitator.username,
        )
    return appointment


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
        created = create_actions(escalation, actor, actions)
        _event(
            escalation,
            actor,
            EventType.PDG_ACTION,
            _("Multi-agency response commissioned: %(note)s") % {"note": note.strip()},
        )
        _touch(escalation)
        _audit(actor, escalation, "commission_response", actions=len(created))
    return created
