"""Who holds an escalation when people move on: its raiser or an agency's named practitioner
reassigned with a reason, and the open work of someone who leaves handed on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accord.core.errors import NotAllowed
from accord.notifications.services import unique_recipients
from accord.partnership.models import User
from accord.partnership.roles import LEADER_ROLES, RAISING_ROLES
from accord.partnership.selectors import user_roles

from .. import visibility
from ..models import OPEN_STATUSES, Escalation, EventType, OtherParty
from ..notices import NoticeKind, notify
from ..policies import is_raisers_line_manager
from ._base import _audit, _blank, _event, _locked, _require, _touch

RAISER = "raiser"


def _leads(actor: User, escalation: Escalation, agency_id: int) -> bool:
    """A manager or senior leader of that agency in the escalation's partnership."""
    return actor.agency_id == agency_id and bool(user_roles(actor, escalation.partnership_id) & LEADER_ROLES)


def _person(username: str, field: str) -> User | None:
    if not username:
        return None
    person = User.objects.filter(username=username, is_active=True).first()
    if person is None:
        raise ValidationError({field: _("Select someone who works in Accord now")})
    return person


def _held_part(escalation: Escalation, holder: str) -> tuple[int, User | None]:
    """The agency whose part is reassigned, and who holds it now (None: its managers)."""
    if holder == RAISER:
        return escalation.raising_agency_id, escalation.raised_by
    try:
        agency_id = int(holder)
    except (TypeError, ValueError):
        raise ValidationError({"holder": _("Select whose part is being reassigned")}) from None
    if agency_id not in escalation.receiving_agency_ids():
        raise ValidationError({"holder": _("Select an agency the difference is with")})
    other = next((o for o in escalation.others() if o.agency_id == agency_id), None)
    return agency_id, escalation.with_practitioner if other is None else other.practitioner


def _new_holder(
    escalation: Escalation, holder: str, agency_id: int, to_username: str, before: User | None
) -> User | None:
    """Who is to hold the part now: someone else of the same agency who works on
    escalations in this partnership (nobody, for a named practitioner: its managers)."""
    person = _person(to_username, "to")
    if holder == RAISER and person is None:
        raise ValidationError({"to": _("Select who raises it now")})
    if person is not None and person.agency_id != agency_id:
        raise ValidationError({"to": _("Select someone who works for the same agency")})
    if person is not None and not user_roles(person, escalation.partnership_id) & RAISING_ROLES:
        # (An agency shared with another partnership has people who work only there.)
        raise ValidationError({"to": _("Select someone who works on escalations in this partnership")})
    if (person.pk if person else None) == (before.pk if before else None):
        raise ValidationError({"to": _("Select someone other than who holds it now")})
    return person


def escalation_reassign(
    *,
    actor: User,
    escalation: Escalation,
    holder: str,
    to_username: str,
    reason: str,
    expected_version: int | None = None,
) -> Escalation:
    """Hand the escalation's raiser (``holder="raiser"``), or the practitioner named for one
    of the agencies it is with (``holder`` the agency's id; nobody named: its managers
    receive it), to someone else in the same agency, with the reason. A manager or senior
    leader of that agency does it (or the raiser's line manager, for the raiser); on the
    timeline, audited, and told to the person who now holds it."""
    if _blank(reason):
        raise ValidationError({"reason": _("Enter why it is being reassigned")})
    with transaction.atomic():
        escalation = _locked(escalation, expected_version)
        _require(actor, "reassign", escalation)
        agency_id, before = _held_part(escalation, holder)
        allowed = _leads(actor, escalation, agency_id) or (
            holder == RAISER and is_raisers_line_manager(actor, escalation)
        )
        if not allowed:
            raise NotAllowed(_("A manager or senior leader of the agency concerned reassigns its part."))
        person = _new_holder(escalation, holder, agency_id, to_username, before)
        if holder == RAISER:
            escalation.raised_by = person
            changed = ["raised_by"]
        elif agency_id == escalation.with_agency_id:
            escalation.with_practitioner = person
            changed = ["with_practitioner"]
        else:
            OtherParty.objects.filter(escalation=escalation, agency_id=agency_id).update(practitioner=person)
            escalation.forget_others()
            changed = []
        now_held = person.get_full_name() or person.username if person else _("the agency's managers")
        _event(
            escalation,
            actor,
            EventType.REASSIGNED,
            _("%(part)s now held by %(who)s: %(reason)s")
            % {
                "part": _("Raiser") if holder == RAISER else _("Named practitioner"),
                "who": now_held,
                "reason": reason.strip(),
            },
        )
        _touch(escalation, *changed)
        if not changed:  # an other party's practitioner: its row changed, not the escalation's
            visibility.for_escalations([escalation.pk])
        _audit(
            actor,
            escalation,
            "reassign",
            holder=holder,
            before=before.username if before else None,
            after=person.username if person else None,
            reason=reason.strip(),
        )
        if person is not None:
            notify(
                escalation=escalation,
                kind=NoticeKind.REASSIGNED_TO_YOU,
                recipients=unique_recipients([person], exclude=actor),
                key=f"reassigned:{escalation.pk}:{escalation.version}",
            )
    return escalation


def person_left(*, actor: User, person: User) -> int:
    """Someone has left (their account deactivated): each open escalation they raised goes to
    their line manager if that manager works for the same agency and may raise, and each they
    were named on goes to their agency's managers; each change is on its timeline. Answer how
    many escalations were handed on."""
    handed = 0
    manager = person.line_manager if person.line_manager_id else None
    for escalation in Escalation.objects.filter(raised_by=person, status__in=OPEN_STATUSES):
        if (
            manager is not None
            and manager.is_active
            and manager.agency_id == person.agency_id
            and user_roles(manager, escalation.partnership_id) & RAISING_ROLES
        ):
            _hand_on(actor, escalation, RAISER, manager, person)
            handed += 1
    return handed + _named_parts_handed_on(actor, person, leaving=True)


def person_moved(*, actor: User, person: User) -> int:
    """Someone now works for another agency: each open escalation they were named on for
    their old agency goes to that agency's managers (on its timeline). What they raised stays
    theirs, as its raiser. Answer how many were handed on."""
    return _named_parts_handed_on(actor, person, leaving=False)


def _named_parts_handed_on(actor: User, person: User, *, leaving: bool) -> int:
    handed = 0
    named = Escalation.objects.filter(with_practitioner=person, status__in=OPEN_STATUSES)
    if not leaving:
        named = named.exclude(with_agency_id=person.agency_id)
    for escalation in named:
        _hand_on(actor, escalation, str(escalation.with_agency_id), None, person, leaving=leaving)
        handed += 1
    parties = OtherParty.objects.filter(practitioner=person, escalation__status__in=OPEN_STATUSES)
    if not leaving:
        parties = parties.exclude(agency_id=person.agency_id)
    for party in parties.select_related("escalation"):
        _hand_on(actor, party.escalation, str(party.agency_id), None, person, leaving=leaving)
        handed += 1
    return handed


def _hand_on(
    actor: User, escalation: Escalation, holder: str, to: User | None, leaver: User, *, leaving: bool = True
) -> None:
    with transaction.atomic():
        escalation = _locked(escalation, None)
        if holder == RAISER:
            escalation.raised_by = to
            changed = ["raised_by"]
        elif int(holder) == escalation.with_agency_id:
            escalation.with_practitioner = None
            changed = ["with_practitioner"]
        else:
            OtherParty.objects.filter(escalation=escalation, agency_id=int(holder)).update(practitioner=None)
            escalation.forget_others()
            visibility.for_escalations([escalation.pk])
            changed = []
        who = (to.get_full_name() or to.username) if to else _("the agency's managers")
        _event(
            escalation,
            actor,
            EventType.REASSIGNED,
            (
                _("%(leaver)s has left: %(part)s now held by %(who)s")
                if leaving
                else _("%(leaver)s has moved to another agency: %(part)s now held by %(who)s")
            )
            % {
                "leaver": leaver.get_full_name() or leaver.username,
                "part": _("raiser") if holder == RAISER else _("named practitioner"),
                "who": who,
            },
        )
        _touch(escalation, *changed)
        _audit(
            actor,
            escalation,
            "reassign",
            holder=holder,
            before=leaver.username,
            after=to.username if to else None,
        )
