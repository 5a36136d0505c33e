"""The PDG standing item: a page, a CSV download, and (in accord/api) the same figures as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.downloads import SafeCsvWriter
from accord.core.errors import IllegalTransition
from accord.core.govuk import DateInputField
from accord.core.request_memo import remembered
from accord.escalations.models import AfterNotHeld, ChildCentredOutcome, Held, Kind, Origin, Outcome, Status
from accord.escalations.subjects import Subject
from accord.escalations.tallies import RESOLVED_DAYS

from .charts import line_chart
from .disclosure import as_number_and_note, is_hidden, key, suppress_count, suppress_counts, suppress_table
from .languages import resolution_by_language
from .models import MeetingAction, PdgMeeting
from .pdf import pango_missing, render_pdf
from .periods import ChosenPeriod, asked_period, choose_period, default_for
from .policies import Reading, Report, may_record_meetings, may_see_meeting_action, report_reading
from .selectors import (
    OTHERS,
    Figures,
    Period,
    ProtectedYear,
    every_figure_shown,
    formal_open,
    learning_listed,
    low_challenge_shown,
    overdue_by_stage,
    pdg_figures,
    protected_year,
)
from .services import meeting_action_done
from .stages import stage_label

# What each table's figures count, said in its column's heading: escalations (each once), or
# agencies' involvements in them (an escalation naming three agencies is three), or what was
# resolved or answered in the period. A table's figures add up to a total of the same unit.
UNITS = {
    "escalations": _("Escalations"),
    "themed": _("Escalations with the theme"),
    "naming": _("Escalations naming it"),
    "resolutions": _("Resolutions"),
    "follow_ups": _("Follow-ups"),
    "learning": _("Resolutions with the theme"),
}

# A cell of the agency matrix: an escalation raised by one agency naming another; its rows
# and its "all other agencies" cells add up agencies' involvements.
MATRIX_UNIT = _("Involvements: escalations raised by the first agency naming the second")

LABELS = {
    "kind": dict(Kind.choices),
    "subject": dict(Subject.choices),
    "origin": dict(Origin.choices),
    "status": dict(Status.choices),
    "outcome": dict(Outcome.choices),
    "child_centred": dict(ChildCentredOutcome.choices),
    "held": dict(Held.choices),
    "after": dict(AfterNotHeld.choices),
}


class PeriodForm(forms.Form):
    start = DateInputField(label=_("From"), subject=_("the start of the period"), required=False)
    end = DateInputField(label=_("To"), subject=_("the end of the period"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end of the period must be on or after its start"))
        return data


def _recent_meetings(partnership) -> list[PdgMeeting]:
    """The partnership's last two PDG meetings up to today (one a day at most), read once a
    request: the default period starts after the last before today, and the standing item
    names the last up to the end of its period."""
    today = clock.today()
    return remembered(
        ("recent PDG meetings", partnership.pk, today),
        lambda: list(PdgMeeting.objects.filter(partnership=partnership, held_on__lte=today)[:2]),
    )


def last_meeting_by(partnership, day: dt.date) -> PdgMeeting | None:
    """The last PDG meeting held on or before ``day``."""
    if day == clock.today():
        recent = _recent_meetings(partnership)
        return recent[0] if recent else None
    return PdgMeeting.objects.filter(partnership=partnership, held_on__lte=day).first()


def default_period(partnership) -> Period:
    """The time since the previous PDG meeting, or else the last three months."""
    today = clock.today()
    last = next((m for m in _recent_meetings(partnership) if m.held_on < today), None)
    start = last.held_on + dt.timedelta(days=1) if last else today - dt.timedelta(days=91)
    return Period(start, today)


def chosen_period(request: HttpRequest, partnership, *, full: bool) -> tuple[ChosenPeriod, PeriodForm]:
    """The period a report page (or its CSV or PDF) covers for its reader, and the form that
    asked for it: the dates asked for, or for a reader who sees small counts hidden the
    reporting year nearest them (``periods``: the page says so)."""
    form = PeriodForm(request.GET or None)
    default = default_for(partnership, default_period(partnership), full=full)
    asked = default
    if form.is_bound and form.is_valid():
        asked = asked_period(
            partnership, form.cleaned_data.get("start"), form.cleaned_data.get("end"), default, full=full
        )
    return choose_period(partnership, asked, full=full), form


def period_from(request: HttpRequest, partnership, *, full: bool) -> tuple[Period, PeriodForm]:
    chosen, form = chosen_period(request, partnership, full=full)
    return chosen.period, form


def _labelled(counts: dict, labels: dict) -> list[tuple[str, Any]]:
    return [(str(labels.get(k, k)), v) for k, v in counts.items()]


def require_reading(request: HttpRequest, report: Report) -> Reading:
    """How the user reads the partnership's report (``reports.policies``): refused if not at all."""
    reading = report_reading(request.roles, report) if request.partnership is not None else None
    if reading is None:
        raise PermissionDenied
    return reading


def _trend(figures: Figures, data: dict[str, Any], full: bool) -> list[dict[str, Any]]:
    """The trend: each earlier period's figures on their own (no total to back one out of);
    the period's own row as the tables show the same figures (protected with them). A reader
    who sees small counts hidden sees the period's own row only: an earlier year's figures
    are in its own report, protected there with its tables, and shown here otherwise (each on
    its own) they could give away a count that report withholds."""
    shown = (lambda n: n) if full else (lambda n: suppress_count(n, figures.threshold))
    own = {
        "raised": data["total"],
        "formal": data["formal"],
        "resolved": data["by_status"].get(Status.RESOLVED, 0),
    }
    return [
        {**t, **own}
        if (t["start"], t["end"]) == (figures.period.start, figures.period.end)
        else {
            **t,
            "raised": shown(t["raised"]),
            "formal": shown(t["formal"]),
            "resolved": shown(t["resolved"]),
        }
        for t in figures.trend
        if full or (t["start"], t["end"]) == (figures.period.start, figures.period.end)
    ]


def _tables(figures: Figures, full: bool, shown: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page's tables: every figure, or for a reader who sees small counts hidden the
    year's protected set (``shown``, ``year_protected``)."""
    data = every_figure_shown(figures, full=full) if shown is None else shown
    sections = [
        (
            _("Stage reached"),
            [
                (stage_label(k), v, {"reached": k} if isinstance(k, int) else None)
                for k, v in data["by_stage_reached"].items()
            ],
            UNITS["escalations"],
        ),
        (
            _("Kind"),
            [(str(LABELS["kind"].get(k, k)), v, {"kind": k}) for k, v in data["by_kind"].items()],
            UNITS["escalations"],
        ),
        *(
            [(_("Whom it was about"), _labelled(data["by_subject"], LABELS["subject"]), UNITS["escalations"])]
            if set(figures.by_subject) - {Subject.CHILD}
            else []
        ),
        (
            _("Urgency"),
            [
                (str(figures.priority_labels.get(k, k)), v, {"urgency": k})
                for k, v in data["by_urgency"].items()
            ],
            UNITS["escalations"],
        ),
        (
            _("Where it came from"),
            [(str(LABELS["origin"].get(k, k)), v, {"origin": k}) for k, v in data["by_origin"].items()],
            UNITS["escalations"],
        ),
        (
            _("Where they stand now"),
            [(str(LABELS["status"].get(k, k)), v, {"status": k}) for k, v in data["by_status"].items()],
            UNITS["escalations"],
        ),
        (
            _("Area of disagreement (an escalation may have several, or none recorded)"),
            [(k, v, {"area": figures.area_codes.get(k, "")}) for k, v in data["by_area"].items()],
            UNITS["escalations"],
        ),
        (
            _("Practice theme (an escalation may have several)"),
            [(k, v, {"theme": figures.theme_codes.get(k, "")}) for k, v in data["by_theme"].items()],
            UNITS["themed"],
        ),
        (
            _("Raising agency"),
            [
                (k, v, {"raised_by_agency": figures.agency_ids.get(k, "")})
                for k, v in data["by_raising_agency"].items()
            ],
            UNITS["escalations"],
        ),
        (
            _("Agencies the difference was with (an escalation naming several counts once for each)"),
            [
                (k, v, {"received_by_agency": figures.agency_ids.get(k, "")})
                for k, v in data["by_receiving_agency"].items()
            ],
            UNITS["naming"],
        ),
        (
            _("Outcomes of escalations resolved in the period"),
            _labelled(data["outcomes"], LABELS["outcome"]),
            UNITS["resolutions"],
        ),
        (
            _("Did the agreed way forward hold? Follow-ups answered in the period"),
            _labelled(data["follow_ups"], LABELS["held"]),
            UNITS["follow_ups"],
        ),
        (
            _("Where it did not hold, what followed (the same follow-ups)"),
            _labelled(data["after_not_held"], LABELS["after"]),
            UNITS["follow_ups"],
        ),
    ]
    sections = [
        (title, [(r[0], r[1], r[2] if len(r) > 2 else None) for r in rows], unit)
        for title, rows, unit in sections
    ]
    trend = _trend(figures, data, full)
    return {
        "total": data["total"],
        "sections": sections,
        "matrix": data["matrix"],
        "iru_total": data["iru_total"],
        "iru_stages": [(stage_label(k), v) for k, v in data["iru_by_stage_reached"].items()],
        "iru_outcomes": _labelled(data["iru_outcomes"], LABELS["outcome"]),
        "trend": trend,
        "key": key(figures.threshold),
    }


MATRIX_AGENCIES = 12


def year_protected(
    partnership, period: Period, *, viewer: Any = None, with_trend: bool = True, every_figure: bool = False
) -> ProtectedYear:
    """A reporting year as a reader who sees small counts hidden reads it, in every form of
    every report (``selectors.protected_year``): the agency matrix of the agencies most
    involved and all others, protected with the months of the year as the annual report
    shows them, so that the page, its CSV and PDF, the API, the IRU's section and the annual
    report withhold the same cells."""
    return protected_year(
        partnership,
        period,
        matrix_top=MATRIX_AGENCIES,
        viewer=viewer,
        with_trend=with_trend,
        every_figure=every_figure,
    )


def figures_for_reader(
    partnership, period: Period, *, full: bool, viewer: Any = None, with_trend: bool = True, matrix_top=None
) -> tuple[Figures, dict[str, Any]]:
    """The figures of a period and what its reader is shown of them: every figure for one who
    sees them all (the matrix of every pair unless ``matrix_top``), else the year's protected
    set, the same in every form (``year_protected``)."""
    if full:
        figures = pdg_figures(
            partnership, period, viewer=viewer, with_trend=with_trend, matrix_top=matrix_top
        )
        return figures, every_figure_shown(figures, full=True)
    protected = year_protected(partnership, period, viewer=viewer, with_trend=with_trend)
    return protected.figures, protected.shown


def grouped_matrix(matrix: dict[tuple[str, str], int], shown: list[str]) -> dict[tuple[str, str], int]:
    """The matrix with every agency outside ``shown`` folded into one "all other agencies" row and column."""
    grouped: dict[tuple[str, str], int] = {}
    for (raiser, receiver), n in matrix.items():
        key = (raiser if raiser in shown else OTHERS, receiver if receiver in shown else OTHERS)
        grouped[key] = grouped.get(key, 0) + n
    return grouped


def matrix_for_display(matrix: dict, display_values: dict, threshold: int) -> tuple[list[str], dict]:
    """The heat map shows the agencies most involved in disputes (the CSV has them all)."""
    involvement: dict[str, int] = {}
    for (raiser, receiver), n in matrix.items():
        involvement[raiser] = involvement.get(raiser, 0) + n
        involvement[receiver] = involvement.get(receiver, 0) + n
    if OTHERS in involvement:  # already folded by the selector
        return [*sorted(a for a in involvement if a != OTHERS), OTHERS], display_values
    ranked = sorted(involvement, key=lambda a: (-involvement[a], a))
    if len(ranked) <= MATRIX_AGENCIES:
        return sorted(ranked), display_values
    shown = sorted(ranked[:MATRIX_AGENCIES])
    values: dict = grouped_matrix(matrix, shown)
    if any(is_hidden(v) for v in display_values.values()):
        values = suppress_table(values, threshold)
    return [*shown, OTHERS], values


def _heat(value: Any, peak: int) -> int:
    if not isinstance(value, int) or value == 0 or peak == 0:
        return 0
    return min(5, 1 + (4 * value) // peak)


def _trend_chart(figures: Figures) -> str:
    """The trend as a line chart (an SVG we draw ourselves)."""
    from django.utils.safestring import mark_safe

    labels = [f"{t['start']:%b %Y}" for t in figures.trend]
    svg = line_chart(
        str(_("Escalations raised, reaching the formal stages and resolved, by period")),
        labels,
        {
            str(_("Raised")): [t["raised"] for t in figures.trend],
            str(_("Reached the formal stages")): [t["formal"] for t in figures.trend],
            str(_("Resolved")): [t["resolved"] for t in figures.trend],
        },
    )
    return mark_safe(svg)  # noqa: S308 - an SVG we draw ourselves


def _matrix_rows(figures: Figures, tables: dict[str, Any], in_window: str | None) -> tuple[list, list]:
    """The agencies of the matrix and its rows of cells: each cell's figure as shown, its
    heat, and (``in_window`` given: for those who may drill down) the list behind it."""
    matrix_agencies, matrix_values = matrix_for_display(figures.matrix, tables["matrix"], figures.threshold)
    raw = grouped_matrix(figures.matrix, matrix_agencies)
    peak = max([v for v in raw.values()] or [0])
    ids = figures.agency_ids

    def cell_link(raiser: str, receiver: str) -> str | None:
        """The list of escalations behind a cell, for those who may drill down."""
        if in_window is None or raiser not in ids or receiver not in ids or not raw.get((raiser, receiver)):
            return None
        return f"raised_by_agency={ids[raiser]}&received_by_agency={ids[receiver]}&{in_window}"

    rows = [
        (
            raiser,
            [
                (
                    receiver,
                    matrix_values.get((raiser, receiver), 0),
                    _heat(raw.get((raiser, receiver), 0), peak),
                    cell_link(raiser, receiver),
                )
                for receiver in matrix_agencies
            ],
        )
        for raiser in matrix_agencies
    ]
    return matrix_agencies, rows


def records_notice(figures: Figures) -> str:
    """What a reader must know before reading a period's figures as counts: where Accord's
    records begin after the period starts, what comes before is not known, not 0."""
    first, period = figures.records_begin, figures.period
    if first is None:
        return str(_("Accord holds no records for this partnership yet: these figures are not known, not 0."))
    if period.end < first:
        return str(
            _("Accord's records begin on %(first)s, after this period: its figures are not known, not 0.")
            % {"first": date_format(first, "j F Y")}
        )
    if period.start < first:
        return str(
            _("Accord's records begin on %(first)s: these figures count nothing from before that day.")
            % {"first": date_format(first, "j F Y")}
        )
    return ""


def _standing_item(request: HttpRequest, *, pdf: bool = False) -> dict[str, Any]:
    """Everything the standing item shows, for the page and its PDF alike (the PDF with no
    link: it is read on paper or on a screen away from Accord)."""
    reading = require_reading(request, Report.STANDING_ITEM)
    full = reading.full
    partnership = request.partnership
    chosen, form = chosen_period(request, partnership, full=full)
    period = chosen.period
    figures, shown = figures_for_reader(
        partnership, period, full=full, viewer=request.user, matrix_top=MATRIX_AGENCIES
    )
    tables = _tables(figures, full, shown)
    may_drill_down = reading.drill_down
    can_drill_down = may_drill_down and not pdf
    learned = figures.learned
    last_meeting = last_meeting_by(partnership, period.end) if full else None
    tables["learning_total"] = learned if full else suppress_count(learned, figures.threshold)
    window = {"raised_from": period.start.isoformat(), "raised_to": period.end.isoformat()}
    in_window = urlencode(window)  # once, not once a link (the page has hundreds)
    if can_drill_down:
        # Drill-down to the escalations behind a figure (the list shows only what rule 7 allows).
        tables["sections"] = [
            (
                title,
                [
                    (label, value, f"{urlencode(drill)}&{in_window}" if drill else None)
                    for label, value, drill in rows
                ],
                kind,
            )
            for title, rows, kind in tables["sections"]
        ]
    else:
        tables["sections"] = [
            (title, [(label, value, None) for label, value, _d in rows], kind)
            for title, rows, kind in tables["sections"]
        ]
    trend_chart = _trend_chart(figures) if full and figures.trend else None
    matrix_agencies, matrix_rows = _matrix_rows(figures, tables, in_window if can_drill_down else None)
    return {
        "form": form,
        "period": period,
        "period_notice": chosen.notice(),
        "records_notice": records_notice(figures),
        "figures": figures,
        "tables": tables,
        "full": full,
        # The agencies flagged as markedly quiet: every figure of it, or for a reader who sees
        # small counts hidden the flag and the count as the tables show it (``low_challenge_shown``).
        "low_challenge": figures.low_challenge if full else low_challenge_shown(figures, shown),
        "matrix_rows": matrix_rows,
        "matrix_agencies": matrix_agencies,
        "trend_chart": trend_chart,
        "can_drill_down": can_drill_down,
        "themes_link": urlencode({"kind": "theme", **window}),
        # What the last meeting before the period's end decided and asked for: the
        # standing item follows it up (the PDG's and the business unit's view only).
        "last_meeting": last_meeting,
        "last_meeting_actions": list(
            last_meeting.actions.select_related("owner", "done_by") if last_meeting else []
        ),
        # Before the formal body now: its open formal escalations (for those who see them),
        # and what is overdue, as figures (small ones hidden from the executive).
        "formal_open": formal_open(partnership, request.user) if may_drill_down else None,
        # The learning recorded at resolution: counted for all, read where rule 7 allows.
        "learning": learning_listed(partnership, period, request.user) if may_drill_down else [],
        "pdf": pdf,
        "records_meetings": may_record_meetings(request.user, partnership.pk),
        "today": clock.today(),
        "overdue": _labelled(
            overdue_by_stage(partnership)
            if full
            else suppress_counts(overdue_by_stage(partnership), figures.threshold),
            {n: f"Stage {n}" for n in range(1, 10)},
        ),
        "list_url": reverse("escalations:list"),  # once, not once a drill-down link
        # No slower in Welsh: time to resolution by the language raised in (small counts hidden
        # as every other figure is for a reader who sees them hidden).
        "by_language": resolution_by_language(
            partnership,
            period,
            full=full,
            threshold=figures.threshold,
            # (read with the figures, where they are the period's: no statement of its own)
            sums={RESOLVED_DAYS: figures.resolved_days} if figures.period == period else None,
        ),
    }


def _audit_standing_item(request: HttpRequest, context: dict[str, Any], verb: str, report: str) -> None:
    period = context["period"]
    audit_record(
        actor=request.user,
        verb=verb,
        partnership_id=request.partnership.pk,
        payload={
            "report": report,
            "from": str(period.start),
            "to": str(period.end),
            "suppressed": not context["full"],
        },
        request=request,
    )


def pdg_standing_item(request: HttpRequest) -> HttpResponse:
    context = _standing_item(request)
    _audit_standing_item(request, context, Verb.REPORT_VIEWED, "pdg")
    return render(request, "reports/pdg.html", context)


def pdg_standing_item_pdf(request: HttpRequest) -> HttpResponse:
    """The meeting pack: the standing item as a tagged PDF (PDF/UA-1), the same figures as the
    page for the same period and reader, with no address in it."""
    context = _standing_item(request, pdf=True)
    pdf = render_pdf(render_to_string("reports/pdg_pdf.html", context, request=request))
    if pdf is None:
        return pango_missing()
    _audit_standing_item(request, context, Verb.REPORT_DOWNLOADED, "pdg.pdf")
    period = context["period"]
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="pdg-standing-item-{period.start}-{period.end}.pdf"'
    )
    return response


class MeetingActionDoneForm(forms.Form):
    note = forms.CharField(
        label=_("What was done (optional)"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


@require_http_methods(["GET", "POST"])
def meeting_action(request: HttpRequest, pk: int) -> HttpResponse:
    """What a PDG meeting asked of someone: its owner (or their line manager, the PDG or the
    business unit) marks it done with what was done."""
    action = MeetingAction.objects.select_related("owner", "meeting", "done_by").filter(pk=pk).first()
    if action is None or not may_see_meeting_action(request.user, action):
        raise Http404
    form = MeetingActionDoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting_action_done(actor=request.user, action_id=action.pk, note=form.cleaned_data["note"])
        except IllegalTransition as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("Marked done"))
            return redirect("reports:meeting_action", pk=action.pk)
    return render(
        request, "reports/meeting_action.html", {"action": action, "form": form, "today": clock.today()}
    )


def pdg_standing_item_csv(request: HttpRequest) -> HttpResponse:
    full = require_reading(request, Report.STANDING_ITEM).full
    partnership = request.partnership
    chosen, _form = chosen_period(request, partnership, full=full)
    period = chosen.period
    figures, shown = figures_for_reader(partnership, period, full=full, with_trend=False)
    tables = _tables(figures, full, shown)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="pdg-standing-item-{period.start}-{period.end}.csv"'
    )
    writer = SafeCsvWriter(response)
    # Numbers as numbers: a hidden count is left empty, and its note says what it stands for.

    # The last column says what each number counts (``UNITS``).

    def row(section, item, value, unit):
        number, note = as_number_and_note(value, figures.threshold)
        return [str(section), item, number, note, str(unit)]

    writer.writerow(["section", "item", "count", "note", "counts"])
    if chosen.notice():  # a reporting year that has ended, the nearest asked for (``periods``)
        asked = chosen.asked
        said = (
            f"{asked.start} to {asked.end} asked for" if chosen.moved else f"{period.start} to {period.end}"
        )
        writer.writerow(["Period", said, "", chosen.notice(), ""])
    writer.writerow(
        row("Escalations raised", f"{period.start} to {period.end}", tables["total"], UNITS["escalations"])
    )
    for title, rows, unit in tables["sections"]:
        for label, value, _drill in rows:
            writer.writerow(row(title, label, value, unit))
    for (raiser, receiver), value in tables["matrix"].items():
        writer.writerow(row("Raised by → with", f"{raiser} → {receiver}", value, MATRIX_UNIT))
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_DOWNLOADED,
        partnership_id=partnership.pk,
        payload={
            "report": "pdg.csv",
            "from": str(period.start),
            "to": str(period.end),
            "suppressed": not full,
        },
        request=request,
    )
    return response


def iru_section(request: HttpRequest) -> HttpResponse:
    """The Independent Reviewing Unit's section of the standing item on its own: escalations
    that arose in child protection conferences and children-in-care reviews, by where they
    arose, where they stand and how they ended. The conference chairs see it for their own
    unit's work (small counts hidden, as for the executive); the PDG and the business unit
    see every figure."""
    partnership = request.partnership
    full = require_reading(request, Report.IRU).full
    chosen, form = chosen_period(request, partnership, full=full)
    period = chosen.period
    # Protected together with the standing item's other tables and the annual report's, which
    # its reader may set beside it (``figures_for_reader``).
    figures, shown = figures_for_reader(partnership, period, full=full, with_trend=False)
    n = figures.threshold
    sections = [
        (_("Where they arose"), _labelled(shown["iru_by_origin"], LABELS["origin"])),
        (_("Where they stand now"), _labelled(shown["iru_by_status"], LABELS["status"])),
        (
            _("Highest stage reached"),
            [(stage_label(k), v) for k, v in shown["iru_by_stage_reached"].items()],
        ),
        (_("Outcomes of those resolved in the period"), _labelled(shown["iru_outcomes"], LABELS["outcome"])),
    ]
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_VIEWED,
        partnership_id=partnership.pk,
        payload={"report": "iru", "from": str(period.start), "to": str(period.end), "suppressed": not full},
        request=request,
    )
    return render(
        request,
        "reports/iru.html",
        {
            "form": form,
            "period": period,
            "period_notice": chosen.notice(),
            "total": shown["iru_total"],
            "sections": sections,
            "full": full,
            "key": key(n),
        },
    )
