"""Raising an escalation: the start page, the immediate-danger question, the question pages
(each saved as a draft as it is answered), check your answers, and the raised page."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import ImmediateDanger, NotAllowed, NotFound
from accord.core.middleware import pending_post
from accord.partnership.models import Role, User
from accord.partnership.protocol import ladder_of
from accord.partnership.selectors import partnership_agencies

from .. import forms as f
from .. import services
from ..models import Draft, FamilyAware, Kind, Origin
from ._common import _audit_read, _get, _partnership, _require_raiser

logger = logging.getLogger("accord.escalations")

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
    if step == "evidence":
        return _evidence_step(request, draft_obj, names, index, steps[index][2])
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


def _evidence_step(
    request: HttpRequest, draft: Draft, names: list[str], index: int, title: str
) -> HttpResponse:
    """Evidence attached while raising: each file checked and kept with the draft, encrypted,
    as it is chosen; the page lists what is attached, each removable."""
    form = f.EvidenceForm()
    if request.method == "POST":
        form = f.EvidenceForm(request.POST, request.FILES)
        if "remove" in request.POST:
            try:
                services.draft_remove_document(
                    actor=request.user, draft=draft, document_id=int(request.POST["remove"])
                )
            except (ValueError, NotFound):
                raise Http404 from None
            messages.success(request, _("Document removed."))
            return redirect("escalations:step", draft=draft.pk, step="evidence")
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            if upload is not None:
                try:
                    services.draft_add_document(
                        actor=request.user,
                        draft=draft,
                        upload=upload,
                        description=form.cleaned_data.get("description") or "",
                    )
                except ValidationError as e:
                    f.add_service_errors(form, e)
            if not form.errors:
                if "save_and_exit" in request.POST:
                    messages.success(
                        request, _("Your draft is saved. You can come back to it from your home page.")
                    )
                    return redirect("home")
                if "attach" in request.POST:
                    messages.success(request, _("Document attached. Attach another, or continue."))
                    return redirect("escalations:step", draft=draft.pk, step="evidence")
                if request.GET.get("change") or index + 1 >= len(names):
                    return redirect("escalations:check", draft=draft.pk)
                return redirect("escalations:step", draft=draft.pk, step=names[index + 1])
    back = reverse("escalations:step", args=[draft.pk, names[index - 1]])
    return render(
        request,
        "escalations/raise/step_evidence.html",
        {
            "form": form,
            "draft": draft,
            "documents": list(draft.documents.all()),
            "title": title,
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
    others = []
    for i in range(1, f.WithForm.OTHER_ROWS + 1):
        try:
            agency = int(d.get(f"other_{i}_agency") or 0)
        except (TypeError, ValueError):
            agency = 0
        if agency:
            others.append(
                services.PartyDetails(
                    agency_id=agency,
                    practitioner_username=d.get(f"other_{i}_practitioner") or "",
                    practitioner_email=d.get(f"other_{i}_practitioner_email") or "",
                )
            )
    return services.RaiseDetails(
        kind=d.get("kind") or "",
        origin=d.get("origin") or "",
        with_agency_id=with_agency,
        with_practitioner_username=d.get("with_practitioner") or "",
        with_practitioner_email=d.get("with_practitioner_email") or "",
        with_people=d.get("with_people") or "",
        other_parties=others,
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
    "with_practitioner_email": "with",
    "with_people": "with",
    "other_parties": "with",
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


def _answers(partnership, details: services.RaiseDetails) -> dict[str, Any]:
    """Every saved answer in words, whether or not the draft is valid yet: the check page
    always shows what was chosen (an answer that is not right is named in the errors)."""
    agencies = partnership_agencies(partnership).in_bulk(
        [details.with_agency_id, *(o.agency_id for o in details.other_parties)]
    )
    names = [details.with_practitioner_username, *(o.practitioner_username for o in details.other_parties)]
    people = {u.username: u for u in User.objects.filter(username__in=[n for n in names if n])}

    def line(agency_id: int, username: str, email: str = "") -> dict[str, str]:
        agency = agencies.get(agency_id)
        person = people.get(username)
        return {
            "agency": agency.name if agency else "",
            "practitioner": (person.get_full_name() or person.username) if person else (username or email),
        }

    area = partnership.areas_of_disagreement.filter(code=details.area_of_disagreement_code).first()
    themes = dict(partnership.practice_themes.values_list("code", "label"))
    return {
        "with": [
            line(details.with_agency_id, details.with_practitioner_username, details.with_practitioner_email)
        ]
        + [line(o.agency_id, o.practitioner_username, o.practitioner_email) for o in details.other_parties],
        "area": area.label if area else "",
        "themes": [themes.get(code, code) for code in details.theme_codes],
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
                draft=draft_obj,
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
            "answers": _answers(partnership, details),
            "documents": list(draft_obj.documents.all()),
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


@require_http_methods(["POST"])
def draft_delete(request: HttpRequest, draft: int) -> HttpResponse:
    services.draft_discard(actor=request.user, draft=_draft(request, draft))
    messages.success(request, _("Draft deleted."))
    return redirect("escalations:start")
