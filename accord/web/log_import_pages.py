"""The business unit's page for the earlier log: upload it, choose which column holds each of
Accord's fields, map the log's own words (each distinct value of a column, with a choice
beside it), see every row checked with nothing changed (those still open listed at the stage
they will stand at, with their due dates, to confirm), then bring it in; an import removed.
Each step is one caller of ``accord.escalations.services.importing``."""

from __future__ import annotations

import base64

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accord.core.spreadsheets import SpreadsheetError
from accord.escalations.models import EscalationImport
from accord.escalations.services.importing import (
    FIELD_LABELS,
    FIELDS,
    OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
    Mapping,
    MappingError,
    apply_log_import,
    brought_in_open,
    file_columns,
    file_words,
    guess_mapping,
    plan_log_import,
    read_mapping,
    remove_log_import,
)
from accord.escalations.services.importing import MOST_BYTES as LOG_MOST_BYTES
from accord.escalations.services.log_words import KIND_LABELS, vocabulary_of
from accord.partnership.protocol import ladder_of

from .settings_pages import business_unit_partnership

LOG_SESSION_KEY = "accord_log_import"
NOT_IN_FILE = ""
AS_WRITTEN = ""
DATE_FORMATS = {
    "%d/%m/%Y": gettext_lazy("Day first: 31/01/2025"),
    "%m/%d/%Y": gettext_lazy("Month first: 01/31/2025"),
    "%Y-%m-%d": gettext_lazy("Year first: 2025-01-31"),
}


class LogFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Upload the earlier log"),
        help_text=gettext_lazy(
            "CSV (UTF-8) or Excel (XLSX), up to 5 MB and 5,000 rows, one escalation a row."
        ),
        error_messages={"required": gettext_lazy("Select a CSV or XLSX file")},
    )
    mapping = forms.FileField(
        label=gettext_lazy("A mapping file (optional)"),
        help_text=gettext_lazy(
            "Most logs need none: you choose the columns and say what the log's words mean on the "
            "next pages. Only if a mapping file (JSON) has been prepared for this log, add it here "
            "and its choices are made for you."
        ),
        required=False,
    )


class LogMappingForm(forms.Form):
    """Which of the file's columns holds each of Accord's fields."""

    date_format = forms.ChoiceField(
        label=gettext_lazy("How the log writes dates"),
        choices=list(DATE_FORMATS.items()),
        help_text=gettext_lazy("Dates typed into Excel as dates are read whatever this says."),
    )
    every_kind = forms.ChoiceField(
        label=gettext_lazy("If the log has no column for the kind: every row is about"),
        choices=[
            ("", gettext_lazy("The log has a column for it")),
            ("case", gettext_lazy("A child")),
            ("theme", gettext_lazy("A theme")),
        ],
        required=False,
    )

    def __init__(self, *args, columns: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(NOT_IN_FILE, _("Not in this file")), *[(c, c) for c in columns]]
        fields = {}
        for name in FIELDS:
            fields[name] = forms.ChoiceField(
                label=_(FIELD_LABELS[name])
                if name in REQUIRED_FIELDS
                else _("%(field)s (optional)") % {"field": _(FIELD_LABELS[name])},
                choices=choices,
                required=name in REQUIRED_FIELDS,
                error_messages={
                    "required": _("Choose the column that holds %(field)s")
                    % {"field": _(FIELD_LABELS[name]).lower()}
                },
            )
        # Accord's fields first, then the two choices about the whole file.
        self.fields = {**fields, **self.fields}

    def clean(self):
        data = super().clean()
        # Asked here, on its field, rather than only once the log's words are mapped.
        if not data.get("kind") and not data.get("every_kind"):
            self.add_error(
                "every_kind",
                _("Choose the column that holds the kind, or say that every row is about a child or a theme"),
            )
        return data

    def mapping(self, kept: Mapping) -> Mapping:
        data = self.cleaned_data
        return Mapping(
            columns={name: data[name] for name in FIELDS if data.get(name)},
            values=kept.values,
            defaults={"kind": data["every_kind"]} if data.get("every_kind") else {},
            date_formats=[data["date_format"]],
            themes_separator=kept.themes_separator,
        )


class LogWordsForm(forms.Form):
    """Each distinct value of the columns that hold Accord's values, with a choice beside it:
    the partnership's own (its agencies, its ladder's stages now, its priorities, areas and
    themes) or Accord's (outcomes, kinds, origins). A close match is chosen already, for the
    business unit to confirm."""

    def __init__(self, *args, words: list[list[str]], choices: dict, initial_words: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.words = words
        for i, (_field, kind, raw) in enumerate(words):
            self.fields[f"word-{i}"] = forms.ChoiceField(
                label=raw,
                choices=[(AS_WRITTEN, _("Not one of these (leave as written)")), *choices.get(kind, [])],
                required=False,
                initial=initial_words[i],
            )
            self.fields[f"word-{i}"].column = str(KIND_LABELS[kind])

    def groups(self):
        """The fields by the kind of value, in the file's order."""
        found: dict[str, list] = {}
        for name in self.fields:
            found.setdefault(self.fields[name].column, []).append(self[name])
        return list(found.items())

    def values(self, kept: Mapping) -> dict[str, dict[str, str]]:
        """The kept mapping's translations, with those chosen here."""
        values = {kind: dict(table) for kind, table in kept.values.items()}
        for i, (_field, kind, raw) in enumerate(self.words):
            chosen = self.cleaned_data.get(f"word-{i}") or AS_WRITTEN
            if chosen != AS_WRITTEN:
                values.setdefault(kind, {})[raw] = chosen
        return values


def _kept(request: HttpRequest, partnership) -> dict:
    kept = request.session.get(LOG_SESSION_KEY) or {}
    return kept if kept.get("partnership") == partnership.pk else {}


def _upload(request: HttpRequest, partnership, page: dict) -> None:
    form = page["upload_form"] = LogFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return
    upload = form.cleaned_data["file"]
    content = upload.read(LOG_MOST_BYTES + 1)
    try:
        saved = (
            read_mapping(form.cleaned_data["mapping"].read(64 * 1024))
            if form.cleaned_data.get("mapping")
            else Mapping()
        )
        columns = file_columns(content, upload.name)
    except MappingError as problem:
        form.add_error("mapping", str(problem))
        return
    except SpreadsheetError as problem:
        form.add_error("file", str(problem))
        return
    request.session[LOG_SESSION_KEY] = page["kept"] = {
        "partnership": partnership.pk,
        "name": upload.name[:200],
        "content": base64.b64encode(content).decode(),
        "columns": columns,
        "saved": saved.model_dump_json(),
    }
    guessed = guess_mapping(columns, saved)
    initial = guessed.columns | {
        "date_format": saved.date_formats[0] if saved.date_formats[0] in DATE_FORMATS else "%d/%m/%Y",
        "every_kind": saved.defaults.get("kind", ""),
    }
    page["mapping_form"] = LogMappingForm(columns=columns, initial=initial)


def _words_form(
    request: HttpRequest, partnership, kept: dict, mapping: Mapping, *, fresh: bool
) -> LogWordsForm:
    """The log's words to map: read from the file when its columns are chosen (``fresh``),
    then carried with the choices made."""
    vocabulary = vocabulary_of(partnership)
    if fresh:
        content = base64.b64decode(kept["content"])
        found = file_words(content, kept["name"], partnership, mapping)
        kept["words"] = [[w.field, w.kind, w.raw] for w in found]
        kept["initial_words"] = [
            mapping.values.get(w.kind, {}).get(w.raw) or w.exact or w.suggested or AS_WRITTEN for w in found
        ]
        request.session[LOG_SESSION_KEY] = kept
    return LogWordsForm(
        None if fresh else request.POST,
        words=kept.get("words", []),
        choices=vocabulary.choices,
        initial_words=kept.get("initial_words", []),
    )


def _check(request: HttpRequest, partnership, page: dict, step: str) -> HttpResponse | None:
    kept = page["kept"]
    form = page["mapping_form"] = LogMappingForm(request.POST, columns=kept["columns"])
    if not form.is_valid():
        return None
    mapping = form.mapping(Mapping.model_validate_json(kept["saved"]))
    words = page["words_form"] = _words_form(request, partnership, kept, mapping, fresh=step == "columns")
    if step == "columns" or not words.is_valid():
        return None
    mapping = mapping.model_copy(update={"values": words.values(mapping)})
    # Checked again as it is brought in: someone may have changed the agencies since.
    plan = page["plan"] = plan_log_import(
        partnership, base64.b64decode(kept["content"]), kept["name"], mapping
    )
    if step != "apply" or not plan.ok:
        return None
    try:
        batch = apply_log_import(
            actor=request.user, plan=plan, confirm_open=bool(request.POST.get("confirm_open"))
        )
    except ValidationError as refused:
        page["apply_error"] = " ".join(refused.messages)
        return None
    del request.session[LOG_SESSION_KEY]
    messages.success(
        request, _("%(n)s escalations brought in from %(file)s") % {"n": batch.rows, "file": batch.filename}
    )
    return redirect("log_import_done", pk=batch.pk)


@require_http_methods(["GET", "POST"])
def log_import(request: HttpRequest) -> HttpResponse:
    """Upload the earlier log, choose its columns, map its words, see every row checked with
    nothing changed, then bring it in; the imports so far, each removable."""
    partnership = business_unit_partnership(request)
    page = {"upload_form": LogFileForm(), "mapping_form": None, "words_form": None, "plan": None}
    page["kept"] = _kept(request, partnership)
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step == "upload":
        _upload(request, partnership, page)
    elif step in ("columns", "check", "apply"):
        if not page["kept"]:
            messages.error(request, _("Upload the file again: the file is no longer to hand."))
            return redirect("log_import")
        done = _check(request, partnership, page, step)
        if done is not None:
            return done
    imports = (
        EscalationImport.objects.filter(partnership=partnership)
        .select_related("imported_by", "removed_by")
        .order_by("-imported_at")[:50]
    )
    return render(
        request,
        "core/log_import.html",
        {
            **page,
            "imports": imports,
            "partnership": partnership,
            "file_name": page["kept"].get("name", ""),
            "required_fields": [FIELD_LABELS[f] for f in REQUIRED_FIELDS],
            "optional_fields": [FIELD_LABELS[f] for f in OPTIONAL_FIELDS],
        },
    )


def log_import_done(request: HttpRequest, pk: int) -> HttpResponse:
    """What an import brought in: the escalations still open among them that the business
    unit may open (rule 7), each by its reference and stage, and how many more others hold.
    (Whose it is, asked before the method: another's import is not found, whatever is sent.)"""
    partnership = business_unit_partnership(request)
    batch = EscalationImport.objects.filter(pk=pk, partnership=partnership, removed_at__isnull=True).first()
    if batch is None:
        raise Http404
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    theirs, others = brought_in_open(viewer=request.user, batch=batch)
    ladder = ladder_of(partnership)
    return render(
        request,
        "core/log_import_done.html",
        {
            "batch": batch,
            "partnership": partnership,
            "theirs": [(e, ladder.name_of(e.stage)) for e in theirs],
            "others": others,
        },
    )


@require_http_methods(["GET", "POST"])
def log_import_remove(request: HttpRequest, pk: int) -> HttpResponse:
    partnership = business_unit_partnership(request)
    batch = EscalationImport.objects.filter(pk=pk, partnership=partnership, removed_at__isnull=True).first()
    if batch is None:
        raise Http404
    if request.method == "POST":
        try:
            removed = remove_log_import(actor=request.user, batch=batch)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(
                request,
                _("%(n)s escalations brought in from %(file)s removed")
                % {"n": removed, "file": batch.filename},
            )
        return redirect("log_import")
    return render(
        request,
        "core/log_import_remove.html",
        {"batch": batch, "count": batch.escalations.count(), "partnership": partnership},
    )
