"""An escalation as the API shows it: its summary in lists, and the whole of it on its own,
within what the reader may see (children's details only where ``sees_children``)."""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Value
from django.db.models.functions import Cast
from django.http import HttpRequest

from accord.escalations.models import Escalation
from accord.escalations.policies import allowed_actions, sees_children
from accord.escalations.selectors import CurrentHolders, attach_others, current_holders, is_overdue
from accord.escalations.subjects import Subject
from accord.partnership.models import ProtocolVersion, User
from accord.partnership.protocol import ladder_of

from .common import visible_escalation


def parties_out(e: Escalation) -> list[dict[str, Any]]:
    """The raising agency (with the raiser), then each agency the difference is with, and
    the practitioner named there, if any."""

    def username(person) -> str | None:
        return person.username if person is not None else None

    parties = [
        {
            "agency": e.raising_agency_id,
            "agency_name": e.raising_agency.name,
            "practitioner": e.raised_by.username,
            "side": "raising",
        },
        {
            "agency": e.with_agency_id,
            "agency_name": e.with_agency.name,
            "practitioner": username(e.with_practitioner) if e.with_practitioner_id else None,
            "side": "other",
        },
    ]
    parties += [
        {
            "agency": o.agency_id,
            "agency_name": o.agency.name,
            "practitioner": username(o.practitioner),
            "side": "other",
        }
        for o in e.others()
    ]
    return parties


def attach_people(rows: list[Escalation]) -> None:
    """The raisers and named practitioners of a page of escalations, and their other
    parties, read in two statements for the whole page."""
    attach_others(rows)
    ids = {e.raised_by_id for e in rows} | {e.with_practitioner_id for e in rows if e.with_practitioner_id}
    people = User.objects.in_bulk(ids) if ids else {}
    for e in rows:
        e.raised_by = people[e.raised_by_id]
        if e.with_practitioner_id:
            e.with_practitioner = people[e.with_practitioner_id]


def _adult(e: Escalation) -> dict[str, str]:
    return {
        "knows_of_difference": e.adult_aware,
        "views_and_wishes": e.adult_views,
        "advocate": e.adult_advocate,
    }


def summary_out(e: Escalation) -> dict[str, Any]:
    return {
        "id": e.pk,
        "reference": e.reference,
        "partnership": e.partnership.slug,
        "kind": e.kind,
        "status": e.status,
        "stage": e.stage,
        "stage_name": ladder_of(e.partnership).name_of(e.stage),
        "stage_key": ladder_of(e.partnership).key_of(e.stage),
        "highest_stage": e.highest_stage,
        "urgency": e.urgency,
        "origin": e.origin,
        "due_date": e.due_date,
        "overdue": is_overdue(e),
        "raised_at": e.raised_at,
        "raising_agency": {"id": e.raising_agency_id, "name": e.raising_agency.name},
        "with_agency": {"id": e.with_agency_id, "name": e.with_agency.name},
        "parties": parties_out(e),
        "summary": e.summary,
        "subject": e.subject,
        "version": e.version,
    }


def escalation_out(
    request: HttpRequest, escalation_id: int, escalation: Escalation | None = None
) -> dict[str, Any]:
    """The escalation as the API gives it; ``escalation``, where the caller has just read it
    within rule 7 in this request and changed nothing since, is used instead of reading it
    again."""
    e = escalation if escalation is not None else visible_escalation(request, escalation_id)
    actions = allowed_actions(request.user, e)
    resolution = (
        e.resolutions.select_related("resolved_by", "follow_up__answered_by").order_by("-resolved_at").first()
    )
    follow_up = getattr(resolution, "follow_up", None) if resolution is not None else None
    codes = _codes(e)
    data = summary_out(e)
    data.update(
        with_practitioner=e.with_practitioner.username if e.with_practitioner else None,
        with_people=e.with_people,
        raised_by=e.raised_by.username,
        decision_challenged=e.decision_challenged,
        concern=e.concern,
        evidence=e.evidence,
        professional_curiosity=e.professional_curiosity,
        child_voice=e.child_voice,
        family_view=e.family_view,
        family_aware=e.family_aware,
        tried_so_far=e.tried_so_far,
        desired_outcome=e.desired_outcome,
        area_of_disagreement=e.area_of_disagreement.code if e.area_of_disagreement_id else None,
        areas_of_disagreement=_areas(e, codes["area"]),
        themes=sorted(codes["theme"]),
        # (Withheld from a facilitator unless the partnership turns that on: ``sees_children``.)
        children=[
            {"name": c.name, "date_of_birth": c.date_of_birth, "agency_reference": c.agency_reference}
            for c in (e.children.all() if sees_children(request.user, e) else [])
        ],
        adult=_adult(e) if e.subject == Subject.ADULT and sees_children(request.user, e) else None,
        reflection=e.reflection if "read_reflection" in actions else None,
        formal_at=e.formal_at,
        formal_reason=e.formal_reason,
        efforts_to_resolve=e.efforts_to_resolve,
        closed_at=e.closed_at,
        allowed_actions=sorted(a for a in actions if a != "read_reflection"),
        imported_reference=(e.imported_reference or "") if e.imported_in_id else None,
        protocol_version=int(codes["version"][0]) if codes["version"] else None,
        resolution=None
        if resolution is None
        else {
            "outcome": resolution.outcome,
            "agreed_way_forward": resolution.agreed_way_forward,
            "child_centred_outcome_achieved": resolution.child_centred_outcome_achieved,
            "learning": resolution.learning,
            "referred_to": resolution.referred_to,
            "stage": resolution.stage,
            "resolved_by": resolution.resolved_by.username,
            "resolved_at": resolution.resolved_at,
            "follow_up": None
            if follow_up is None
            else {
                "due_on": follow_up.due_on,
                "asked_at": follow_up.asked_at,
                "answered_at": follow_up.answered_at,
                "answered_by": follow_up.answered_by.username if follow_up.answered_by else None,
                "held": follow_up.held or None,
                "what_changed": follow_up.what_changed,
            },
        },
        current_stage_holders=holders_out(current_holders(viewer=request.user, escalation=e)),
        agreed_actions=[
            {
                "id": a.pk,
                "description": a.description,
                "owner_agency": a.owner_agency_id,
                "due_date": a.due_date,
                "completed_on": a.completed_on,
                "completion_note": a.completion_note,
            }
            for a in e.agreed_actions.all()
        ],
    )
    return data


def holders_out(holders: CurrentHolders | None) -> dict[str, Any] | None:
    """Who holds the current stage, as the escalation's page shows it (None once closed)."""
    if holders is None:
        return None
    return {
        "stage": holders.number,
        "name": holders.name,
        "senior_tiers_too": holders.senior_tiers_too,
        "groups": [
            {
                "agency": g.agency,
                "role": g.role,
                "people": None
                if g.people is None
                else [{"username": username, "name": name} for username, name in g.people],
                "may": list(g.may),
            }
            for g in holders.groups
        ],
    }


def _codes(e: Escalation) -> dict[str, list[str]]:
    """The codes of the escalation's areas of disagreement and practice themes, and the
    number of the protocol version it runs under, in one statement."""
    kinds = (
        (
            "area",
            Escalation.areas_of_disagreement.through.objects.filter(escalation_id=e.pk),
            "areaofdisagreement__code",
        ),
        ("theme", Escalation.themes.through.objects.filter(escalation_id=e.pk), "practicetheme__code"),
        ("version", ProtocolVersion.objects.filter(pk=e.runs_under_id), "number"),
    )
    parts = [
        qs.order_by().annotate(kind=Value(kind), value=Cast(field, CharField())).values_list("kind", "value")
        for kind, qs, field in kinds
    ]
    found: dict[str, list[str]] = {kind: [] for kind, _qs, _field in kinds}
    for kind, value in parts[0].union(*parts[1:], all=True):
        found[kind].append(value)
    return found


def _areas(e: Escalation, codes: list[str]) -> list[str]:
    """The escalation's areas, the first first."""
    codes = sorted(codes)
    first = e.area_of_disagreement.code if e.area_of_disagreement_id else None
    return [first, *(c for c in codes if c != first)] if first else codes
