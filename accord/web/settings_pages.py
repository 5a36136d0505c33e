"""The business unit's settings pages in Accord's own look: the settings' home, the
partnership's own settings, and its protocol (the formal body, each stage of the ladder, the
priority tiers and the budgets), a part at a time.

Every page is one caller of the services (``partnership.services.settings`` and
``escalations.protocol.protocol_apply``), which hold the rules and write the audit. A change
to the protocol is checked as the whole protocol it would make, and a change that would move
open escalations' due dates lists them (each with its date now and after) and is saved only
once the business unit ticks that it means to move them.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from accord.core.errors import NotAllowed, Refused
from accord.escalations.protocol import open_at_stage, protocol_apply
from accord.partnership.models import (
    ROUTINE,
    URGENT,
    FormalBodyAuthority,
    Origin,
    Partnership,
    WorkedBy,
)
from accord.partnership.protocol import (
    ANSWERS,
    MOST_DOCUMENT_BYTES,
    document_of,
    load_document,
    parse_document,
    stage_key_for,
)
from accord.partnership.selectors import protocol_version_get, protocol_versions
from accord.partnership.services.common import business_unit_refusal, is_business_unit
from accord.partnership.services.settings import PARTNERSHIP_FIELDS, partnership_update
from accord.partnership.services.versions import protocol_version_now

CONFIRM = "confirm_moved_due_dates"


def business_unit_partnership(request: HttpRequest) -> Partnership:
    """The partnership whose settings the signed-in business unit keeps (the one they are
    working in); anyone else is refused."""
    if request.partnership is None or not is_business_unit(request.roles):
        raise Refused(business_unit_refusal())
    return request.partnership


def add_errors(form: forms.Form, refused: ValidationError | NotAllowed) -> None:
    """A service's refusal shown on the form: by field where it names one of the form's."""
    if isinstance(refused, NotAllowed):
        form.add_error(None, str(refused))
        return
    if hasattr(refused, "error_dict"):
        for name, errors in refused.message_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for error in refused.messages:
            form.add_error(None, error)


def _page(request, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, f"core/settings/{template}", {"partnership": request.partnership, **context})


# --------------------------------------------------------------------------- the settings' home


@require_http_methods(["GET"])
def settings_home(request: HttpRequest) -> HttpResponse:
    """Everything the business unit keeps, each with where to change it."""
    partnership = business_unit_partnership(request)
    return _page(
        request,
        "home.html",
        {"document": document_of(partnership), "settings": partnership_summary(partnership)},
    )


def partnership_summary(partnership: Partnership) -> list[tuple[str, str]]:
    """The partnership's own settings in words, labelled as the page that changes them."""
    fields = PartnershipSettingsForm().fields
    rows = []
    for name in PARTNERSHIP_FIELDS:
        value = getattr(partnership, name)
        if isinstance(value, bool):
            shown = _("Yes") if value else _("No")
        elif name == "safeguards":
            shown = str(partnership.get_safeguards_display())
        elif name == "reporting_year_start_month":
            shown = str(MONTHS[value - 1][1])
        else:
            shown = str(value) if value not in ("", None) else _("Not set")
        rows.append((str(fields[name].label), shown))
    return rows


# --------------------------------------------------------------------------- the partnership's own settings

MONTHS = [
    (1, gettext_lazy("January")),
    (2, gettext_lazy("February")),
    (3, gettext_lazy("March")),
    (4, gettext_lazy("April")),
    (5, gettext_lazy("May")),
    (6, gettext_lazy("June")),
    (7, gettext_lazy("July")),
    (8, gettext_lazy("August")),
    (9, gettext_lazy("September")),
    (10, gettext_lazy("October")),
    (11, gettext_lazy("November")),
    (12, gettext_lazy("December")),
]


class PartnershipSettingsForm(forms.ModelForm):
    front_door_form_url = forms.URLField(
        label=gettext_lazy("The front door's online request for support (optional)"),
        help_text=Partnership._meta.get_field("front_door_form_url").help_text,
        required=False,
        assume_scheme="https",
        max_length=200,
    )
    reporting_year_start_month = forms.TypedChoiceField(
        label=gettext_lazy("First month of the reporting year"), choices=MONTHS, coerce=int
    )

    class Meta:
        model = Partnership
        fields = list(PARTNERSHIP_FIELDS)
        widgets = {
            "emergency_wording": forms.Textarea(attrs={"rows": 3}),
            "emergency_wording_cy": forms.Textarea(attrs={"rows": 3, "lang": "cy"}),
            "front_door_name_cy": forms.TextInput(attrs={"lang": "cy"}),
            "safeguards": forms.RadioSelect,
        }
        labels = {
            "front_door_name": gettext_lazy("What the children's services front door is called"),
            "front_door_phone": gettext_lazy("The front door's phone number"),
            "holiday_country": gettext_lazy("Bank holidays: country code"),
            "holiday_subdivision": gettext_lazy("Bank holidays: part of the country"),
            "reopen_within_days": gettext_lazy(
                "An escalation may be reopened within this many days of closing"
            ),
            "retention_days_after_closure": gettext_lazy(
                "Keep the children's details for this many days after an escalation closes"
            ),
            "suppression_threshold": gettext_lazy("Smallest count the executive's reports show"),
            "safeguards": gettext_lazy("Whom the partnership safeguards"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["holiday_subdivision"].help_text = _(
            "For England and Wales: ENG. Scotland: SCT. Northern Ireland: NIR. Changing the calendar "
            "moves open escalations' due dates with it."
        )
        self.fields["retention_days_after_closure"].help_text = _(
            "At least 30. After this the children's names, dates of birth and references are removed; "
            "the counts in the reports stay."
        )
        for name, field in self.fields.items():
            field.error_messages.setdefault(
                "required", _("Enter %(what)s") % {"what": str(field.label).lower()}
            )
            if isinstance(field, forms.IntegerField):
                field.widget.attrs.setdefault("inputmode", "numeric")
                field.govuk_classes = "govuk-input--width-5"
            if name == "front_door_phone":
                field.widget.attrs["autocomplete"] = "tel"


@require_http_methods(["GET", "POST"])
def settings_partnership(request: HttpRequest) -> HttpResponse:
    partnership = business_unit_partnership(request)
    form = PartnershipSettingsForm(
        request.POST if request.method == "POST" else None,
        instance=Partnership.objects.get(pk=partnership.pk),
    )
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in PARTNERSHIP_FIELDS}
        try:
            changed = partnership_update(actor=request.user, partnership=partnership, data=data)
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            messages.success(
                request,
                _("The partnership's settings are saved")
                if changed
                else _("Nothing was changed: the settings were already so"),
            )
            return redirect("settings_home")
    return _page(
        request,
        "form.html",
        {
            "form": form,
            "title": _("The partnership's settings"),
            "button": _("Save the settings"),
            "back": "settings_home",
        },
    )


# --------------------------------------------------------------------------- the protocol, a part at a time


class ProtocolForm(forms.Form):
    """A part of the protocol; the tick to go on when the change moves due dates; and the
    protocol's version when the page was opened, so that a change made meanwhile by someone
    else is not undone unseen."""

    confirm_moved_due_dates = forms.BooleanField(
        label=gettext_lazy("Save, with the changes to open escalations listed"), required=False
    )
    protocol_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def visible_without_confirm(self):
        return [f for f in self.visible_fields() if f.name != CONFIRM]


def _version_now(partnership: Partnership) -> int:
    """The partnership's ladder, priorities and budgets as they stand (a count every change of
    them moves on)."""
    return Partnership.objects.values_list("protocol_version", flat=True).get(pk=partnership.pk)


def _protocol_change(
    request: HttpRequest,
    form: ProtocolForm,
    change: Callable[[dict[str, Any], dict[str, Any]], None],
    *,
    part: str,
    title: str,
    button: str,
    intro: str = "",
    done: str | None = None,
    moves_of: Callable[[dict[str, Any]], dict[str, str]] | None = None,
) -> HttpResponse:
    """Show a part of the protocol's form; on a valid post, make the whole protocol it would
    leave (``change`` edits a copy of the document), check it as ``protocol_apply`` does
    without saving, list the due dates it would move (then ask for the tick), and save."""
    partnership = business_unit_partnership(request)
    version_now = _version_now(partnership)
    moved = preview = None
    if request.method != "POST":
        form.initial["protocol_version"] = version_now
    elif form.is_valid() and form.cleaned_data.get("protocol_version") not in (None, version_now):
        form.add_error(
            None,
            _(
                "Someone changed the protocol since you opened this page. Nothing has been saved: go "
                "back to the protocol, see it as it stands now and make your change again."
            ),
        )
    elif form.is_valid():
        document = copy.deepcopy(document_of(partnership))
        moves = moves_of(form.cleaned_data) if moves_of else {}
        try:
            change(document, form.cleaned_data)
            preview = protocol_apply(
                actor=request.user,
                partnership=partnership,
                document=document,
                dry_run=True,
                moves=moves,
                expect_version=version_now,
            )
            if preview.affected and not form.cleaned_data.get(CONFIRM):
                moved = preview.affected
                form.add_error(
                    CONFIRM,
                    ngettext(
                        "This change reaches %(n)s open escalation, listed below. ",
                        "This change reaches %(n)s open escalations, listed below. ",
                        len(preview.affected),
                    )
                    % {"n": len(preview.affected)}
                    + _(
                        "Nothing has been saved. To go on, tick “Save, with the changes to open "
                        "escalations listed” and save again."
                    ),
                )
            else:
                applied = protocol_apply(
                    actor=request.user,
                    partnership=partnership,
                    document=document,
                    part=part,
                    moves=moves,
                    expect_version=version_now,
                )
        except (ValidationError, NotAllowed) as refused:
            add_errors(form, refused)
        else:
            if moved is None:
                messages.success(
                    request,
                    (done or _("The protocol is saved"))
                    + (
                        ngettext(
                            ": the due date of %(n)s open escalation moved",
                            ": the due dates of %(n)s open escalations moved",
                            len(applied.moved),
                        )
                        % {"n": len(applied.moved)}
                        if applied.moved
                        else ""
                    ),
                )
                return redirect("settings_protocol")
    return _page(
        request,
        "protocol_form.html",
        {
            "form": form,
            "moved": moved,
            "preview": preview if moved is not None else None,
            "title": title,
            "button": button,
            "intro": intro,
        },
    )


@require_http_methods(["GET"])
def settings_protocol(request: HttpRequest) -> HttpResponse:
    """The protocol as it stands: the formal body, the ladder, the priorities and budgets."""
    partnership = business_unit_partnership(request)
    document = document_of(partnership)
    labels = {p["code"]: p["label"] for p in document["priorities"]}
    stages = []
    top = max(s["number"] for s in document["stages"])
    for s in document["stages"]:
        others = [(labels.get(code, code), days) for code, days in s["other_working_days"].items()]
        stages.append(
            {
                **s,
                "worked_by_label": WorkedBy(s["worked_by"]).label,
                "others": others,
                "is_top": s["number"] == top,
            }
        )
    origins = dict(Origin.choices)
    budgets = [
        {**b, "index": i, "origin_label": origins.get(b["origin"], _("every escalation"))}
        for i, b in enumerate(document["budgets"])
    ]
    priorities = [{**p, "fixed": p["code"] in (ROUTINE, URGENT)} for p in document["priorities"]]
    return _page(
        request,
        "protocol.html",
        {
            "document": document,
            "stages": stages,
            "priorities": priorities,
            "budgets": budgets,
            "authority": FormalBodyAuthority(document["formal_body"]["authority"]).label,
            "may_add_stage": top < 9,
        },
    )


@require_http_methods(["GET"])
def settings_protocol_versions(request: HttpRequest) -> HttpResponse:
    """Every version of the protocol, newest first: who made it, when, and what it changed."""
    partnership = business_unit_partnership(request)
    protocol_version_now(partnership)  # (a partnership set up without one has its version 1 made now)
    return _page(request, "protocol_versions.html", {"versions": list(protocol_versions(partnership))})


@require_http_methods(["GET"])
def settings_protocol_version(request: HttpRequest, number: int) -> HttpResponse:
    """One version of the protocol as it was applied: who made it, when, what it changed, and
    the formal body, the ladder, the priorities and the limits it held."""
    partnership = business_unit_partnership(request)
    protocol_version_now(partnership)
    version = protocol_version_get(partnership, number) if 1 <= number <= 2**31 - 1 else None
    if version is None:
        raise Http404
    document = version.document
    labels = {p["code"]: p["label"] for p in document.get("priorities", [])}
    origins = dict(Origin.choices)
    authority = document["formal_body"]["authority"]
    return _page(
        request,
        "protocol_version.html",
        {
            "version": version,
            "document": document,
            "authority": FormalBodyAuthority(authority).label
            if authority in FormalBodyAuthority.values
            else authority,
            "stages": [
                {
                    **s,
                    "worked_by_label": WorkedBy(s["worked_by"]).label
                    if s["worked_by"] in WorkedBy.values
                    else "",
                    "others": [(labels.get(c, c), d) for c, d in s.get("other_working_days", {}).items()],
                }
                for s in document["stages"]
            ],
            "budgets": [
                {**b, "origin_label": origins.get(b.get("origin"), _("every escalation"))}
                for b in document.get("budgets", [])
            ],
            "latest": protocol_versions(partnership).values_list("number", flat=True).first() == number,
        },
    )


class FormalBodyForm(ProtocolForm):
    name = forms.CharField(
        label=gettext_lazy("The formal body's name"),
        max_length=100,
        help_text=gettext_lazy(
            "Who receives formal escalations: a practice development group, a panel, a chair."
        ),
        error_messages={"required": gettext_lazy("Enter the formal body's name")},
    )
    name_cy = forms.CharField(
        label=gettext_lazy("The formal body's name in Welsh (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"lang": "cy"}),
        help_text=gettext_lazy("For a partnership that works in Wales: shown on the pages in Welsh."),
    )
    authority = forms.ChoiceField(
        label=gettext_lazy("What the formal body may do"),
        choices=FormalBodyAuthority.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Select what the formal body may do")},
    )
    source = forms.CharField(
        label=gettext_lazy("The published procedure the ladder follows (optional)"),
        max_length=300,
        required=False,
    )


@require_http_methods(["GET", "POST"])
def settings_formal_body(request: HttpRequest) -> HttpResponse:
    partnership = business_unit_partnership(request)
    document = document_of(partnership)
    initial = {"name_cy": "", **document["formal_body"], "source": document["source"]}
    form = FormalBodyForm(request.POST if request.method == "POST" else None, initial=initial)

    def change(doc, data):
        doc["formal_body"] = {"name": data["name"], "authority": data["authority"]}
        if data.get("name_cy", "").strip():
            doc["formal_body"]["name_cy"] = data["name_cy"].strip()
        doc["source"] = data["source"]

    return _protocol_change(
        request,
        form,
        change,
        part="formal_body",
        title=_("The formal body"),
        button=_("Save the formal body"),
        done=_("The formal body is saved"),
    )


def _days(label, required: bool = True) -> forms.IntegerField:
    field = forms.IntegerField(
        label=label,
        min_value=1,
        max_value=250,
        required=required,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Enter %(what)s") % {"what": str(label).lower()},
            "invalid": _("Enter a whole number of working days from 1 to 250"),
            "min_value": _("Enter a whole number of working days from 1 to 250"),
            "max_value": _("Enter a whole number of working days from 1 to 250"),
        },
    )
    field.govuk_classes = "govuk-input--width-3"
    return field


class StageForm(ProtocolForm):
    name = forms.CharField(
        label=gettext_lazy("The stage's name"),
        max_length=100,
        error_messages={"required": gettext_lazy("Enter the stage's name")},
    )
    name_cy = forms.CharField(
        label=gettext_lazy("The stage's name in Welsh (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"lang": "cy"}),
    )
    worked_by = forms.ChoiceField(
        label=gettext_lazy("Who works it"),
        choices=WorkedBy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Select who works it")},
    )
    formal = forms.BooleanField(
        label=gettext_lazy("It is a formal stage (from the first, the formal body sees the escalation)"),
        required=False,
    )
    routine_working_days = _days(gettext_lazy("Working days to resolve it: routine"))
    urgent_working_days = _days(gettext_lazy("Working days to resolve it: urgent"))
    conference_chair_may_start = forms.BooleanField(
        label=gettext_lazy("A conference chair or IRO may start an escalation here"), required=False
    )
    requires = forms.MultipleChoiceField(
        label=gettext_lazy("What it asks for"),
        help_text=gettext_lazy(
            "The answers an escalation must have to enter this stage (for stage 1, to be raised, "
            "beside who it is with, the child or theme, a summary and how urgent it is). Anything "
            "else may be added at any time. A formal stage always asks for the evidence and the "
            "efforts to resolve it."
        ),
        choices=list(ANSWERS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    def __init__(self, *args, priorities: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.added = [p for p in priorities if p["code"] not in (ROUTINE, URGENT)]
        confirm = self.fields.pop(CONFIRM)
        for p in self.added:
            field = _days(
                _("Working days to resolve it: %(label)s (optional)") % {"label": p["label"]}, False
            )
            field.help_text = _("Empty: the routine timescale.")
            self.fields[f"days_{p['code']}"] = field
        self.fields[CONFIRM] = confirm

    def stage(self, number: int) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "number": number,
            "name": data["name"],
            **({"name_cy": data["name_cy"].strip()} if data.get("name_cy", "").strip() else {}),
            "worked_by": data["worked_by"],
            "formal": bool(data["formal"]),
            "routine_working_days": data["routine_working_days"],
            "urgent_working_days": data["urgent_working_days"],
            "conference_chair_may_start": bool(data["conference_chair_may_start"]),
            "requires": list(data["requires"]),
            "other_working_days": {
                p["code"]: data[f"days_{p['code']}"] for p in self.added if data.get(f"days_{p['code']}")
            },
        }


class NewStageForm(StageForm):
    """A stage added: at the top of the ladder, or above any stage (a stage inserted after the
    first, say). The stages above it move up a number each and keep their identity."""

    def __init__(self, *args, stages: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        top = max(s["number"] for s in stages)
        place = forms.TypedChoiceField(
            label=_("Where it goes on the ladder"),
            help_text=_(
                "The stages above it move up a number each. Open escalations stay on the stage they "
                "stand at, by name, with its due date."
            ),
            coerce=int,
            required=False,
            empty_value=top,
            choices=[
                (s["number"], _("Above stage %(n)s, %(name)s") % {"n": s["number"], "name": s["name"]})
                if s["number"] < top
                else (
                    s["number"],
                    _("At the top of the ladder, above stage %(n)s, %(name)s")
                    % {
                        "n": s["number"],
                        "name": s["name"],
                    },
                )
                for s in stages
            ],
            widget=forms.RadioSelect,
        )
        self.fields = {"after": place, **self.fields}


def _insert_after(doc: dict[str, Any], after: int) -> None:
    """Make room for a stage above stage ``after``: the stages above move up a number, and the
    limits on working days follow the stages they name."""
    for s in doc["stages"]:
        if s["number"] > after:
            s["number"] += 1
    for b in doc["budgets"]:
        if b["first_stage"] > after:
            b["first_stage"] += 1
        if b["last_stage"] is not None and b["last_stage"] > after:
            b["last_stage"] += 1


@require_http_methods(["GET", "POST"])
def settings_stage(request: HttpRequest, number: int | None = None) -> HttpResponse:
    """A stage of the ladder changed (its number never changes here), or a new stage added,
    at the top or above any stage."""
    partnership = business_unit_partnership(request)
    document = document_of(partnership)
    stages = {s["number"]: s for s in document["stages"]}
    if number is not None and number not in stages:
        raise Http404
    if number is None and max(stages) >= 9:
        raise Http404
    initial: dict[str, Any] = {}
    posted = request.POST if request.method == "POST" else None
    if number is not None:
        s = stages[number]
        initial = {**s, **{f"days_{code}": days for code, days in s["other_working_days"].items()}}
        form = StageForm(posted, initial=initial, priorities=document["priorities"])
    else:
        initial = {
            "after": max(stages),
            "worked_by": WorkedBy.FORMAL_BODY,
            "formal": True,
            # (None ticked: a formal stage asks rule 3's answers whatever is ticked, and a stage
            # inserted lower down, informal, should not ask them.)
            "requires": [],
        }
        form = NewStageForm(
            posted, initial=initial, priorities=document["priorities"], stages=document["stages"]
        )

    def change(doc, data):
        at = number if number is not None else data["after"] + 1
        new = form.stage(at)
        # The stage keeps its key (what Accord knows it by across reviews); a new one gets its own.
        if number is None:
            _insert_after(doc, data["after"])
            new["key"] = stage_key_for(new["name"], at, {s["key"] for s in doc["stages"]})
        else:
            new["key"] = stages[at]["key"]
        if number is not None and stages[at].get("facilitated"):
            new["facilitated"] = True  # (not asked on this page: kept as it is)
        doc["stages"] = [s for s in doc["stages"] if s["key"] != new["key"]] + [new]
        doc["stages"].sort(key=lambda s: s["number"])

    title = (
        _("Stage %(n)s: %(name)s") % {"n": number, "name": stages[number]["name"]}
        if number is not None
        else _("Add a stage")
    )
    return _protocol_change(
        request,
        form,
        change,
        part=f"stage {number}" if number is not None else "stage added",
        title=title,
        button=_("Save the stage") if number is not None else _("Add the stage"),
        intro=_(
            "The ladder must stay one Accord can run: each stage worked by the same people as the one "
            "below or more senior ones, the formal stages at the top, the formal body at formal stages only."
        ),
        done=_("Stage %(n)s is saved") % {"n": number} if number is not None else _("The stage is added"),
    )


class ConfirmForm(ProtocolForm):
    pass


class RemoveStageForm(ProtocolForm):
    """A stage removed; where open escalations standing at it will stand, when some do."""

    def __init__(self, *args, choices: list[tuple[str, str]], references: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        if references:
            confirm = self.fields.pop(CONFIRM)
            self.fields["move_to"] = forms.ChoiceField(
                label=ngettext(
                    "Where will the open escalation at this stage stand?",
                    "Where will the %(n)s open escalations at this stage stand?",
                    len(references),
                )
                % {"n": len(references)},
                help_text=", ".join(references)
                + ". "
                + _(
                    "Each starts the chosen stage with its timescale. What escalations passed through "
                    "this stage is counted with the chosen stage from now on."
                ),
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={"required": _("Select where the open escalations will stand")},
            )
            self.fields[CONFIRM] = confirm


def _remove_stage(doc: dict[str, Any], number: int) -> None:
    """Stage ``number`` out of the document: the stages above move down a number, and the
    limits on working days follow the stages they name (one over that stage alone goes)."""
    top = max(s["number"] for s in doc["stages"])
    doc["stages"] = [s for s in doc["stages"] if s["number"] != number]
    for s in doc["stages"]:
        if s["number"] > number:
            s["number"] -= 1
    budgets = []
    for b in doc["budgets"]:
        first, last = b["first_stage"], b["last_stage"]
        if first == number and (last == number or number == top):
            continue
        if last is not None and number == top and last == top:
            last = None
        elif last is not None and last >= number:
            last -= 1
        budgets.append({**b, "first_stage": first - (first > number), "last_stage": last})
    doc["budgets"] = budgets


@require_http_methods(["GET", "POST"])
def settings_stage_remove(request: HttpRequest, number: int) -> HttpResponse:
    """A stage removed, at any place on the ladder: the stages above move down a number and
    keep their identity; open escalations standing at it stand where the business unit
    chooses (a stage that is not formal, for an informal stage's)."""
    partnership = business_unit_partnership(request)
    document = document_of(partnership)
    stages = {s["number"]: s for s in document["stages"]}
    if number not in stages or len(stages) <= 2:
        raise Http404
    removed = stages[number]
    references = open_at_stage(partnership, number)
    choices = [
        (s["key"], _("Stage %(n)s, %(name)s") % {"n": s["number"], "name": s["name"]})
        for s in document["stages"]
        if s["number"] != number and (removed["formal"] or not s["formal"])
    ]
    form = RemoveStageForm(
        request.POST if request.method == "POST" else None, choices=choices, references=references
    )

    def change(doc, data):
        _remove_stage(doc, number)

    def moves(data):
        return {removed["key"]: data["move_to"]} if data.get("move_to") else {}

    return _protocol_change(
        request,
        form,
        change,
        moves_of=moves,
        part=f"stage {number} removed",
        title=_("Remove stage %(n)s, %(name)s") % {"n": number, "name": removed["name"]},
        button=_("Remove the stage"),
        intro=_(
            "The stages above it move down a number each and keep their names; open escalations at "
            "them stay where they stand. The ladder must stay one Accord can run: its top stage formal."
        ),
        done=_("Stage %(n)s is removed") % {"n": number},
    )


class PriorityForm(ProtocolForm):
    code = forms.SlugField(
        label=gettext_lazy("Code"),
        max_length=30,
        help_text=gettext_lazy("Lower-case letters, digits, - or _: how the API and reports name it."),
        error_messages={
            "required": gettext_lazy("Enter the priority's code"),
            "invalid": gettext_lazy("Enter a code of lower-case letters, digits, - or _"),
        },
    )
    label = forms.CharField(
        label=gettext_lazy("Label"),
        max_length=100,
        error_messages={"required": gettext_lazy("Enter the priority's label")},
    )
    label_cy = forms.CharField(
        label=gettext_lazy("Label in Welsh (optional)"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"lang": "cy"}),
        help_text=gettext_lazy("For a partnership that works in Wales: shown on the pages in Welsh."),
    )
    description = forms.CharField(
        label=gettext_lazy("When to choose it (optional)"), max_length=300, required=False
    )
    after = forms.TypedChoiceField(label=gettext_lazy("Where the raising page offers it"), coerce=int)

    def __init__(self, *args, priorities: list[dict], editing: str | None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        others = [p for p in priorities if p["code"] != editing]
        self.fields["after"].choices = [(0, _("First"))] + [
            (i, _("After %(label)s") % {"label": p["label"]}) for i, p in enumerate(others, start=1)
        ]
        if editing is not None:
            del self.fields["code"]


@require_http_methods(["GET", "POST"])
def settings_priority(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """A priority tier added, or one's label, description and place changed."""
    partnership = business_unit_partnership(request)
    document = document_of(partnership)
    tiers = document["priorities"]
    codes = [p["code"] for p in tiers]
    if code is not None and code not in codes:
        raise Http404
    if code is not None:
        index = codes.index(code)
        initial = {**tiers[index], "after": index}
    else:
        initial = {"after": max(len(tiers) - 1, 0)}
    form = PriorityForm(
        request.POST if request.method == "POST" else None, initial=initial, priorities=tiers, editing=code
    )

    def change(doc, data):
        tier_code = code or data["code"]
        if code is None and tier_code in codes:
            raise ValidationError({"code": _("Another priority has that code")})
        others = [p for p in doc["priorities"] if p["code"] != tier_code]
        tier = {"code": tier_code, "label": data["label"], "description": data["description"]}
        if data.get("label_cy", "").strip():
            tier["label_cy"] = data["label_cy"].strip()
        doc["priorities"] = others[: data["after"]] + [tier] + others[data["after"] :]

    return _protocol_change(
        request,
        form,
        change,
        part=f"priority {code or 'added'}",
        title=_("Priority: %(label)s") % {"label": tiers[codes.index(code)]["label"]}
        if code
        else _("Add a priority"),
        button=_("Save the priority") if code else _("Add the priority"),
        intro=_(
            "Each stage may give an added priority its own timescale (on the stage's page); otherwise it "
            "takes the routine one."
        ),
        done=_("The priorities are saved"),
    )


@require_http_methods(["GET", "POST"])
def settings_priority_remove(request: HttpRequest, code: str) -> HttpResponse:
    partnership = business_unit_partnership(request)
    document = document_of(partnership)
    tiers = {p["code"]: p for p in document["priorities"]}
    if code not in tiers or code in (ROUTINE, URGENT):
        raise Http404
    form = ConfirmForm(request.POST if request.method == "POST" else None)

    def change(doc, data):
        doc["priorities"] = [p for p in doc["priorities"] if p["code"] != code]
        for s in doc["stages"]:
            s["other_working_days"].pop(code, None)

    return _protocol_change(
        request,
        form,
        change,
        part=f"priority {code} removed",
        title=_("Remove the priority %(label)s") % {"label": tiers[code]["label"]},
        button=_("Remove the priority"),
        intro=_("A priority open escalations have cannot be removed."),
        done=_("The priority is removed"),
    )


class BudgetForm(ProtocolForm):
    first_stage = forms.TypedChoiceField(label=gettext_lazy("From stage"), coerce=int)
    last_stage = forms.TypedChoiceField(
        label=gettext_lazy("To stage"), coerce=int, empty_value=None, required=False
    )
    working_days = _days(gettext_lazy("Working days in all"))
    origin = forms.ChoiceField(
        label=gettext_lazy("For escalations from"),
        choices=[("", gettext_lazy("Every escalation"))] + list(Origin.choices),
        required=False,
    )

    def __init__(self, *args, stages: list[dict], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(s["number"], f"{s['number']}: {s['name']}") for s in stages]
        self.fields["first_stage"].choices = choices
        self.fields["last_stage"].choices = [("", _("The top of the ladder"))] + choices


@require_http_methods(["GET", "POST"])
def settings_budget(request: HttpRequest, index: int | None = None) -> HttpResponse:
    """A limit on the working days a run of stages takes in all, added or changed."""
    partnership = business_unit_partnership(request)
    document = document_of(partnership)
    budgets = document["budgets"]
    if index is not None and not 0 <= index < len(budgets):
        raise Http404
    initial = budgets[index] if index is not None else {}
    form = BudgetForm(
        request.POST if request.method == "POST" else None, initial=initial, stages=document["stages"]
    )

    def change(doc, data):
        row = {
            "first_stage": data["first_stage"],
            "last_stage": data["last_stage"],
            "working_days": data["working_days"],
            "origin": data["origin"],
        }
        if index is None:
            doc["budgets"].append(row)
        else:
            doc["budgets"][index] = row

    return _protocol_change(
        request,
        form,
        change,
        part="budget",
        title=_("Change a limit on working days") if index is not None else _("Add a limit on working days"),
        button=_("Save the limit"),
        intro=_(
            "Each stage in the run gets at most what is left of the limit once the earlier stages in it "
            "have taken their days (pauses do not count)."
        ),
        done=_("The limits on working days are saved"),
    )


@require_http_methods(["GET", "POST"])
def settings_budget_remove(request: HttpRequest, index: int) -> HttpResponse:
    partnership = business_unit_partnership(request)
    if not 0 <= index < len(document_of(partnership)["budgets"]):
        raise Http404
    form = ConfirmForm(request.POST if request.method == "POST" else None)

    def change(doc, data):
        del doc["budgets"][index]

    return _protocol_change(
        request,
        form,
        change,
        part="budget removed",
        title=_("Remove a limit on working days"),
        button=_("Remove the limit"),
        done=_("The limit is removed"),
    )


# --------------------------------------------------------------------------- the whole protocol as a file

PROTOCOL_SESSION_KEY = "accord_protocol_file"


@require_http_methods(["GET"])
def settings_protocol_download(request: HttpRequest) -> HttpResponse:
    """The protocol as the JSON document ``manage.py protocol export`` prints (to review it,
    keep it, or start another partnership's from it)."""
    partnership = business_unit_partnership(request)
    response = HttpResponse(
        json.dumps(document_of(partnership), indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{partnership.slug}-protocol.json"'
    return response


class ProtocolFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Upload the protocol (JSON)"),
        help_text=gettext_lazy(
            "A document as “Download the protocol” gives it, edited for the year's review: up to 256 KB."
        ),
        error_messages={"required": gettext_lazy("Select the protocol's JSON file")},
    )


def _protocol_file_checked(request: HttpRequest, partnership: Partnership) -> tuple:
    """A protocol file uploaded: read, checked and tried (nothing changes); kept in the
    session, by its hash, for the business unit to use. Answers the form, the preview, the
    document (None if refused) and the stages removed that hold open escalations."""
    form, preview, document, removed = ProtocolFileForm(request.POST, request.FILES), None, None, []
    if not form.is_valid():
        return form, preview, document, removed
    content = form.cleaned_data["file"].read(MOST_DOCUMENT_BYTES + 1)
    try:
        document = load_document(content)  # (size, depth and JSON, in plain words)
        try:
            preview = protocol_apply(
                actor=request.user, partnership=partnership, document=document, dry_run=True
            )
        except ValidationError as choose:
            if not getattr(choose, "removed", None):
                raise
            removed = choose.removed  # a stage with open escalations removed: choose for them
    except (ValidationError, NotAllowed) as refused:
        document = None
        if isinstance(refused, ValidationError):
            for message in refused.messages:
                form.add_error("file", message)
        else:
            form.add_error(None, str(refused))
    else:
        request.session[PROTOCOL_SESSION_KEY] = {
            "partnership": partnership.pk,
            "hash": hashlib.sha256(content).hexdigest(),
            "document": document,
            # (The protocol as it stood when the file was checked: a change made meanwhile by
            # someone else is not undone unseen.)
            "version": _version_now(partnership),
        }
    return form, preview, document, removed


@require_http_methods(["GET", "POST"])
def settings_protocol_upload(request: HttpRequest) -> HttpResponse:
    """A whole protocol brought in at once (the annual review): checked as every change is,
    with the due dates it would move listed, and used only once the business unit says so."""
    partnership = business_unit_partnership(request)
    form, preview, document, removed = ProtocolFileForm(), None, None, []
    confirm = ConfirmForm(request.POST if request.method == "POST" and request.POST.get("apply") else None)
    kept = request.session.get(PROTOCOL_SESSION_KEY) or {}
    moves = {
        name.removeprefix("move_"): value
        for name, value in request.POST.items()
        if name.startswith("move_") and isinstance(value, str)
    }
    if request.method == "POST" and request.POST.get("apply"):
        if kept.get("partnership") != partnership.pk or kept.get("hash") != request.POST.get("apply"):
            messages.error(request, _("Upload the file again: the checked file is no longer to hand."))
            return redirect("settings_protocol_upload")
        if kept.get("version") != _version_now(partnership):
            del request.session[PROTOCOL_SESSION_KEY]
            messages.error(
                request,
                _(
                    "Someone changed the protocol since you checked this file. Nothing has been saved: "
                    "download the protocol as it stands now, make your change to it and upload it again."
                ),
            )
            return redirect("settings_protocol_upload")
        document = kept["document"]
        try:
            preview = protocol_apply(
                actor=request.user, partnership=partnership, document=document, dry_run=True, moves=moves
            )
            removed = [replace(r, chosen=moves.get(r.key, "")) for r in preview.removed]
            if preview.affected and not (
                confirm.is_valid() and confirm.cleaned_data.get(CONFIRM) and kept.get("moves", {}) == moves
            ):
                kept["moves"] = moves
                request.session[PROTOCOL_SESSION_KEY] = kept
                confirm.add_error(
                    CONFIRM,
                    _(
                        "Check what it does to the open escalations listed, then tick “Save, with the "
                        "changes to open escalations listed” to use this protocol."
                    ),
                )
            else:
                applied = protocol_apply(
                    actor=request.user,
                    partnership=partnership,
                    document=document,
                    part="the whole protocol",
                    moves=moves,
                    expect_version=kept.get("version"),
                )
                del request.session[PROTOCOL_SESSION_KEY]
                messages.success(
                    request,
                    ngettext(
                        "The protocol is in use: the due date of %(n)s open escalation moved",
                        "The protocol is in use: the due dates of %(n)s open escalations moved",
                        len(applied.moved),
                    )
                    % {"n": len(applied.moved)},
                )
                return redirect("settings_protocol")
        except (ValidationError, NotAllowed) as refused:
            # (On the form that was posted: the file is kept, and shown with its choices again.)
            confirm.is_valid()
            add_errors(confirm, refused)
            removed = [replace(r, chosen=moves.get(r.key, "")) for r in getattr(refused, "removed", [])]
    elif request.method == "POST":
        form, preview, document, removed = _protocol_file_checked(request, partnership)
        kept = request.session.get(PROTOCOL_SESSION_KEY) or kept
    checked = parse_document(document) if document is not None and not form.errors else None
    return _page(
        request,
        "protocol_upload.html",
        {
            "form": form,
            "confirm": confirm,
            "preview": preview if checked else None,
            "removed": removed if checked else [],
            "checked": checked,
            "file_hash": kept.get("hash", ""),
        },
    )
