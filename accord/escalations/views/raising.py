"""Raising an escalation: the start page, the immediate-danger question, the question pages
(each saved as a draft as it is answered), check your answers, and the raised page."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_http_methods

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core.errors import ImmediateDanger, NotAllowed, NotFound, TooMany
from accord.core.middleware import pending_post
from accord.partnership.models import Role, User
from accord.partnership.protocol import ladder_of
from accord.partnership.selectors import (
    partnership_agencies,
)

from .. import forms as f
from .. import services
from ..models import Draft, FamilyAware, Kind, Origin
from ..subjects import (
    AdultAware,
    AdvocateInvolved,
    Subject,
    asks_subject,
    default_subject,
    subject_label,
    worded,
)
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
    subject = default_subject(partnership.safeguards)
    form = f.DangerForm(request.POST if request.method == "POST" else None, subject=subject)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["immediate_danger"] == "yes":
            # Rule 1: nothing is recorded; the user is sent to 999 and the front door.
            return redirect("escalations:emergency")
        settled = request.GET.get("settled") == "1"
        draft = Draft.objects.create(
            owner=request.user,
            partnership=partnership,
            data={"immediate_danger": "no", **({"_settled": True} if settled else {})},
        )
        if settled:
            return redirect("escalations:settled_with", draft=draft.pk)
        return redirect("escalations:step", draft=draft.pk, step=_steps_for(request, draft)[0])
    return render(
        request,
        "escalations/raise/danger.html",
        {
            "form": form,
            "settled": request.GET.get("settled") == "1",
            "partnership": partnership,
            "subject": subject,
        },
    )


def emergency(request: HttpRequest) -> HttpResponse:
    return render(request, "escalations/raise/emergency.html")


def _draft(request: HttpRequest, draft_id: int) -> Draft:
    partnership = _partnership(request)
    draft = get_object_or_404(Draft, pk=draft_id, owner=request.user, partnership=partnership)
    draft.partnership = partnership  # as read with the person's roles: not read again
    return draft


STEP_TITLES = {
    "start": _lazy("Where the concern came from"),
    "with": _lazy("Who the difference is with"),
    "children": _lazy("The child or children"),  # (in the words for the subject: ``worded``)
    "difference": _lazy("The difference"),
    "more": _lazy("More detail (optional)"),
    "evidence": _lazy("Evidence documents (optional)"),
}
SPARE_ROWS = 2
# Asked on the way to "check your answers"; the others are offered from it.
OPTIONAL_STEPS = ("more", "evidence")


def _is_chair(request: HttpRequest) -> bool:
    return Role.CONFERENCE_CHAIR in request.roles


def _steps_for(request: HttpRequest, draft: Draft) -> list[str]:
    """The pages of the journey for this draft: a conference chair says where it came from
    and where it starts; a theme has no children."""
    steps = (["start"] if _is_chair(request) else []) + ["with", "children", "difference"]
    if draft.data.get("kind") == Kind.THEME:
        steps.remove("children")
    return steps


def _draft_subject(draft: Draft) -> str:
    """Whom the draft is about: as chosen where the partnership asks, else its first subject."""
    safeguards = draft.partnership.safeguards
    chosen = draft.data.get("subject") if asks_subject(safeguards) else ""
    return chosen if chosen in Subject.values else default_subject(safeguards)


def _start_stage(draft: Draft) -> int:
    try:
        return max(1, int(draft.data.get("start_stage") or 1))
    except (TypeError, ValueError):
        return 1


def _asks(draft: Draft) -> tuple[str, ...]:
    """What the protocol asks for to raise (at the stage it starts at)."""
    return ladder_of(draft.partnership).required_to_raise(_start_stage(draft))


def _filled_rows(data: dict, prefix: str, field: str) -> int:
    return max([i for i in range(1, f.MOST_ROWS + 1) if data.get(f"{prefix}_{i}_{field}")] or [0])


def _rows(draft: Draft, step: str) -> int:
    """How many rows the page shows: those added, and never fewer than are filled."""
    if step == "with":
        shown = draft.data.get("_other_rows")
        filled = max(
            _filled_rows(draft.data, "other", "agency"), _filled_rows(draft.data, "other", "practitioner")
        )
        return max(int(shown) if isinstance(shown, int) else 0, filled)
    shown = draft.data.get("_child_rows")
    filled = max(
        _filled_rows(draft.data, "child", "name"),
        _filled_rows(draft.data, "child", "agency_reference"),
        _filled_rows(draft.data, "child", "date_of_birth"),
    )
    return max(int(shown) if isinstance(shown, int) else 1, filled, 1)


def _form_for(step: str, request: HttpRequest, draft: Draft, data: Any = None):
    theme = draft.data.get("kind") == Kind.THEME

    def rows(name: str) -> int:
        return f.MOST_ROWS if data is not None else min(f.MOST_ROWS, _rows(draft, name) + SPARE_ROWS)

    forms_ = {
        "start": lambda **kw: f.StartForm(ladder=ladder_of(draft.partnership), **kw),
        # The rows added and two spare, hidden ("Add another" shows the next at once with
        # script; past the spares, or without script, it saves the page and shows one more).
        # What comes back is read whatever rows it has.
        "with": lambda **kw: f.WithForm(
            partnership=draft.partnership, user=request.user, rows=rows("with"), **kw
        ),
        "children": lambda **kw: f.ChildrenForm(rows=rows("children"), subject=_draft_subject(draft), **kw),
        "difference": lambda **kw: f.DifferenceForm(
            partnership=draft.partnership, asks=_asks(draft), theme=theme, subject=_draft_subject(draft), **kw
        ),
        "more": lambda **kw: f.MoreForm(
            asks=_asks(draft), theme=theme, is_chair=_is_chair(request), subject=_draft_subject(draft), **kw
        ),
    }
    stored = {k: v for k, v in draft.data.items() if not k.startswith("_")}
    if data is None:
        initial = _initial(stored)
        if step == "with":
            _named_as_chosen(initial, draft.partnership)
        return forms_[step](initial=initial)
    return forms_[step](data=data)


def _named_as_chosen(initial: dict, partnership) -> None:
    """A practitioner already named shows as the picker shows them ("Sam Okafor <sam@…>"),
    not by their username."""
    fields = [
        k
        for k in initial
        if k == "with_practitioner" or (k.startswith("other_") and k.endswith("_practitioner"))
    ]
    usernames = [
        initial[k] for k in fields if isinstance(initial[k], str) and initial[k] and "@" not in initial[k]
    ]
    people = {
        u.username: u
        for u in User.objects.filter(
            username__in=usernames, role_assignments__partnership=partnership
        ).distinct()
    }
    for k in fields:
        person = people.get(initial[k])
        if person is not None and person.email:
            initial[k] = f"{person.get_full_name() or person.username} <{person.email}>"


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
    cleaned = getattr(form, "cleaned_data", {})
    for name in form.fields:
        if name in cleaned:
            value = cleaned[name]
            if isinstance(value, dt.date):
                value = value.isoformat()
            draft.data[name] = value
        else:
            raw = form.data.getlist(name) if hasattr(form.data, "getlist") else form.data.get(name)
            if isinstance(raw, list) and len(raw) <= 1 and name not in ("themes", "areas"):
                raw = raw[0] if raw else ""
            draft.data[name] = raw
    draft.save()


def _change_rows(draft: Draft, step: str, post) -> bool:
    """The add-another buttons (without script as with it): one more row, or one taken out.
    Answers whether the post was one of them."""
    prefix, key, fields = (
        ("other", "_other_rows", ("agency", "practitioner"))
        if step == "with"
        else ("child", "_child_rows", ("name", "date_of_birth", "agency_reference"))
    )
    rows = _rows(draft, step)
    if "add_another" in post:
        # (The button says how many rows the page showed: with script, the spare rows opened
        # on it, which the draft does not know of; never more than the page takes.)
        shown = _key_of(post["add_another"])
        draft.data[key] = min(max(rows, shown if 0 < shown <= f.MOST_ROWS else 0) + 1, f.MOST_ROWS)
        draft.save()
        return True
    if "remove" in post:
        try:
            gone = int(post["remove"])
        except ValueError:
            return True
        if not 1 <= gone <= rows:
            return True  # not a row on the page: nothing to take out
        for i in range(gone, rows + 1):
            for name in fields:
                draft.data[f"{prefix}_{i}_{name}"] = draft.data.get(f"{prefix}_{i + 1}_{name}", "")
        draft.data[key] = max(rows - 1, 0 if step == "with" else 1)
        draft.save()
        return True
    return False


@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, draft: int, step: str) -> HttpResponse:
    _require_raiser(request)
    draft_obj = _draft(request, draft)
    names = _steps_for(request, draft_obj)
    if step == "evidence":
        return _evidence_step(request, draft_obj)
    if step not in names and step != "more":
        raise Http404
    if request.method == "POST":
        form = _form_for(step, request, draft_obj, request.POST)
        valid = form.is_valid()
        _save_step(draft_obj, form)
        if step in ("with", "children") and _change_rows(draft_obj, step, request.POST):
            return redirect(reverse("escalations:step", args=[draft_obj.pk, step]) + "#rows")
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
            names = _steps_for(request, draft_obj)
            if step == "more" or request.GET.get("change") or names.index(step) + 1 >= len(names):
                return redirect("escalations:check", draft=draft_obj.pk)
            return redirect("escalations:step", draft=draft_obj.pk, step=names[names.index(step) + 1])
    else:
        form = _kept_form(request, step, draft_obj) or _form_for(step, request, draft_obj)
    if step == "more":
        back, number = reverse("escalations:check", args=[draft_obj.pk]), None
    else:
        index = names.index(step)
        back = (
            reverse("escalations:danger")
            if index == 0
            else reverse("escalations:step", args=[draft_obj.pk, names[index - 1]])
        )
        number = index + 2  # (the safety question is page 1)
    return render(
        request,
        f"escalations/raise/step_{step}.html",
        {
            "form": form,
            "draft": draft_obj,
            "title": worded("The child or children", _draft_subject(draft_obj))
            if step == "children"
            else STEP_TITLES[step],
            "subject": _draft_subject(draft_obj),
            "back": back,
            "step_number": number,
            "step_total": len(names) + 2,  # (and check your answers)
            "most_rows": f.MOST_ROWS,
            "shown": _rows(draft_obj, step) if step in ("with", "children") else 0,
        },
    )


def _kept_form(request: HttpRequest, step: str, draft: Draft):
    """What was typed on this page before an idle sign-out, put back (``pending_post``)."""
    return _kept_typing(request, draft, lambda data: _form_for(step, request, draft, data))


def _evidence_step(request: HttpRequest, draft: Draft) -> HttpResponse:
    """Evidence attached while raising (offered from the check page): each file checked and
    kept with the draft, encrypted, as it is chosen; the page lists what is attached."""
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
                return redirect("escalations:check", draft=draft.pk)
    return render(
        request,
        "escalations/raise/step_evidence.html",
        {
            "form": form,
            "draft": draft,
            "documents": list(draft.documents.all()),
            "title": STEP_TITLES["evidence"],
            "back": reverse("escalations:check", args=[draft.pk]),
            "step_number": None,
        },
    )


def _person_or_email(value: str) -> tuple[str, str]:
    value = (value or "").strip()
    return ("", value) if "@" in value else (value, "")


def _children_from_draft(d: dict[str, Any]) -> list[services.ChildDetails]:
    """The children named on the draft's rows (a date of birth that is not one: none)."""
    children = []
    for i in range(1, f.MOST_ROWS + 1):
        name = (d.get(f"child_{i}_name") or "").strip()
        if not name:
            continue
        dob = d.get(f"child_{i}_date_of_birth")
        try:
            dob = dt.date.fromisoformat(dob) if isinstance(dob, str) and dob else None
        except ValueError:
            dob = None
        children.append(
            services.ChildDetails(
                name=name, date_of_birth=dob, agency_reference=d.get(f"child_{i}_agency_reference") or ""
            )
        )
    return children


def _key_of(value: Any) -> int:
    """A record's number as the draft kept it; 0 for none or nonsense."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _others_from_draft(d: dict[str, Any]) -> list[services.PartyDetails]:
    """The other agencies on the draft's rows, each with its practitioner (listed or by email)."""
    others = []
    for i in range(1, f.MOST_ROWS + 1):
        agency = _key_of(d.get(f"other_{i}_agency"))
        if agency:
            username, email = _person_or_email(d.get(f"other_{i}_practitioner") or "")
            others.append(
                services.PartyDetails(
                    agency_id=agency, practitioner_username=username, practitioner_email=email
                )
            )
    return others


def _listed(d: dict[str, Any], name: str) -> list[str]:
    return [d[name]] if isinstance(d.get(name), str) and d[name] else list(d.get(name) or [])


# The draft's answers in words, given as typed (none: empty).
_DRAFT_TEXT = (
    "with_people",
    "summary",
    "decision_challenged",
    "concern",
    "evidence",
    "professional_curiosity",
    "child_voice",
    "tried_so_far",
    "desired_outcome",
    "urgency",
    "reflection",
    "start_stage_reason",
)


def _adult_answers(draft: Draft, theme: bool) -> dict[str, str]:
    """An adult's own answers: they go only with a case about an adult."""
    if theme or _draft_subject(draft) != Subject.ADULT:
        return {}
    return {a: draft.data.get(a) or "" for a in f.ADULT_FIELDS}


def _details_from_draft(draft: Draft) -> services.RaiseDetails:
    d = draft.data
    theme = d.get("kind") == Kind.THEME
    username, email = _person_or_email(d.get("with_practitioner") or "")
    areas = _listed(d, "areas")
    return services.RaiseDetails(
        kind=d.get("kind") or "",
        origin=d.get("origin") or Origin.PRACTITIONER,
        with_agency_id=_key_of(d.get("with_agency")),
        with_practitioner_username=username,
        with_practitioner_email=email,
        other_parties=_others_from_draft(d),
        # A theme has no one family: what was typed for a case before the kind changed is
        # not sent with it.
        family_view="" if theme else d.get("family_view") or "",
        family_aware="" if theme else d.get("family_aware") or "",
        area_of_disagreement_code=areas[0] if areas else "",
        area_codes=areas,
        theme_codes=_listed(d, "themes"),
        children=[] if theme else _children_from_draft(d),
        start_stage=_start_stage(draft),
        **{name: d.get(name) or "" for name in _DRAFT_TEXT},
        subject=_draft_subject(draft),
        **_adult_answers(draft, theme),
    )


def _step_of_field(name: str, asks: tuple[str, ...], chair: bool) -> str:
    """The page where a field named in a service's refusal is answered."""
    if name in ("kind", "with_agency", "with_practitioner", "with_practitioner_email", "other_parties"):
        return "with"
    if name in ("children", *f.ADULT_FIELDS):
        return "children"
    if name == "subject":
        return "with"
    if name in ("summary", "urgency", "area_of_disagreement", "themes") or name in asks:
        return "difference"
    if name in ("origin", "start_stage", "start_stage_reason") and chair:
        return "start"
    return "more"


def _answers(partnership, details: services.RaiseDetails) -> dict[str, Any]:
    """Every saved answer in words, whether or not the draft is valid yet: the check page
    always shows what was chosen (an answer that is not right is named in the errors)."""
    agencies = partnership_agencies(partnership).in_bulk(
        [details.with_agency_id, *(o.agency_id for o in details.other_parties)]
    )
    names = [details.with_practitioner_username, *(o.practitioner_username for o in details.other_parties)]
    # (Only people of this partnership: a name typed for anyone else is not looked up.)
    people = {
        u.username: u
        for u in User.objects.filter(
            username__in=[n for n in names if n], role_assignments__partnership=partnership
        ).distinct()
    }

    def line(agency_id: int, username: str, email: str = "") -> dict[str, str]:
        agency = agencies.get(agency_id)
        person = people.get(username)
        return {
            "agency": agency.name if agency else "",
            "practitioner": (person.get_full_name() or person.username) if person else (username or email),
        }

    # (Each term in the language in use: its str.)
    areas = {a.code: str(a) for a in partnership.areas_of_disagreement.all()}
    themes = {t.code: str(t) for t in partnership.practice_themes.all()}
    return {
        "with": [
            line(details.with_agency_id, details.with_practitioner_username, details.with_practitioner_email)
        ]
        + [line(o.agency_id, o.practitioner_username, o.practitioner_email) for o in details.other_parties],
        "areas": [areas.get(code, code) for code in details.area_codes],
        "themes": [themes.get(code, code) for code in details.theme_codes],
    }


@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, draft: int) -> HttpResponse:
    partnership = _require_raiser(request)
    draft_obj = _draft(request, draft)
    details = _details_from_draft(draft_obj)
    asks = _asks(draft_obj)
    errors: list[dict[str, str]] = []

    def explained(e: ValidationError) -> list[dict[str, str]]:
        """Each wrong answer, with a link to the step that asks it."""
        if not hasattr(e, "error_dict"):
            return [{"text": m} for m in e.messages]
        found = []
        for name, messages_ in e.message_dict.items():
            step_name = _step_of_field(name, asks, _is_chair(request))
            href = reverse("escalations:step", args=[draft_obj.pk, step_name]) + "?change=1"
            found += [{"text": message, "href": href} for message in messages_]
        return found

    if request.method != "POST":
        try:
            services.escalation_validate_details(actor=request.user, partnership=partnership, details=details)
        except ValidationError as e:
            errors = explained(e)
    else:
        # Raising checks the answers as the page does (``escalation_validate_details``), and
        # refuses them the same way: they are not checked twice.
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
            errors = explained(e)
        else:
            draft_obj.delete()
            return redirect("escalations:raised", pk=escalation.pk)
    optional = [a for a in f.ANSWER_FIELDS if a not in asks and a != "efforts_to_resolve"]
    return render(
        request,
        "escalations/raise/check.html",
        {
            "draft": draft_obj,
            "details": details,
            "answers": _answers(partnership, details),
            "asked": [
                (a, f.answer_label(a, details.subject), getattr(details, a))
                for a in asks
                if a in f.ANSWER_FIELDS
            ],
            "more": [
                (a, f.answer_label(a, details.subject), getattr(details, a))
                for a in optional
                if getattr(details, a, "")
            ],
            "documents": list(draft_obj.documents.all()),
            "errors": errors,
            "steps": _steps_for(request, draft_obj),
            "origin_label": dict(Origin.choices).get(details.origin, ""),
            "family_aware_label": dict(FamilyAware.choices).get(details.family_aware, ""),
            "subject_label": subject_label(details.subject),
            "asks_subject": asks_subject(partnership.safeguards),
            "adult_aware_label": dict(AdultAware.choices).get(details.adult_aware, ""),
            "adult_advocate_label": dict(AdvocateInvolved.choices).get(details.adult_advocate, ""),
            "priority_label": ladder_of(partnership).priority_label(details.urgency)
            if details.urgency
            else "",
        },
    )


def raised(request: HttpRequest, pk: int) -> HttpResponse:
    escalation = _get(request, pk)
    _audit_read(request, escalation, "raised")
    return render(request, "escalations/raise/raised.html", {"escalation": escalation})


@require_http_methods(["GET", "POST"])
def draft_delete(request: HttpRequest, draft: int) -> HttpResponse:
    """Deleting a draft asks first, on a page of its own."""
    draft_obj = _draft(request, draft)
    if request.method == "POST":
        services.draft_discard(actor=request.user, draft=draft_obj)
        messages.success(request, _("Draft deleted."))
        return redirect("escalations:start")
    return render(request, "escalations/raise/delete.html", {"draft": draft_obj})


# --------------------------------------------------------------------------- already settled


def _kept_typing(request: HttpRequest, draft: Draft, form_of):
    """What was typed on a page of raising (or of a settled difference) before an idle
    sign-out, put back and kept with the draft (``pending_post``); never raised unasked."""
    if request.method != "GET":
        return None
    kept = pending_post(request)
    if kept is None:
        return None
    data = QueryDict(mutable=True)
    for key, values in kept.items():
        data.setlist(key, values)
    form = form_of(data)
    form.is_valid()
    _save_step(draft, form)
    messages.success(
        request,
        _("You were signed out, but what you had typed on this page was kept. Check it and continue."),
    )
    return form


def _settled_draft(request: HttpRequest, draft_id: int) -> Draft:
    draft = _draft(request, draft_id)
    if not draft.data.get("_settled"):
        raise Http404
    return draft


@require_http_methods(["GET", "POST"])
def settled_with(request: HttpRequest, draft: int) -> HttpResponse:
    """A settled difference, page 1 of 2: what it was about and who it was with."""
    partnership = _require_raiser(request)
    draft_obj = _settled_draft(request, draft)
    stored = {k: v for k, v in draft_obj.data.items() if not k.startswith("_")}

    def form_of(data):
        return f.SettledWithForm(data, initial=stored, partnership=partnership, user=request.user)

    form = _kept_typing(request, draft_obj, form_of) or form_of(
        request.POST if request.method == "POST" else None
    )
    if request.method == "POST":
        valid = form.is_valid()
        _save_step(draft_obj, form)
        if valid:
            return redirect("escalations:settled_how", draft=draft_obj.pk)
    return render(
        request,
        "escalations/raise/settled_with.html",
        {"form": form, "draft": draft_obj, "back": reverse("escalations:danger") + "?settled=1"},
    )


@require_http_methods(["GET", "POST"])
def settled_how(request: HttpRequest, draft: int) -> HttpResponse:
    """A settled difference, page 2 of 2: a line on it, how it ended and any learning; saved."""
    partnership = _require_raiser(request)
    draft_obj = _settled_draft(request, draft)
    stored = {k: v for k, v in draft_obj.data.items() if not k.startswith("_")}

    def form_of(data):
        return f.SettledForm(data, initial=stored)

    form = _kept_typing(request, draft_obj, form_of) or form_of(
        request.POST if request.method == "POST" else None
    )
    if request.method == "POST":
        valid = form.is_valid()
        _save_step(draft_obj, form)
        if valid:
            d = draft_obj.data
            username, _email = _person_or_email(d.get("with_practitioner") or "")
            try:
                with_agency = int(d.get("with_agency") or 0)
            except (TypeError, ValueError):
                with_agency = 0
            try:
                escalation = services.escalation_record_settled(
                    actor=request.user,
                    partnership=partnership,
                    details=services.SettledDetails(
                        kind=d.get("kind") or "",
                        with_agency_id=with_agency,
                        with_practitioner_username=username,
                        summary=d.get("summary") or "",
                        outcome=d.get("outcome") or "",
                        agreed_way_forward=d.get("agreed_way_forward") or "",
                        learning=d.get("learning") or "",
                        subject=_draft_subject(draft_obj),
                    ),
                    immediate_danger=d.get("immediate_danger") != "no",
                    draft=draft_obj,
                )
            except ImmediateDanger:
                return redirect("escalations:emergency")
            except NotAllowed:
                raise PermissionDenied from None
            except TooMany as e:
                form.add_error(None, str(e))
            except ValidationError as e:
                f.add_service_errors(form, e)
            else:
                draft_obj.delete()
                return redirect("escalations:raised", pk=escalation.pk)
    return render(
        request,
        "escalations/raise/settled_how.html",
        {"form": form, "draft": draft_obj, "back": reverse("escalations:settled_with", args=[draft_obj.pk])},
    )


# --------------------------------------------------------------------------- the directory


def directory(request: HttpRequest) -> JsonResponse:
    """The partnership's staff, for the practitioner picker (``services.directory_lookup``:
    at least three characters, only the people a difference may name, of the agency chosen
    where one is, rate limited and audited like any other read)."""
    partnership = _require_raiser(request)
    try:
        agency_id = int(request.GET["agency"]) if request.GET.get("agency") else None
    except ValueError:
        agency_id = None
    try:
        people = services.directory_lookup(
            actor=request.user, partnership=partnership, text=request.GET.get("q", ""), agency_id=agency_id
        )
    except ValidationError as e:
        return JsonResponse({"people": [], "note": " ".join(e.messages)})
    except TooMany as e:
        response = JsonResponse({"people": [], "note": str(e)}, status=429)
        response["Retry-After"] = str(e.retry_after)
        return response
    return JsonResponse(
        {
            "people": [
                {
                    "value": p.email or p.username,
                    "name": p.get_full_name() or p.username,
                    "label": f"{p.get_full_name() or p.username}, {p.agency.name if p.agency_id else ''}".strip(
                        ", "
                    ),
                }
                for p in people
            ]
        }
    )
