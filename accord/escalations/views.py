"""Escalation pages. Views stay thin: they read through selectors, write through
services, and turn the services' refusals into GOV.UK error messages."""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.errors import ImmediateDanger, NotAllowed, NotFound, Refused, RuleViolation, StaleVersion
from accord.core.middleware import pending_post
from accord.partnership.models import Role
from accord.partnership.protocol import ladder_of
from accord.partnership.roles import CASEWORK_ROLES

from . import forms as f
from . import selectors, services
from .models import AgreedAction, Draft, Escalation, FamilyAware, Kind, Origin
from .policies import (
    allowed_actions,
    can_raise_in,
    completable_actions,
    may_complete_action,
    reopen_too_late,
    reopen_window_open,
    sees_children,
)
from .selectors import ListFilters, escalation_get, escalation_list, is_overdue

logger = logging.getLogger("accord.escalations")

# --------------------------------------------------------------------------- helpers


def _partnership(request: HttpRequest):
    if request.partnership is None:
        raise PermissionDenied
    return request.partnership


def _get(request: HttpRequest, pk: int) -> Escalation:
    try:
        return escalation_get(user=request.user, pk=pk, partnership=_partnership(request))
    except NotFound:
        raise Http404 from None


def _require_raiser(request: HttpRequest):
    partnership = _partnership(request)
    if not can_raise_in(request.user, partnership.pk):
        raise PermissionDenied
    return partnership


# --------------------------------------------------------------------------- raising


def start(request: HttpRequest) -> HttpResponse:
    partnership = _require_raiser(request)
    drafts = Draft.objects.filter(owner=request.user, partnership=partnership)[:5]
    context = {
        "drafts": drafts,
        "stages": services.ladder(partnership),
        "formal_body_directs": ladder_of(partnership).formal_body_directs,
    }
    return render(request, "escalations/raise/start.html", context)


@require_http_methods(["GET", "POST"])
def danger(request: HttpRequest) -> HttpResponse:
    partnership = _require_raiser(request)
    form = f.DangerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["immediate_danger"] == "yes":
            # Rule 1: nothing is recorded; the user is sent to 999 and the front door.
            return redirect("escalations:emergency")
        draft = Draft.objects.create(
            owner=request.user, partnership=partnership, data={"immediate_danger": "no"}
        )
        return redirect("escalations:step", draft=draft.pk, step=f.STEPS[0][0])
    return render(request, "escalations/raise/danger.html", {"form": form})


def emergency(request: HttpRequest) -> HttpResponse:
    return render(request, "escalations/raise/emergency.html")


def _draft(request: HttpRequest, draft_id: int) -> Draft:
    return get_object_or_404(Draft, pk=draft_id, owner=request.user, partnership=_partnership(request))


def _steps_for(draft: Draft) -> list[tuple[str, Any, str]]:
    steps = list(f.STEPS)
    if draft.data.get("kind") == Kind.THEME:
        steps = [
            (name, form, _("Children's voices") if name == "child-voice" else title)
            for name, form, title in steps
            if name != "children"
        ]
    return steps


def _form_for(step: str, request: HttpRequest, draft: Draft, data: Any = None):
    form_class = dict((s[0], s[1]) for s in f.STEPS)[step]
    kwargs: dict[str, Any] = {}
    if form_class is f.KindForm:
        kwargs["is_chair"] = Role.CONFERENCE_CHAIR in request.roles
        kwargs["ladder"] = ladder_of(draft.partnership)
    if form_class is f.WithForm:
        kwargs.update(partnership=draft.partnership, user=request.user)
    if form_class is f.OutcomeWantedForm:
        kwargs["partnership"] = draft.partnership
    if form_class is f.ChildVoiceForm:
        kwargs["theme"] = draft.data.get("kind") == Kind.THEME
    stored = {k: v for k, v in draft.data.items() if not k.startswith("_")}
    if data is None:
        form = form_class(initial=_initial(stored), **kwargs)
    else:
        form = form_class(data, **kwargs)
    return form


def _initial(stored: dict) -> dict:
    initial = dict(stored)
    for key, value in stored.items():
        if key.endswith("_date_of_birth") and isinstance(value, str) and value:
            try:
                initial[key] = dt.date.fromisoformat(value)
            except ValueError:
                initial[key] = None
    return initial


def _save_step(draft: Draft, form) -> None:
    """Keep what was typed (valid or not) so nothing is lost."""
    for name in form.fields:
        if name in form.cleaned_data if hasattr(form, "cleaned_data") else False:
            value = form.cleaned_data[name]
            if isinstance(value, dt.date):
                value = value.isoformat()
            draft.data[name] = value
        else:
            raw = form.data.getlist(name) if hasattr(form.data, "getlist") else form.data.get(name)
            if isinstance(raw, list) and len(raw) <= 1 and name not in ("themes",):
                raw = raw[0] if raw else ""
            draft.data[name] = raw
    draft.save()


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, draft: int, step: str) -> HttpResponse:
    _require_raiser(request)
    draft_obj = _draft(request, draft)
    steps = _steps_for(draft_obj)
    names = [s[0] for s in steps]
    if step not in names:
        raise Http404
    index = names.index(step)
    if request.method == "POST":
        form = _form_for(step, request, draft_obj, request.POST)
        valid = form.is_valid()
        _save_step(draft_obj, form)
        if "save_and_exit" in request.POST:
            audit_record(
                actor=request.user,
                verb=Verb.DRAFT_SAVED,
                target=draft_obj,
                partnership_id=draft_obj.partnership_id,
            )
            messages.success(
                request, _("Your draft is saved. You can come back to it from 'Raise an escalation'.")
            )
            return redirect("home")
        if valid:
            steps = _steps_for(draft_obj)
            names = [s[0] for s in steps]
            index = names.index(step) if step in names else index
            if request.GET.get("change") or index + 1 >= len(names):
                return redirect("escalations:check", draft=draft_obj.pk)
            return redirect("escalations:step", draft=draft_obj.pk, step=names[index + 1])
    else:
        kept = pending_post(request)
        if kept is not None:
            from django.http import QueryDict

            data = QueryDict(mutable=True)
            for key, values in kept.items():
                data.setlist(key, values)
            form = _form_for(step, request, draft_obj, data)
            form.is_valid()
            _save_step(draft_obj, form)
            messages.success(
                request,
                _(
                    "You were signed out, but what you had typed on this page was kept. Check it and continue."
                ),
            )
        else:
            form = _form_for(step, request, draft_obj)
    back = (
        reverse("escalations:danger")
        if index == 0
        else reverse("escalations:step", args=[draft_obj.pk, names[index - 1]])
    )
    return render(
        request,
        f"escalations/raise/step_{step.replace('-', '_')}.html",
        {
            "form": form,
            "draft": draft_obj,
            "title": steps[index][2],
            "back": back,
            "step_number": index + 1,
            "step_total": len(names),
        },
    )


def _details_from_draft(draft: Draft) -> services.RaiseDetails:
    d = draft.data
    children = []
    if d.get("kind") == Kind.CASE:
        for i in range(1, f.ChildrenForm.ROWS + 1):
            name = (d.get(f"child_{i}_name") or "").strip()
            if name:
                dob = d.get(f"child_{i}_date_of_birth")
                try:
                    dob = dt.date.fromisoformat(dob) if isinstance(dob, str) and dob else None
                except ValueError:
                    dob = None
                children.append(
                    services.ChildDetails(
                        name=name,
                        date_of_birth=dob,
                        agency_reference=d.get(f"child_{i}_agency_reference") or "",
                    )
                )
    try:
        with_agency = int(d.get("with_agency") or 0)
    except (TypeError, ValueError):
        with_agency = 0
    try:
        start_stage = int(d.get("start_stage") or 1)
    except (TypeError, ValueError):
        start_stage = 1
    themes = d.get("themes") or []
    if isinstance(themes, str):
        themes = [themes]
    theme = d.get("kind") == Kind.THEME
    return services.RaiseDetails(
        kind=d.get("kind") or "",
        origin=d.get("origin") or "",
        with_agency_id=with_agency,
        with_practitioner_username=d.get("with_practitioner") or "",
        with_people=d.get("with_people") or "",
        summary=d.get("summary") or "",
        decision_challenged=d.get("decision_challenged") or "",
        concern=d.get("concern") or "",
        evidence=d.get("evidence") or "",
        professional_curiosity=d.get("professional_curiosity") or "",
        child_voice=d.get("child_voice") or "",
        # A theme has no one family: what was typed for a case before the kind changed is
        # not sent with it.
        family_view="" if theme else d.get("family_view") or "",
        family_aware="" if theme else d.get("family_aware") or "",
        tried_so_far=d.get("tried_so_far") or "",
        desired_outcome=d.get("desired_outcome") or "",
        urgency=d.get("urgency") or "",
        area_of_disagreement_code=d.get("area_of_disagreement") or "",
        theme_codes=themes,
        children=children,
        reflection=d.get("reflection") or "",
        start_stage=start_stage,
        start_stage_reason=d.get("start_stage_reason") or "",
    )


STEP_OF_FIELD = {
    "kind": "kind",
    "origin": "kind",
    "start_stage": "kind",
    "start_stage_reason": "kind",
    "with_agency": "with",
    "with_practitioner": "with",
    "with_people": "with",
    "children": "children",
    "summary": "difference",
    "decision_challenged": "difference",
    "concern": "difference",
    "evidence": "difference",
    "professional_curiosity": "difference",
    "child_voice": "child-voice",
    "family_view": "child-voice",
    "family_aware": "child-voice",
    "tried_so_far": "outcome",
    "desired_outcome": "outcome",
    "urgency": "outcome",
    "area_of_disagreement": "outcome",
    "themes": "outcome",
    "reflection": "reflection",
}


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, draft: int) -> HttpResponse:
    partnership = _require_raiser(request)
    draft_obj = _draft(request, draft)
    details = _details_from_draft(draft_obj)
    errors: list[dict[str, str]] = []
    try:
        found = services.escalation_validate_details(
            actor=request.user, partnership=partnership, details=details
        )
    except ValidationError as e:
        found = None
        for name, messages_ in e.message_dict.items():
            step_name = STEP_OF_FIELD.get(name, "kind")
            for message in messages_:
                errors.append(
                    {
                        "text": message,
                        "href": reverse("escalations:step", args=[draft_obj.pk, step_name]) + "?change=1",
                    }
                )
    if request.method == "POST" and not errors:
        try:
            escalation = services.escalation_raise(
                actor=request.user,
                partnership=partnership,
                details=details,
                immediate_danger=draft_obj.data.get("immediate_danger") != "no",
            )
        except ImmediateDanger:
            return redirect("escalations:emergency")
        except NotAllowed:
            raise PermissionDenied from None
        except ValidationError as e:
            errors = [{"text": m} for m in e.messages]
        else:
            draft_obj.delete()
            return redirect("escalations:raised", pk=escalation.pk)
    return render(
        request,
        "escalations/raise/check.html",
        {
            "draft": draft_obj,
            "details": details,
            "found": found,
            "errors": errors,
            "steps": dict((s[0], s[2]) for s in _steps_for(draft_obj)),
            "origin_label": dict(Origin.choices).get(details.origin, ""),
            "family_aware_label": dict(FamilyAware.choices).get(details.family_aware, ""),
            "priority_label": ladder_of(partnership).priority_label(details.urgency)
            if details.urgency
            else "",
        },
    )


def raised(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _get(request, pk)
    _audit_read(request, escalation, "raised")
    return render(request, "escalations/raise/raised.html", {"escalation": escalation})


def _audit_read(request: HttpRequest, escalation: Escalation, page: str) -> None:
    """A page that shows an escalation's summary or discussions is a read of it."""
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference, "page": page},
    )


@require_http_methods(["POST"])
def draft_delete(request: HttpRequest, draft: int) -> HttpResponse:
    _draft(request, draft).delete()
    messages.success(request, _("Draft deleted."))
    return redirect("escalations:start")


# --------------------------------------------------------------------------- list and detail


def escalation_list_view(request: HttpRequest) -> HttpResponse:
    partnership = _partnership(request)
    if not request.roles & CASEWORK_ROLES:
        raise PermissionDenied  # the executive, auditors and the business unit see aggregates only
    stages = services.ladder(partnership)
    form = f.ListFilterForm(request.GET or None, partnership=partnership, stages=stages)
    filters = ListFilters()
    if form.is_bound and form.is_valid():
        cd = form.cleaned_data
        filters = ListFilters(
            q=cd["q"].strip(),
            status=cd["status"],
            stage=cd["stage"],
            kind=cd["kind"],
            agency=cd["agency"],
            overdue=cd["overdue"],
            urgency=cd["urgency"],
            reached=cd["reached"],
            origin=cd["origin"],
            area=cd["area"],
            theme=cd["theme"],
            raised_by_agency=cd["raised_by_agency"],
            received_by_agency=cd["received_by_agency"],
            raised_from=cd["raised_from"],
            raised_to=cd["raised_to"],
        )
    qs = escalation_list(user=request.user, partnership=partnership, filters=filters)
    page = selectors.list_paginator(qs, user=request.user, partnership=partnership, filters=filters).get_page(
        request.GET.get("page")
    )
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_LISTED,
        partnership_id=partnership.pk,
        payload={"filters": {k: str(v) for k, v in filters.__dict__.items() if v}, "page": page.number},
    )
    query = request.GET.copy()
    query.pop("page", None)
    # Past the pages' limit, the exact number when it is known (unfiltered: kept).
    total = getattr(page.paginator, "total", None) if page.paginator.capped else None
    return render(
        request,
        "escalations/list.html",
        {
            "form": form,
            "page": page,
            "total": total,
            "query": query.urlencode(),
            "overdue_ids": {e.pk for e in page if is_overdue(e)},
        },
    )


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _get(request, pk)
    context = _detail_context(request, escalation)
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_VIEWED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference},
    )
    return render(request, "escalations/detail.html", context)


def _detail_context(request: HttpRequest, escalation: Escalation) -> dict[str, Any]:
    actions = allowed_actions(request.user, escalation)
    # The policies offer reopening only within the window; say why to those it would be theirs.
    too_late = reopen_too_late(request.user, escalation)
    stages = services.ladder(escalation.partnership)
    current = next((s for s in stages if s.number == escalation.stage), None)
    next_stage = next((s for s in stages if s.number == escalation.stage + 1), None)
    discussions = list(escalation.discussions.select_related("recorded_by"))
    agreed = list(escalation.agreed_actions.select_related("owner_agency"))
    completable = completable_actions(request.user, escalation, agreed)
    for a in agreed:
        a.can_complete = a.pk in completable
        a.overdue = a.completed_on is None and a.due_date < clock.today()
    return {
        "escalation": escalation,
        "actions": actions,
        "stages": stages,
        "current_stage": current,
        "next_stage": next_stage,
        "overdue": is_overdue(escalation),
        "children": list(escalation.children.all()) if sees_children(request.user, escalation) else [],
        "children_withheld": not sees_children(request.user, escalation),
        "themes": list(escalation.themes.all()),
        "events": list(escalation.events.select_related("actor", "actor__agency").order_by("-at", "-id")),
        "discussions": discussions,
        "documents": list(escalation.documents.all()),
        "pdg_actions": list(escalation.pdg_actions.select_related("facilitator", "recorded_by")),
        "resolution": escalation.resolutions.select_related("resolved_by").order_by("-resolved_at").first(),
        "agreed_actions": agreed,
        "consulted": services.manager_consulted(escalation, discussions),
        "can_read_reflection": "read_reflection" in actions,
        "reopen_too_late": too_late,
        "formal_body_decides": ladder_of(escalation.partnership).decides_at(escalation.stage),
        "reopen_days": escalation.partnership.reopen_within_days,
    }


def record(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable record of the escalation and its outcome, for each agency's own file."""
    escalation = _get(request, pk)
    context = _detail_context(request, escalation)
    context["events"] = list(reversed(context["events"]))
    audit_record(
        actor=request.user,
        verb=Verb.ESCALATION_PRINTED,
        target=escalation,
        partnership_id=escalation.partnership_id,
        payload={"reference": escalation.reference},
    )
    return render(request, "escalations/record.html", context)


def document_download(request: HttpRequest, pk: int, document: int) -> HttpResponse:
    escalation = _get(request, pk)
    try:
        doc, content = services.escalation_document_read(
            actor=request.user, escalation=escalation, document_id=document
        )
    except NotFound:
        raise Http404 from None
    response = FileResponse(
        io.BytesIO(content), as_attachment=True, filename=doc.filename, content_type=doc.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- actions


def _action(
    request: HttpRequest,
    pk: int,
    *,
    permission: str,
    form_factory: Callable[..., Any],
    template: str,
    perform: Callable[[Escalation, dict[str, Any], int | None], Any],
    success: str,
    extra: dict[str, Any] | Callable[[Escalation], dict[str, Any]] | None = None,
    initial: Callable[[Escalation], dict[str, Any]] | None = None,
    may: Callable[[Escalation], bool] | None = None,
    refused: str = "",
) -> HttpResponse:
    """An action's page: the form on GET, the service on POST. ``may`` decides who for an
    action on a part of the escalation (an agreed action) rather than the escalation itself."""
    escalation = _get(request, pk)
    if may is not None:
        if not may(escalation):
            raise Refused(refused)
    elif not request.user.has_perm(f"escalations.{permission}", escalation):
        raise Refused(str(services.refusal(request.user, permission, escalation) or ""))
    if request.method == "GET":
        _audit_read(request, escalation, permission)
    status = 200
    stale = False
    if request.method == "POST":
        form = form_factory(escalation, request.POST, request.FILES)
        if form.is_valid():
            version = form.cleaned_data.get("version")
            try:
                perform(escalation, form.cleaned_data, version)
            except ValidationError as e:
                f.add_service_errors(form, e)
                status = 422 if isinstance(e, RuleViolation) else 200
            except StaleVersion:
                stale = True
                status = 409
                escalation = _get(request, pk)
                form = form_factory(
                    escalation,
                    None,
                    None,
                    initial={"version": escalation.version, **(initial(escalation) if initial else {})},
                )
            except NotAllowed:
                raise PermissionDenied from None
            except NotFound:
                raise Http404 from None
            else:
                messages.success(request, success)
                return redirect("escalations:detail", pk=pk)
    else:
        form = form_factory(
            escalation,
            None,
            None,
            initial={"version": escalation.version, **(initial(escalation) if initial else {})},
        )
    more = extra(escalation) if callable(extra) else extra
    context = {"escalation": escalation, "form": form, "stale": stale, **(more or {})}
    return render(request, template, context, status=status)


def _agreed(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


@require_http_methods(["GET", "POST"])
def discuss(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_record_discussion(
            actor=request.user,
            escalation=e,
            held_on=cd["held_on"],
            note=cd["note"],
            with_manager=cd["with_manager"],
            participants=cd["participants"],
            agreed=_agreed(cd["agreed"]),
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="record_discussion",
        form_factory=lambda e, data, files, initial=None: f.DiscussionForm(data, initial=initial),
        template="escalations/actions/discuss.html",
        perform=perform,
        success=_("Discussion recorded"),
    )


@require_http_methods(["GET", "POST"])
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    def factory(e, data, files, initial=None):
        return f.EscalateForm(
            data, initial=initial, stages=services.ladder(e.partnership), current_stage=e.stage
        )

    def perform(e, cd, version):
        services.escalation_escalate(
            actor=request.user,
            escalation=e,
            reason=cd["reason"],
            efforts_to_resolve=cd["efforts_to_resolve"],
            to_stage=cd["to_stage"],
            skip_reason=cd["skip_reason"],
            expected_version=version,
        )

    escalation = _get(request, pk)
    return _action(
        request,
        pk,
        permission="escalate",
        form_factory=factory,
        template="escalations/actions/escalate.html",
        perform=perform,
        success=_("Escalated to the next stage"),
        extra={"consulted": services.manager_consulted(escalation)},
        initial=lambda e: {"efforts_to_resolve": services.efforts_from_history(e)},
    )


@require_http_methods(["GET", "POST"])
def pause(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_pause(
            actor=request.user, escalation=e, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="pause",
        form_factory=lambda e, data, files, initial=None: f.ReasonForm(data, initial=initial),
        template="escalations/actions/pause.html",
        perform=perform,
        success=_("Stage paused: its clock has stopped"),
    )


@require_http_methods(["GET", "POST"])
def resume(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_resume(actor=request.user, escalation=e, expected_version=version)

    return _action(
        request,
        pk,
        permission="resume",
        form_factory=lambda e, data, files, initial=None: f.VersionedForm(data, initial=initial),
        template="escalations/actions/resume.html",
        perform=perform,
        success=_("Stage resumed: its clock is running again"),
    )


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_withdraw(
            actor=request.user, escalation=e, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="withdraw",
        form_factory=lambda e, data, files, initial=None: f.ReasonForm(data, initial=initial),
        template="escalations/actions/withdraw.html",
        perform=perform,
        success=_("Escalation withdrawn"),
    )


@require_http_methods(["GET", "POST"])
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _get(request, pk)
    if reopen_too_late(request.user, escalation):  # the page says why, with no form
        _audit_read(request, escalation, "reopen")
        context = {"escalation": escalation, "window_open": False, "form": f.ReasonForm()}
        context["reopen_days"] = escalation.partnership.reopen_within_days
        status = 422 if request.method == "POST" else 200
        return render(request, "escalations/actions/reopen.html", context, status=status)

    def perform(e, cd, version):
        services.escalation_reopen(
            actor=request.user, escalation=e, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="reopen",
        form_factory=lambda e, data, files, initial=None: f.ReasonForm(data, initial=initial),
        template="escalations/actions/reopen.html",
        perform=perform,
        success=_("Escalation reopened"),
        extra=lambda e: {
            "window_open": reopen_window_open(e),
            "reopen_days": e.partnership.reopen_within_days,
        },
    )


@require_http_methods(["GET", "POST"])
def pdg_action(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_pdg_action(
            actor=request.user,
            escalation=e,
            action=cd["action"],
            note=cd["note"],
            facilitator_username=cd["facilitator"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="pdg_act",
        form_factory=lambda e, data, files, initial=None: f.PdgActionForm(
            data, initial=initial, partnership=e.partnership
        ),
        template="escalations/actions/pdg_action.html",
        perform=perform,
        success=_("Recorded"),
        extra=lambda e: {"formal_body_decides": ladder_of(e.partnership).decides_at(e.stage)},
    )


@require_http_methods(["GET", "POST"])
def end_facilitation(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_end_facilitation(
            actor=request.user, escalation=e, reason=cd["reason"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="end_facilitation",
        form_factory=lambda e, data, files, initial=None: f.EndFacilitationForm(data, initial=initial),
        template="escalations/actions/end_facilitation.html",
        perform=perform,
        success=_("Appointment ended: the facilitator no longer sees this escalation"),
        extra=lambda e: {
            "submit_label": _("End the appointment"),
            "appointments": list(
                e.pdg_actions.filter(facilitator__isnull=False, ended_at__isnull=True).select_related(
                    "facilitator"
                )
            ),
        },
    )


@require_http_methods(["GET", "POST"])
def complete_action(request: HttpRequest, pk: int, action: int) -> HttpResponse:
    def agreed(e: Escalation) -> AgreedAction:
        found = e.agreed_actions.select_related("owner_agency", "completed_by").filter(pk=action).first()
        if found is None:
            raise Http404
        found.escalation = e
        return found

    def perform(e, cd, version):
        services.agreed_action_complete(
            actor=request.user, escalation=e, action_id=action, note=cd["note"], expected_version=version
        )

    return _action(
        request,
        pk,
        permission="complete_action",
        may=lambda e: may_complete_action(request.user, agreed(e)),
        refused=str(
            _("An agreed action is marked done by its agency, or by the parties' managers and leaders.")
        ),
        form_factory=lambda e, data, files, initial=None: f.CompleteActionForm(data, initial=initial),
        template="escalations/actions/complete_action.html",
        perform=perform,
        success=_("Action marked done"),
        extra=lambda e: {"action": agreed(e), "submit_label": _("Mark as done")},
    )


def _actions_from(cd: dict[str, Any], rows: int) -> list[services.ActionDetails]:
    found = []
    for i in range(1, rows + 1):
        if (cd.get(f"action_{i}_description") or "").strip():
            found.append(
                services.ActionDetails(
                    description=cd[f"action_{i}_description"],
                    owner_agency_id=cd[f"action_{i}_owner"],
                    due_date=cd[f"action_{i}_due"],
                )
            )
    return found


@require_http_methods(["GET", "POST"])
def resolve(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_resolve(
            actor=request.user,
            escalation=e,
            outcome=cd["outcome"],
            agreed_way_forward=cd["agreed_way_forward"],
            child_centred_outcome_achieved=cd["child_centred_outcome_achieved"],
            learning=cd["learning"],
            referred_to=cd["referred_to"],
            actions=_actions_from(cd, f.ResolveForm.ACTION_ROWS),
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="resolve",
        form_factory=lambda e, data, files, initial=None: f.ResolveForm(
            data, initial=initial, partnership=e.partnership
        ),
        template="escalations/actions/resolve.html",
        perform=perform,
        success=_("Resolution recorded"),
    )


@require_http_methods(["GET", "POST"])
def add_document(request: HttpRequest, pk: int) -> HttpResponse:
    def perform(e, cd, version):
        services.escalation_add_document(
            actor=request.user,
            escalation=e,
            upload=cd["file"],
            description=cd["description"],
            expected_version=version,
        )

    return _action(
        request,
        pk,
        permission="add_document",
        form_factory=lambda e, data, files, initial=None: f.DocumentForm(data, files, initial=initial),
        template="escalations/actions/add_document.html",
        perform=perform,
        success=_("Document attached"),
    )
