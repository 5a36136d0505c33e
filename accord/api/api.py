"""Accord's JSON API for partner agencies' systems (``/api/v1``).

Every endpoint acts as the token's user and calls the same selectors, policies
and services as the pages: no rule is written twice. Errors are
``application/problem+json`` (RFC 9457).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.request import RawPostDataException
from django.utils.http import content_disposition_header
from ninja import File, Form, NinjaAPI, Query, Router
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import (
    IllegalTransition,
    ImmediateDanger,
    NotAllowed,
    NotFound,
    RuleViolation,
    StaleVersion,
)
from accord.escalations import services
from accord.escalations.models import Escalation, Event
from accord.escalations.policies import allowed_actions, sees_children
from accord.escalations.selectors import (
    ListFilters,
    VisibleMostRecentFirst,
    escalation_count,
    escalation_get,
    escalation_list,
    is_overdue,
    page_rows,
)
from accord.partnership.models import Partnership
from accord.partnership.protocol import ladder_of
from accord.partnership.roles import FULL_REPORT_ROLES, REPORT_ROLES
from accord.partnership.selectors import partnership_agencies, partnerships_for, user_roles
from accord.reports.disclosure import WITHHELD_SYMBOL, small
from accord.reports.disclosure import key as disclosure_key
from accord.reports.selectors import Period, pdg_figures, suppressed
from accord.reports.views import default_period

from . import schemas as s
from .models import IdempotencyRecord
from .services import api_rate_count, api_token_authenticate

PROBLEM = "application/problem+json"


def problem(
    status: int, title: str, detail: str = "", errors: dict[str, list[str]] | None = None, **extra: Any
) -> JsonResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return JsonResponse(body, status=status, content_type=PROBLEM)


class RateLimited(Exception):
    pass


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is None:
            return None
        limit = getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 600)
        if api_rate_count(user.api_token_id) > limit:
            raise RateLimited()
        request.user = user
        return user


class AccordApi(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """Declare every error response as application/problem+json (RFC 9457)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content")
                    if str(code).startswith(("4", "5")) and content and "application/json" in content:
                        response["content"] = {PROBLEM: content.pop("application/json")}
        return schema


api = AccordApi(
    title="Accord API",
    version="1",
    description=(
        "Raise and follow escalations from a partner agency's own systems. Every request acts as "
        "the token's user, with that user's permissions. Errors are application/problem+json."
    ),
    auth=TokenAuth(),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)

STANDARD_ERRORS = {
    400: s.Problem,
    401: s.Problem,
    403: s.Problem,
    404: s.Problem,
    409: s.Problem,
    413: s.Problem,
    422: s.Problem,
    429: s.Problem,
}


def _messages(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            k: [str(m) for m in v.messages] if hasattr(v, "messages") else [str(x) for x in v]
            for k, v in error.message_dict.items()
        }
    return {"__all__": [str(m) for m in error.messages]}


@api.exception_handler(NinjaValidationError)
def _invalid(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        loc = [str(p) for p in e.get("loc", []) if p not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(loc) or "__all__", []).append(str(e.get("msg", "Invalid value")))
    return problem(400, "The request is not valid", "Check the fields named in errors.", errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    response = problem(
        401,
        "Authentication required",
        "Send a valid, unexpired API token as 'Authorization: Bearer <token>'.",
    )
    response["WWW-Authenticate"] = 'Bearer realm="accord"'
    return response


@api.exception_handler(RateLimited)
def _rate_limited(request, exc):
    response = problem(429, "Too many requests", "Slow down and try again in a minute.")
    response["Retry-After"] = "60"
    return response


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    from http import HTTPStatus

    return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.message))


@api.exception_handler(NotFound)
def _not_found(request, exc):
    return problem(404, "Not found", "There is no such escalation, or you may not see it.")


@api.exception_handler(IllegalTransition)
def _illegal(request, exc):
    return problem(409, "Not allowed from the escalation's current state", str(exc))


@api.exception_handler(NotAllowed)
def _forbidden(request, exc):
    return problem(403, "Forbidden", str(exc))


@api.exception_handler(StaleVersion)
def _stale(request, exc):
    return problem(409, "The escalation has changed", str(exc))


@api.exception_handler(ImmediateDanger)
def _danger(request, exc):
    return problem(
        422, "Accord is not for a child in immediate danger", str(exc), {"immediate_danger": [str(exc)]}
    )


@api.exception_handler(RuleViolation)
def _rule(request, exc: RuleViolation):
    return problem(
        422, "The protocol does not allow this", " ".join(exc.messages), _messages(exc), rule=exc.rule
    )


@api.exception_handler(DjangoValidationError)
def _django_invalid(request, exc: DjangoValidationError):
    return problem(400, "The request is not valid", "Check the fields named in errors.", _messages(exc))


# ------------------------------------------------------------------ helpers


def _partnership(request: HttpRequest, slug: str | None) -> Partnership:
    mine = list(partnerships_for(request.user))
    if slug:
        for p in mine:
            if p.slug == slug:
                return p
        raise HttpError(404, "No such partnership, or you have no role in it.")
    if len(mine) == 1:
        return mine[0]
    if not mine:
        raise HttpError(403, "You have no role in any partnership.")
    raise HttpError(400, "You work in several partnerships: name one with 'partnership'.")


def _if_match(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    match = re.fullmatch(r'\s*(?:W/)?"?(\d{1,9})"?\s*', header)
    if not match:
        raise HttpError(400, 'If-Match must be the escalation\'s version, e.g. "3".')
    return int(match.group(1))


def _get(request: HttpRequest, escalation_id: int) -> Escalation:
    return escalation_get(user=request.user, pk=escalation_id)


def summary_out(e: Escalation) -> dict[str, Any]:
    return {
        "id": e.pk,
        "reference": e.reference,
        "partnership": e.partnership.slug,
        "kind": e.kind,
        "status": e.status,
        "stage": e.stage,
        "highest_stage": e.highest_stage,
        "urgency": e.urgency,
        "origin": e.origin,
        "due_date": e.due_date,
        "overdue": is_overdue(e),
        "raised_at": e.raised_at,
        "raising_agency": {"id": e.raising_agency_id, "name": e.raising_agency.name},
        "with_agency": {"id": e.with_agency_id, "name": e.with_agency.name},
        "summary": e.summary,
        "version": e.version,
    }


def escalation_out(request: HttpRequest, escalation_id: int) -> dict[str, Any]:
    e = _get(request, escalation_id)
    actions = allowed_actions(request.user, e)
    resolution = e.resolutions.select_related("resolved_by").order_by("-resolved_at").first()
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
        area_of_disagreement=e.area_of_disagreement.code,
        themes=sorted(e.themes.values_list("code", flat=True)),
        # (Withheld from a facilitator unless the partnership turns that on: ``sees_children``.)
        children=[
            {"name": c.name, "date_of_birth": c.date_of_birth, "agency_reference": c.agency_reference}
            for c in (e.children.all() if sees_children(request.user, e) else [])
        ],
        reflection=e.reflection if "read_reflection" in actions else None,
        formal_at=e.formal_at,
        formal_reason=e.formal_reason,
        efforts_to_resolve=e.efforts_to_resolve,
        closed_at=e.closed_at,
        allowed_actions=sorted(a for a in actions if a != "read_reflection"),
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
        },
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


def _respond(request: HttpRequest, status: int, escalation_id: int):
    data = escalation_out(request, escalation_id)
    response = JsonResponse(s.EscalationOut(**data).model_dump(mode="json"), status=status)
    response["ETag"] = f'"{data["version"]}"'
    response["Location"] = f"/api/v1/escalations/{escalation_id}"
    return response


def _fingerprint(request: HttpRequest) -> str:
    """What identifies the request: its method, path and body. A multipart body (an
    evidence document) has been read into its fields and files by then: those, with each
    file's name, size and content hash, stand for it."""
    digest = hashlib.sha256(request.method.encode() + request.path.encode() + b"\n")
    try:
        digest.update(request.body)
    except RawPostDataException:
        for key in sorted(request.POST):
            digest.update(f"{key}={request.POST.getlist(key)}\n".encode())
        for key in sorted(request.FILES):
            for upload in request.FILES.getlist(key):
                content = hashlib.sha256()
                for chunk in upload.chunks():
                    content.update(chunk)
                upload.seek(0)
                digest.update(f"{key}:{upload.name}:{upload.size}:{content.hexdigest()}\n".encode())
    return digest.hexdigest()


def _idempotent(request: HttpRequest, status: int, write: Callable[[], int]):
    """Run ``write`` (which answers an escalation id) at most once per Idempotency-Key."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return _respond(request, status, write())
    if not 1 <= len(key) <= 200:
        raise HttpError(400, "Idempotency-Key must be 1 to 200 characters.")
    fingerprint = _fingerprint(request)
    existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
    if existing is not None:
        if existing.fingerprint != fingerprint:
            return problem(422, "Idempotency-Key reused", "This key was used for a different request.")
        return _respond(request, existing.status_code, existing.escalation_id)
    try:
        with transaction.atomic():
            escalation_id = write()
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                fingerprint=fingerprint,
                status_code=status,
                escalation_id=escalation_id,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(user=request.user, key=key)
        return _respond(request, existing.status_code, existing.escalation_id)
    return _respond(request, status, escalation_id)


# ------------------------------------------------------------------ reference data

router = Router()


@router.get(
    "/agencies", response={200: list[s.AgencyOut], **STANDARD_ERRORS}, summary="The partnership's agencies"
)
def list_agencies(request, partnership: str | None = None):
    p = _partnership(request, partnership)
    return [{"id": a.pk, "name": a.name, "kind": a.kind} for a in partnership_agencies(p)]


@router.get(
    "/taxonomies",
    response={200: s.TaxonomiesOut, **STANDARD_ERRORS},
    summary="Areas of disagreement, practice themes and priority tiers",
)
def taxonomies(request, partnership: str | None = None):
    p = _partnership(request, partnership)
    return {
        "areas_of_disagreement": [
            {"code": t.code, "label": t.label} for t in p.areas_of_disagreement.filter(is_active=True)
        ],
        "themes": [{"code": t.code, "label": t.label} for t in p.practice_themes.filter(is_active=True)],
        "priorities": [{"code": t.code, "label": t.label} for t in ladder_of(p).priorities],
    }


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
    p = _partnership(request, q.partnership)
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
    return {
        "count": count,
        "page": q.page,
        "page_size": q.page_size,
        "results": [summary_out(e) for e in rows],
    }


@router.post(
    "/escalations", response={201: s.EscalationOut, **STANDARD_ERRORS}, summary="Raise an escalation"
)
def raise_escalation(request, payload: s.EscalationIn):
    p = _partnership(request, payload.partnership)
    details = services.RaiseDetails(
        kind=payload.kind,
        with_agency_id=payload.with_agency,
        with_practitioner_username=payload.with_practitioner or "",
        with_people=payload.with_people,
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
        area_of_disagreement_code=payload.area_of_disagreement,
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
    )

    def write() -> int:
        return services.escalation_raise(
            actor=request.user, partnership=p, details=details, immediate_danger=payload.immediate_danger
        ).pk

    return _idempotent(request, 201, write)


@router.get(
    "/escalations/{escalation_id}",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="One escalation",
)
def get_escalation(request, escalation_id: int):
    e = _get(request, escalation_id)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=e,
        partnership_id=e.partnership_id,
        payload={"reference": e.reference, "api": True},
    )
    return _respond(request, 200, e.pk)


@router.get(
    "/escalations/{escalation_id}/timeline",
    response={200: list[s.EventOut], **STANDARD_ERRORS},
    summary="The escalation's events, oldest first",
)
def timeline(request, escalation_id: int):
    e = _get(request, escalation_id)
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


def _action(request, escalation_id: int, status: int, perform: Callable[[Escalation, int | None], None]):
    version = _if_match(request)
    e = _get(request, escalation_id)

    def write() -> int:
        perform(e, version)
        return e.pk

    return _idempotent(request, status, write)


@router.post(
    "/escalations/{escalation_id}/discussions",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Record a discussion",
)
def add_discussion(request, escalation_id: int, payload: s.DiscussionIn):
    return _action(
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
    "/escalations/{escalation_id}/escalate",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Move to the next stage (or skip, with a reason)",
)
def escalate(request, escalation_id: int, payload: s.EscalateIn):
    return _action(
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
        ),
    )


@router.post(
    "/escalations/{escalation_id}/pdg-actions",
    response={201: s.EscalationOut, **STANDARD_ERRORS},
    summary="Record a PDG offer or action",
)
def pdg_action(request, escalation_id: int, payload: s.PdgActionIn):
    return _action(
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
    return _action(
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
def withdraw(request, escalation_id: int, payload: s.ReasonIn):
    return _action(
        request,
        escalation_id,
        200,
        lambda e, v: services.escalation_withdraw(
            actor=request.user, escalation=e, reason=payload.reason, expected_version=v
        ),
    )


@router.post(
    "/escalations/{escalation_id}/end-facilitation",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="End the restorative facilitator's appointment (the PDG): their access ends with it",
)
def end_facilitation(request, escalation_id: int, payload: s.OptionalReasonIn):
    return _action(
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
    return _action(
        request,
        escalation_id,
        200,
        lambda e, v: services.agreed_action_complete(
            actor=request.user, escalation=e, action_id=action_id, note=payload.note, expected_version=v
        ),
    )


@router.post(
    "/escalations/{escalation_id}/pause",
    response={200: s.EscalationOut, **STANDARD_ERRORS},
    summary="Pause the stage's clock, with the reason (the parties' managers and leaders)",
)
def pause(request, escalation_id: int, payload: s.ReasonIn):
    return _action(
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
    return _action(
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
    return _action(
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
def list_documents(request, escalation_id: int):
    e = _get(request, escalation_id)
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
    return _action(
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
def get_document(request, escalation_id: int, document_id: int):
    e = _get(request, escalation_id)
    doc, content = services.escalation_document_read(
        actor=request.user, escalation=e, document_id=document_id
    )
    response = HttpResponse(content, content_type=doc.content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=doc.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


api.add_router("", router)


# ------------------------------------------------------------------ reports


class PdgReportQuery(s.InSchema):
    from_: s.dt.date | None = s.Field(None, alias="from")
    to: s.dt.date | None = None
    partnership: str | None = s.Field(None, max_length=50)


@router.get(
    "/reports/pdg",
    response={200: dict, **STANDARD_ERRORS},
    summary="The PDG standing-item figures (aggregates only)",
)
def pdg_report(request, q: Query[PdgReportQuery]):
    p = _partnership(request, q.partnership)
    roles = user_roles(request.user, p.pk)
    if not roles & REPORT_ROLES:
        raise HttpError(403, "Your role does not see the partnership's reports.")
    period = default_period(p)
    period = Period(q.from_ or period.start, q.to or period.end)
    if period.start > period.end:
        raise HttpError(400, "'from' must be on or before 'to'.")
    if period.days > 3700:
        raise HttpError(400, "The period can be at most ten years.")
    figures = pdg_figures(p, period)
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_VIEWED,
        partnership_id=p.pk,
        payload={"report": "pdg", "api": True, "from": str(period.start), "to": str(period.end)},
    )
    if roles & FULL_REPORT_ROLES:
        body: dict[str, Any] = {
            "total": figures.total,
            "by_stage_reached": figures.by_stage_reached,
            "by_kind": figures.by_kind,
            "by_urgency": figures.by_urgency,
            "by_origin": figures.by_origin,
            "by_status": figures.by_status,
            "by_area": figures.by_area,
            "by_theme": figures.by_theme,
            "by_raising_agency": figures.by_raising_agency,
            "by_receiving_agency": figures.by_receiving_agency,
            "outcomes": figures.outcomes,
            "matrix": {f"{a} -> {b}": n for (a, b), n in figures.matrix.items()},
            "timeliness": figures.timeliness,
            "low_challenge": [vars(sig) for sig in figures.low_challenge],
            "iru": figures.iru,
            "trend": figures.trend,
        }
    else:
        body = suppressed(figures)
        body["matrix"] = {f"{a} -> {b}": n for (a, b), n in body["matrix"].items()}
        # What a count shown as text means: "fewer than N" is a count from 1 to N - 1, "[c]" a
        # count withheld to protect another (``reports.disclosure``).
        body["disclosure"] = {
            "threshold": figures.threshold,
            "small": str(small(figures.threshold)),
            "withheld": WITHHELD_SYMBOL,
            "key": disclosure_key(figures.threshold),
        }
    body["from"], body["to"] = period.start, period.end
    return JsonResponse(json.loads(json.dumps(body, default=str)))
