"""When an agreed way forward did not hold: a party raises the difference again, as a new
escalation linked to the first and pre-filled from it (or reopens the first: ``closing``).

On the pages the new one starts as a draft of the raising journey, filled in from the first,
which the raiser checks and changes before raising it (``raise_again_draft``); when it is
raised from that draft, the first is linked to it (``link_from_draft``, called by
``escalation_raise``). The API raises it at once with the details it is sent
(``escalation_raise_again``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import ImmediateDanger
from accord.partnership.models import Origin, User

from ..models import Draft, Escalation
from ._base import _require
from .closing import RAISES_AGAIN, escalation_raised_again
from .raising import RaiseDetails, escalation_raise, immediate_danger_guidance

# How many agencies beyond the first, and children, the journey's pages take (``forms.MOST_ROWS``).
OTHER_ROWS = 10
CHILD_ROWS = 10


def _prefilled(actor: User, escalation: Escalation) -> dict[str, Any]:
    """The first escalation's details as the raising journey's answers, from the side of the
    party raising it again: the difference is with the other agencies, whoever raised it."""
    follow_up = escalation.follow_ups.filter(answered_at__isnull=False).order_by("-answered_at").first()
    resolution = escalation.resolutions.order_by("-resolved_at").first()
    named = {escalation.raising_agency_id: escalation.raised_by}
    named.setdefault(escalation.with_agency_id, escalation.with_practitioner)
    for other in escalation.others():
        named.setdefault(other.agency_id, other.practitioner)
    agencies = [a for a in named if a != actor.agency_id]
    data: dict[str, Any] = {
        "immediate_danger": "no",
        RAISES_AGAIN: escalation.pk,
        "kind": escalation.kind,
        "origin": Origin.PRACTITIONER,
        "summary": escalation.summary,
        "decision_challenged": escalation.decision_challenged,
        "concern": escalation.concern,
        "evidence": escalation.evidence,
        "professional_curiosity": escalation.professional_curiosity,
        "child_voice": escalation.child_voice,
        "family_view": escalation.family_view,
        "family_aware": escalation.family_aware,
        "desired_outcome": escalation.desired_outcome,
        "urgency": escalation.urgency,
        # (Its areas, the first first, as the journey's checkboxes hold them.)
        "areas": list(
            dict.fromkeys(
                [
                    *([escalation.area_of_disagreement.code] if escalation.area_of_disagreement else []),
                    *escalation.areas_of_disagreement.values_list("code", flat=True),
                ]
            )
        ),
        "themes": list(escalation.themes.values_list("code", flat=True)),
        "with_people": escalation.with_people,
    }
    tried = [escalation.tried_so_far]
    if resolution is not None:
        tried.append(
            _("%(reference)s was resolved on %(date)s: %(way)s")
            % {
                "reference": escalation.reference,
                "date": date_format(resolution.resolved_at, "j F Y"),
                "way": resolution.agreed_way_forward,
            }
        )
    if follow_up is not None:
        tried.append(_("It did not hold: %(what)s") % {"what": follow_up.what_changed})
    data["tried_so_far"] = "\n\n".join(t for t in tried if t)
    for i, agency_id in enumerate(agencies[: OTHER_ROWS + 1]):
        person = named[agency_id]
        username = person.username if person is not None and person.is_active else ""
        if i == 0:
            data["with_agency"] = str(agency_id)
            data["with_practitioner"] = username
        else:
            data[f"other_{i}_agency"] = str(agency_id)
            data[f"other_{i}_practitioner"] = username
    # Whom it is about, and an adult's own part in it, as the first escalation had them.
    data["subject"] = escalation.subject
    for name in ("adult_aware", "adult_views", "adult_advocate"):
        data[name] = getattr(escalation, name)
    for i, child in enumerate(escalation.children.all()[:CHILD_ROWS], start=1):
        data[f"child_{i}_name"] = child.name
        data[f"child_{i}_date_of_birth"] = child.date_of_birth.isoformat() if child.date_of_birth else ""
        data[f"child_{i}_agency_reference"] = child.agency_reference
    return data


def raise_again_draft(*, actor: User, escalation: Escalation, immediate_danger: bool) -> Draft:
    """Start raising the difference again, as a draft of the raising journey filled in from
    the escalation whose agreed way forward did not hold. Rule 1 first: if a child may be in
    immediate danger nothing is kept."""
    if immediate_danger:
        raise ImmediateDanger(immediate_danger_guidance(escalation.partnership))
    with transaction.atomic():
        _require(actor, "raise_again", escalation)
        draft = Draft.objects.create(
            owner=actor, partnership=escalation.partnership, data=_prefilled(actor, escalation)
        )
        # The first's accounts and children were read into the draft: a read of the escalation.
        audit_record(
            actor=actor,
            verb=Verb.ESCALATION_VIEWED,
            target=escalation,
            partnership_id=escalation.partnership_id,
            payload={"reference": escalation.reference, "part": "raise_again"},
        )
    return draft


def escalation_raise_again(
    *, actor: User, escalation: Escalation, details: RaiseDetails, immediate_danger: bool
) -> Escalation:
    """Raise a new escalation linked to one whose agreed way forward did not hold (the API: the
    details are the caller's). Refused as the first's ``raise_again`` is, and as any raising is."""
    # Refused before anything is raised (someone who may not see it is told it does not exist,
    # not that their details are wrong); checked again under the row's lock once raised.
    escalation = Escalation.objects.select_related("partnership").get(pk=escalation.pk)
    _require(actor, "raise_again", escalation)
    with transaction.atomic():
        raised = escalation_raise(
            actor=actor,
            partnership=escalation.partnership,
            details=details,
            immediate_danger=immediate_danger,
        )
        escalation_raised_again(actor=actor, escalation=escalation, raised=raised)
    return raised
