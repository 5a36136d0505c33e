"""The escalation endpoints and the reference data: each calls the same selectors, policies and
services as the pages."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from ninja import File, Form, Query, Router
from ninja.files import UploadedFile

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.escalations import services
from accord.escalations.models import AgreedAction, Escalation, Event
from accord.escalations.selectors import (
    ListFilters,
    VisibleMostRecentFirst,
    agreed_action_get,
    escalation_count,
    escalation_list,
    page_rows,
)
from accord.escalations.services import guests
from accord.escalations.subjects import subjects_for
from accord.partnership.protocol import ANSWERS, ladder_of
from accord.partnership.selectors import casework_agencies, partnership_agencies

from . import schemas as s
from .app import STANDARD_ERRORS
from .common import if_match_version, named_partnership, visible_escalation
from .idempotency import idempotent, respond
from .serialisers import attach_people, summary_out

# ------------------------------------------------------------------ reference data

router = Router()


@router.get(
    "/agencies", response={200: list[s.AgencyOut], **STANDARD_ERRORS}, summary="The partnership's agencies"
)
def list_agencies(request, partnership: str | None = None):
    p = named_partnership(request, partnership)
    casework = set(casework_agencies(p).values_list("pk", flat=True))
    return [
        {"id": a.pk, "name": a.name, "kind": a.kind, "takes_part_in_casework": a.pk in casework}
        for a in partnership_agencies(p)
    ]


@router.get(
    "/people",
    response={200: list[s.PersonOut], **STANDARD_ERRORS},
    summary=(
        "Search the partnership's staff a difference may name, by the start of a name or work email "
        "(at least three characters; of one agency where given; rate limited and audited)"
    ),
)
def search_people(
    request, q: str = Query(..., max_length=200), agency: int | None = None, partnership: str | None = None
):
    p = named_partnership(request, partnership)
    # (An agency not among the partnership's casework agencies finds nobody.)
    people = services.directory_lookup(actor=request.user, partnership=p, text=q, agency_id=agency)
    return [
        {
            "username": u.username,
            "name": u.get_full_name() or u.username,
            "email": u.email,
            "agency": u.agency_id,
            "agency_name": u.agency.name if u.agency_id else "",
        }
        for u in people
    ]


@router.get(
    "/taxonomies",
    response={200: s.TaxonomiesOut, **STANDARD_ERRORS},
    summary="Areas of disagreement, practice themes and priority tiers",
)
def taxonomies(request, partnership: str | None = None):
    p = named_partnership(request, partnership)
    return {
        "areas_of_disagreement": [
            {"code": t.code, "label": t.label} for t in p.areas_of_disagreement.filter(is_active=True)
        ],
        "themes": [{"code": t.code, "label": t.label} for t in p.practice_themes.filter(is_active=True)],
        "priorities": [{"code": t.code, "label": t.label} for t in ladder_of(p).priorities],
        "safeguards": p.safeguards,
        "subjects": [{"code": c.value, "label": str(c.label)} for c in subjects_for(p.safeguards)],
    }


@router.get(
    "/stages",
    response={200: list[s.StageOut], **STANDARD_ERRORS},
    summary="The protocol's stages, each with what it asks for before an escalation enters it",
)
def list_stages(request, partnership: str | None = None):
    p = named_partnership(request, partnership)
    ladder = ladder_of(p)
    return [
        {
            "number": st.number,
            "key": st.key,
            "name": st.name,
            "worked_by": st.worked_by,
            "formal": st.formal,
            "routine_working_days": st.routine_working_days,
            "urgent_working_days": st.urgent_working_days,
            "requires": [
                {"name": a, "label": str(ANSWERS[a])}
                for a in (
                    ladder.required_to_raise() if st.number == 1 else ladder.required_to_enter(st.number)
                )
            ],
        }
        for st in ladder.stages
    ]


# ------------------------------------------------------------------ escalations


class ListQuery(s.InSchema):
    status: s.Status | None = None
    stage: int | None = s.Field(None, ge=1, le=9)
    kind: s.Kind | None = None
    overdue: bool | None = None
    agency: int | None = s.Field(None, ge=1, le=2**62)
    partnership: str | None = s.Field(None, max_length=50)
    page: int = s.Field(1, ge=1, le=100000)
    page_size: int = s.Field(50, ge=1, le=200)


@router.get(
    "/escalations", response={200: s.EscalationPage, **STANDARD_ERRORS}, summary="Escalations you may see"
)
def list_escalations(request, q: Query[ListQuery]):
    p = named_partnership(request, q.partnership)
    filters = ListFilters(
        status=q.status or "", stage=q.stage, kind=q.kind or "", agency=q.agency, overdue=bool(q.overdue)
    )
    qs = escalation_list(user=request.user, partnership=p, filters=filters).select_related("partnership")
    count = escalation_count(user=request.user, partnership=p, filters=filters, qs=qs)
    start = (q.page - 1) * q.page_size
    if filters == ListFilters():  # found in the table of who may see which, as the list page
        everything = VisibleMostRecentFirst(qs, user=request.user, partnership=p, limit=count, kept=count)
        rows = everything[start : start + q.page_size]
    else:
        rows = page_rows(qs, start, start + q.page_size, count)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_LISTED,
        partnership_id=p.pk,
        payload={"api": True, "page": q.page},
    )
    rows = list(rows)
    attach_people(rows)
    return {
        "count": count,
        "page": q.page,
        "page_size": q.page_size,
        "results": [summary_out(e) for e in rows],
    }


def escalation_action(
    request, escalation_id: int, status: int, perform: Callable[[Escalation, int | None], None]
):
    version = if_match_version(request)
    e = visible_escalation(request, escalation_id)

    def write() -> int:
        perform(e, version)
        return e.pk

    return idempotent(request, status, write)


@router.post(
    "/escalations", response={201: s.EscalationOut, **STANDARD_ERRORS}, summary="Raise an escalation"
)
def raise_escalation(request, payload: s.EscalationIn):
    p = named_partnership(request, payload.partnership)
    details = raise_details(payload)

    def write() -> int:
        return services.escalation_raise(
            actor=request.user, partnership=p, details=details, immediate_danger=payload.immediate_danger
        ).pk

    return idempotent(request, 201, write)


@router.post(
    "/escalations/{escalation_id}/raise-again",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary=(
        "Where a party said the agreed way forward did not hold: raise the difference again as a new "
        "escalation linked to this one, whatever its reopening window (any party who may raise)"
    ),
)
def raise_again(request, escalation_id: int, payload: s.EscalationIn):
    e = visible_escalation(request, escalation_id)
    details = raise_details(payload)

    def write() -> int:
        return services.escalation_raise_again(
            actor=request.user, escalation=e, details=details, immediate_danger=payload.immediate_danger
        ).pk

    return idempotent(request, 201, write)


def raise_details(payload: s.EscalationIn) -> services.RaiseDetails:
    return services.RaiseDetails(
        kind=payload.kind,
        with_agency_id=payload.with_agency,
        with_practitioner_username=payload.with_practitioner or "",
        with_practitioner_email=payload.with_practitioner_email or "",
        with_people=payload.with_people,
        other_parties=[
            services.PartyDetails(
                agency_id=o.agency,
                practitioner_username=o.practitioner or "",
                practitioner_email=o.practitioner_email or "",
            )
            for o in payload.other_parties
        ],
        summary=payload.summary,
        decision_challenged=payload.decision_challenged,
        concern=payload.concern,
        evidence=payload.evidence,
        professional_curiosity=payload.professional_curiosity,
        child_voice=payload.child_voice,
        family_view=payload.family_view,
        family_aware=payload.family_aware,
        tried_so_far=payload.tried_so_far,
        desired_outcome=payload.desired_outcome,
        urgency=payload.urgency,
        origin=payload.origin,
        area_of_disagreement_code=payload.area_of_disagreement
        or (payload.areas_of_disagreement[0] if payload.areas_of_disagreement else ""),
        area_codes=payload.areas_of_disagreement,
        theme_codes=payload.themes,
        children=[
            services.ChildDetails(
                name=c.name, date_of_birth=c.date_of_birth, agency_reference=c.agency_reference
            )
            for c in payload.children
        ],
        reflection=payload.reflection,
        start_stage=payload.start_stage,
        start_stage_reason=payload.start_stage_reason,
        subject=payload.subject,
        adult_aware=payload.adult_aware,
        adult_views=payload.adult_views,
        adult_advocate=payload.adult_advocate,
    )


@router.post(
    "/escalations/settled",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Record a difference already settled between the practitioners (raised and resolved at stage 1)",
)
def record_settled(request, payload: s.SettledIn):
    p = named_partnership(request, payload.partnership)
    details = services.SettledDetails(
        kind=payload.kind,
        with_agency_id=payload.with_agency,
        with_practitioner_username=payload.with_practitioner or "",
        summary=payload.summary,
        outcome=payload.outcome,
        agreed_way_forward=payload.agreed_way_forward,
        learning=payload.learning,
        subject=payload.subject,
    )

    def write() -> int:
        return services.escalation_record_settled(
            actor=request.user, partnership=p, details=details, immediate_danger=payload.immediate_danger
        ).pk

    return idempotent(request, 201, write)


@router.get(
    "/escalations/{escalation_id}",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="One escalation",
)
def get_escalation(request, escalation_id: int, partnership: str | None = None):
    e = visible_escalation(request, escalation_id, partnership)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=e,
        partnership_id=e.partnership_id,
        payload={"reference": e.reference, "api": True},
    )
    return respond(request, 200, e.pk, e)


@router.get(
    "/escalations/{escalation_id}/timeline",
    response={200: list[s.EventOut], **STANDARD_ERRORS},
    summary="The escalation's events, oldest first",
)
def timeline(request, escalation_id: int, partnership: str | None = None):
    e = visible_escalation(request, escalation_id, partnership)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=e,
        partnership_id=e.partnership_id,
        payload={"reference": e.reference, "api": True, "part": "timeline"},
    )
    events = Event.objects.filter(escalation=e).select_related("actor").order_by("at", "id")
    return [
        {"type": ev.type, "at": ev.at, "actor": ev.actor.username, "stage": ev.stage, "summary": ev.summary}
        for ev in events
    ]


@router.post(
    "/escalations/{escalation_id}/discussions",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Record a discussion",
)
def add_discussion(request, escalation_id: int, payload: s.DiscussionIn):
    return escalation_action(
        request,
        escalation_id,
        201,
        lambda e, v: services.escalation_record_discussion(
            actor=request.user,
            escalation=e,
            held_on=payload.held_on,
            note=payload.note,
            with_manager=payload.with_manager,
            participants=payload.participants,
            agreed=payload.agreed,
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/parties",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Bring another agency into the difference (the parties, or the formal body once formal)",
)
def add_party(request, escalation_id: int, payload: s.AddPartyIn):
    return escalation_action(
        request,
        escalation_id,
        201,
        lambda e, v: services.escalation_add_party(
            actor=request.user,
            escalation=e,
            agency_id=payload.agency,
            practitioner_username=payload.practitioner or "",
            reason=payload.reason,
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/guests",
    response={201: s.EscalationOut, 204: None, **STANDARD_ERRORS},
    summary="Name someone of an agency the difference is with by work email, as a guest",
)
def name_guest(request, escalation_id: int, payload: s.GuestNameIn):
    """As the pages: the professional (the parties working it), or, where it stands at a stage
    the agencies' leaders work and the agency has nobody in Accord to work it, its leader (the
    raiser's line manager or the business unit; 204 for the business unit, who does not see
    the escalation)."""
    if payload.acts_as == "professional":
        return escalation_action(
            request,
            escalation_id,
            201,
            lambda e, v: guests.guest_name(
                actor=request.user, escalation=e, agency_id=payload.agency, email=payload.email
            ),
        )
    e = guests.escalation_for_leader_naming(request.user, escalation_id)

    def write() -> int:
        guests.guest_name_leader(
            actor=request.user, escalation=e, agency_id=payload.agency, email=payload.email
        )
        return e.pk

    return idempotent(request, 201, write)


@router.post(
    "/escalations/{escalation_id}/parties/{agency_id}/remove",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Take out an agency brought in beside the first, with the reason",
)
def remove_party(request, escalation_id: int, agency_id: int, payload: s.RemovePartyIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_remove_party(
            actor=request.user, escalation=e, agency_id=agency_id, reason=payload.reason, expected_version=v
        ),
    )


@router.post(
    "/escalations/{escalation_id}/escalate",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Move to the next stage (or skip, with a reason)",
)
def escalate(request, escalation_id: int, payload: s.EscalateIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_escalate(
            actor=request.user,
            escalation=e,
            reason=payload.reason,
            efforts_to_resolve=payload.efforts_to_resolve,
            to_stage=payload.to_stage,
            skip_reason=payload.skip_reason,
            expected_version=v,
            answers=payload.answers.given() if payload.answers else None,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/details",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Add details the protocol had not asked for yet (the raiser's account)",
)
def add_details(request, escalation_id: int, payload: s.DetailsIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_add_details(
            actor=request.user, escalation=e, answers=payload.answers.given(), expected_version=v
        ),
    )


@router.post(
    "/escalations/{escalation_id}/view",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Add your view to a difference recorded as settled",
)
def add_view(request, escalation_id: int, payload: s.ViewIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_add_view(
            actor=request.user, escalation=e, view=payload.view, expected_version=v
        ),
    )


@router.post(
    "/escalations/{escalation_id}/pdg-actions",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Record an offer or action of the formal body",
)
def pdg_action(request, escalation_id: int, payload: s.PdgActionIn):
    return escalation_action(
        request,
        escalation_id,
        201,
        lambda e, v: services.escalation_pdg_action(
            actor=request.user,
            escalation=e,
            action=payload.action,
            note=payload.note,
            facilitator_username=payload.facilitator or "",
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/resolve",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Record the resolution (the parties' managers and leaders only)",
)
def resolve(request, escalation_id: int, payload: s.ResolveIn):
    achieved = payload.child_centred_outcome_achieved
    if isinstance(achieved, bool):
        achieved = "yes" if achieved else "no"
    actions = [
        services.ActionDetails(description=a.description, owner_agency_id=a.owner_agency, due_date=a.due_date)
        for a in payload.actions
    ]
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_resolve(
            actor=request.user,
            escalation=e,
            outcome=payload.outcome,
            agreed_way_forward=payload.agreed_way_forward,
            child_centred_outcome_achieved=achieved,
            actions=actions,
            learning=payload.learning,
            referred_to=payload.referred_to,
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/withdraw",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Withdraw the escalation",
)
def withdraw(request, escalation_id: int, payload: s.WithdrawIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_withdraw(
            actor=request.user,
            escalation=e,
            reason=payload.reason,
            learning=payload.learning,
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/appoint-facilitator",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Appoint a facilitator at a facilitated stage (those who lead the stage)",
)
def appoint_facilitator(request, escalation_id: int, payload: s.AppointFacilitatorIn):
    return escalation_action(
        request,
        escalation_id,
        201,
        lambda e, v: services.escalation_facilitator_appoint(
            actor=request.user,
            escalation=e,
            facilitator_username=payload.facilitator,
            note=payload.note,
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/end-facilitation",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="End the restorative facilitator's appointment (the formal body): their access ends with it",
)
def end_facilitation(request, escalation_id: int, payload: s.OptionalReasonIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_end_facilitation(
            actor=request.user, escalation=e, reason=payload.reason, expected_version=v
        ),
    )


@router.post(
    "/escalations/{escalation_id}/actions/{action_id}/done",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Mark an agreed action done (its agency, the parties' managers and leaders, or the formal body)",
)
def complete_action(request, escalation_id: int, action_id: int, payload: s.NoteIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.agreed_action_complete(
            actor=request.user, escalation=e, action_id=action_id, note=payload.note, expected_version=v
        ),
    )


def _action_view(request, pk: int) -> dict:
    found = agreed_action_get(user=request.user, pk=pk)
    a = found.action
    return {
        "id": a.pk,
        "reference": found.reference,
        "kind": found.kind,
        "description": a.description,
        "owner_agency": a.owner_agency_id,
        "due_date": a.due_date,
        "difference": found.line,
        "themes": found.themes,
        "completed_on": a.completed_on,
        "completion_note": a.completion_note,
        "may_complete": found.may_complete,
        "sees_escalation": found.sees_escalation,
    }


@router.get(
    "/agreed-actions/{action_id}",
    response={200: s.AgreedActionView, **STANDARD_ERRORS},
    summary="An agreed or commissioned action, for its owning agency (a party or not) and whoever sees the escalation",
)
def get_agreed_action(request, action_id: int):
    view = _action_view(request, action_id)
    found = AgreedAction.objects.select_related("escalation").get(pk=action_id)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=found.escalation,
        partnership_id=found.escalation.partnership_id,
        payload={"reference": found.escalation.reference, "api": True, "part": "agreed_action"},
    )
    return view


@router.post(
    "/agreed-actions/{action_id}/done",
    response={200: s.AgreedActionView, **STANDARD_ERRORS},
    summary="Mark an agreed or commissioned action done, with a note (its owning agency, party or not)",
)
def agreed_action_done(request, action_id: int, payload: s.NoteIn):
    found = agreed_action_get(user=request.user, pk=action_id)
    services.agreed_action_complete(
        actor=request.user, escalation=found.action.escalation, action_id=action_id, note=payload.note
    )
    return _action_view(request, action_id)


@router.post(
    "/escalations/{escalation_id}/reassign",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Hand the raiser's or an agency's named practitioner's part to someone else in the same agency (its managers and leaders)",
)
def reassign(request, escalation_id: int, payload: s.ReassignIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_reassign(
            actor=request.user,
            escalation=e,
            holder=str(payload.holder),
            to_username=payload.to or "",
            reason=payload.reason,
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/follow-up",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Say, once it is due some weeks after the resolution, whether the agreed way forward held and what changed for the child (the parties)",
)
def follow_up(request, escalation_id: int, payload: s.FollowUpIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_follow_up(
            actor=request.user,
            escalation=e,
            held=payload.held,
            what_changed=payload.what_changed,
            learning=payload.learning,
            expected_version=v,
        ),
    )


@router.post(
    "/escalations/{escalation_id}/pause",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Pause the stage's clock, with the reason (the parties' managers and leaders)",
)
def pause(request, escalation_id: int, payload: s.ReasonIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_pause(
            actor=request.user, escalation=e, reason=payload.reason, expected_version=v
        ),
    )


@router.post(
    "/escalations/{escalation_id}/resume",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Restart the stage's clock (its due date moves by the working days paused)",
)
def resume(request, escalation_id: int):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_resume(actor=request.user, escalation=e, expected_version=v),
    )


@router.post(
    "/escalations/{escalation_id}/reopen",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Reopen a closed escalation within the partnership's window, with the reason",
)
def reopen(request, escalation_id: int, payload: s.ReasonIn):
    return escalation_action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_reopen(
            actor=request.user, escalation=e, reason=payload.reason, expected_version=v
        ),
    )


@router.get(
    "/escalations/{escalation_id}/documents",
    response={200: list[s.DocumentOut], **STANDARD_ERRORS},
    summary="The escalation's evidence documents",
)
def list_documents(request, escalation_id: int, partnership: str | None = None):
    e = visible_escalation(request, escalation_id, partnership)
    return [
        {
            "id": d.pk,
            "filename": d.filename,
            "content_type": d.content_type,
            "size": d.size,
            "description": d.description,
            "uploaded_by": d.uploaded_by.username,
            "uploaded_at": d.uploaded_at,
        }
        for d in e.documents.select_related("uploaded_by")
    ]


@router.post(
    "/escalations/{escalation_id}/documents",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Attach an evidence document (multipart: file, and an optional description)",
)
def add_document(request, escalation_id: int, file: File[UploadedFile], description: Form[str] = ""):
    return escalation_action(
        request,
        escalation_id,
        201,
        lambda e, v: services.escalation_add_document(
            actor=request.user, escalation=e, upload=file, description=description[:200], expected_version=v
        ),
    )


@router.get(
    "/escalations/{escalation_id}/documents/{document_id}",
    response={200: None, **STANDARD_ERRORS},
    summary="Download an evidence document (audited)",
)
def get_document(request, escalation_id: int, document_id: int, partnership: str | None = None):
    e = visible_escalation(request, escalation_id, partnership)
    doc, content = services.escalation_document_read(
        actor=request.user, escalation=e, document_id=document_id
    )
    response = HttpResponse(content, content_type=doc.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=doc.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response
