"""The annual report to the Partnership Executive Group: HTML, PDF, CSV and XLSX.

Aggregates only, with small-number suppression everywhere; no child's details and no
escalation references anywhere in it.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accord.audit.models import Verb
from accord.audit.services import audit_record
from accord.core import clock
from accord.core.db import on_replica
from accord.core.downloads import SafeCsvWriter, xlsx_append
from accord.escalations.subjects import Subject
from accord.partnership.models import Role
from accord.partnership.protocol import ladder_of

from . import views
from .charts import bar_chart, described_bars, described_line, line_chart
from .disclosure import as_number_and_note, suppress_count, suppress_counts, too_few_finished
from .disclosure import key as disclosure_key
from .models import AnnualNarrative
from .pdf import pango_missing, render_pdf
from .periods import latest_year, reporting_year
from .policies import Report
from .selectors import (
    OTHERS,
    first_recorded_day,
    learning_by_theme,
    learning_counts,
)
from .services import annual_narrative_save
from .views import LABELS, MATRIX_UNIT, UNITS, require_reading


def year_name(partnership, year: int) -> str:
    """The reporting year as it is named: "2026/27" for a year from April, "2026" for a
    calendar year."""
    if partnership.reporting_year_start_month == 1:
        return str(year)
    return f"{year}/{(year + 1) % 100:02d}"


def _require(request: HttpRequest):
    require_reading(request, Report.ANNUAL)
    return request.partnership


def _asked_year(request: HttpRequest, partnership) -> tuple[int, int]:
    """The year asked for (the latest the reader may read if none), and the year shown: no
    later than the current one, and for a reader who sees small counts hidden (the executive)
    no later than the last that has ended (``periods.latest_year``): a year still running
    changes from day to day, and read on two days its difference is what happened between."""
    full = require_reading(request, Report.ANNUAL).full
    latest = latest_year(partnership, full=full)
    try:
        asked = int(request.GET.get("year", ""))
    except ValueError:
        asked = latest
    return asked, min(max(asked, 2000), latest)


def _year(request: HttpRequest, partnership) -> int:
    return _asked_year(request, partnership)[1]


def year_notice(partnership, asked: int, year: int, *, full: bool) -> str:
    """What the page says to a reader who sees small counts hidden where it shows the last
    year that has ended (asked for, or in place of a later one)."""
    if full or asked < year or year != latest_year(partnership, full=False):
        return ""
    return _(
        "You see the annual report's figures as they are published, with small counts hidden, so you "
        "read reporting years that have ended: a year still running changes from day to day, and "
        "read on two days its difference would show what happened between. This is %(year)s, the "
        "last reporting year that has ended."
    ) % {"year": year_name(partnership, year)}


# What each table counts (``views.UNITS``), said in its column's heading.
TABLE_UNITS = {
    "stage": "escalations",
    "kind": "escalations",
    "subject": "escalations",
    "origin": "escalations",
    "status": "escalations",
    "outcomes": "resolutions",
    "held": "follow_ups",
    "after": "follow_ups",
    "areas": "escalations",
    "themes": "themed",
    "raising": "escalations",
    "receiving": "naming",
    "learning": "learning",
    "months": "escalations",
}

YEARS_COMPARED = 2  # the report compares its year with this many before it
COMPARED_ROWS = (
    (gettext_lazy("Raised"), "raised"),
    (gettext_lazy("Case escalations"), "case"),
    (gettext_lazy("Thematic escalations"), "theme"),
    (gettext_lazy("Reached the formal stages"), "formal"),
    (gettext_lazy("Resolved"), "resolved"),
)


def year_recorded(partnership, year: int, first: dt.date | None) -> dict[str, Any] | None:
    """Whether the partnership's records reach a reporting year (None for a year that ended
    before they begin, whose figures Accord does not know: never 0), and whether they cover
    only part of it (``partial``)."""
    period = reporting_year(partnership, year)
    if first is None or period.end < first:
        return None
    return {"partial": period.start < first or period.end > clock.today()}


def _compared(partnership, year: int, first, s: dict[str, Any], *, every_figure: bool = False) -> list:
    """The headline figures of the years before and of this one, each year's as its own
    report shows them (protected with its own tables, ``selectors.protected_year``): a year's
    figure shown here otherwise, each on its own, could give away a count its own report
    withholds to protect another."""
    compared = []
    for y in range(year - YEARS_COMPARED, year + 1):
        headline = year_recorded(partnership, y, first)
        if headline is not None:
            shown = (
                s
                if y == year
                else views.year_protected(
                    partnership, reporting_year(partnership, y), with_trend=False, every_figure=every_figure
                ).shown
            )
            headline.update(
                raised=shown["total"],
                case=shown["by_kind"].get("case", 0),
                theme=shown["by_kind"].get("theme", 0),
                formal=shown["formal"],
                resolved=shown["by_status"].get("resolved", 0),
            )
        compared.append((y, headline))
    return compared


def stage_named(partnership, number: int | str) -> str:
    """A stage by its number and name on the ladder now: a review that inserts a stage below
    it changes its number, and its name says it is the same stage as last year's report's. A
    stage a review removed comes named already (``stages.stage_rows``)."""
    if isinstance(number, str):
        return number
    found = ladder_of(partnership).stage(int(number))
    if found is None:
        return _("Stage %(n)s") % {"n": number}
    return _("Stage %(n)s: %(name)s") % {"n": number, "name": found.shown_name}


def stages_named(partnership, counts: dict) -> list[tuple[str, Any]]:
    return [(stage_named(partnership, k), v) for k, v in counts.items()]


@on_replica
def annual_tables(partnership, year: int, *, full: bool = False) -> dict[str, Any]:
    """Every table of the report, as (key, title, [(label, value)]) lists: suppressed, as the
    report is published (``full`` gives the same tables unsuppressed, to check them by).
    Every table of the year is protected together (``selectors.protected_year``, the same
    protected set the standing item shows a reader of hidden counts for the year): the months,
    the one-way tables, the agency matrix, the year's own column of the comparison and the
    IRU's."""
    period = reporting_year(partnership, year)
    protected = views.year_protected(partnership, period, with_trend=False, every_figure=full)
    figures, s, months = protected.figures, protected.shown, protected.months
    threshold = partnership.suppression_threshold

    def labelled(counts, labels):
        return [(str(labels.get(k, k)), v) for k, v in counts.items()]

    first = first_recorded_day(partnership)
    monthly = s["months"]
    # A stage's median and share within its timescale are shown only where enough stages
    # finished for them to say nothing of one child ("–" otherwise: not shown, not zero).
    timeliness = [
        (
            stage_named(partnership, stage),
            suppress_count(row["completed"], figures.threshold),
            row["median_working_days"] if row["completed"] >= figures.threshold else None,
            row["within_timescale_percent"] if row["completed"] >= figures.threshold else None,
        )
        for stage, row in figures.timeliness.items()
    ]
    # Who raised escalations with whom: the agencies most involved, the rest as one row and
    # column; protected with the raising and receiving tables (``selectors.report_system``).
    named = sorted({a for pair in s["matrix"] for a in pair} - {OTHERS})
    matrix_agencies = [*named, OTHERS] if any(OTHERS in pair for pair in s["matrix"]) else named
    matrix = [
        (raiser, [s["matrix"].get((raiser, receiver), 0) for receiver in matrix_agencies])
        for raiser in matrix_agencies
    ]
    learned, learned_by_theme = learning_counts(partnership, period)
    compared = _compared(partnership, year, first, s, every_figure=full)
    return {
        "period": period,
        "total": s["total"],
        "tables": [
            ("stage", _("Stage reached"), stages_named(partnership, s["by_stage_reached"])),
            ("kind", _("Kind"), labelled(s["by_kind"], LABELS["kind"])),
            *(
                [("subject", _("Whom it was about"), labelled(s["by_subject"], LABELS["subject"]))]
                if set(figures.by_subject) - {Subject.CHILD}
                else []
            ),
            ("origin", _("Where escalations came from"), labelled(s["by_origin"], LABELS["origin"])),
            ("status", _("Where they stand now"), labelled(s["by_status"], LABELS["status"])),
            ("outcomes", _("Outcomes"), labelled(s["outcomes"], LABELS["outcome"])),
            (
                "held",
                _("Did the agreed way forward hold? Follow-ups answered in the year"),
                labelled(s["follow_ups"], LABELS["held"]),
            ),
            (
                "after",
                _("Where it did not hold, what followed (the same follow-ups)"),
                labelled(s["after_not_held"], LABELS["after"]),
            ),
            (
                "areas",
                _("Areas of disagreement (an escalation may have several, or none recorded)"),
                list(s["by_area"].items()),
            ),
            ("themes", _("Practice themes (an escalation may have several)"), list(s["by_theme"].items())),
            ("raising", _("Raising agency"), list(s["by_raising_agency"].items())),
            (
                "receiving",
                _("Agencies the difference was with (an escalation naming several counts once for each)"),
                list(s["by_receiving_agency"].items()),
            ),
            (
                "learning",
                _("Practice themes of the resolutions that recorded learning"),
                list(suppress_counts(learned_by_theme, figures.threshold).items()),
            ),
            ("months", _("Escalations raised each month"), list(monthly.items())),
        ],
        "units": {key: str(UNITS[unit]) for key, unit in TABLE_UNITS.items()},
        "matrix_agencies": matrix_agencies,
        "matrix": matrix,
        "learning_total": suppress_count(learned, figures.threshold),
        "compared": compared,
        "timeliness": timeliness,
        "iru_total": s["iru_total"],
        "iru_by_stage": stages_named(partnership, s["iru_by_stage_reached"]),
        "low_challenge": [(sig.agency, sig.direction) for sig in figures.low_challenge],
        # Flags only, as the low-challenge agencies: a kind's count is a sum no table shows, and
        # what was expected of it rests on counts the report hides (``low_challenge_shown``).
        "kind_silence": [(sig.kind, sig.agencies, sig.direction) for sig in figures.kind_silence],
        "monthly_raw": months,
        "quarters": list(s["quarters"].items()),
        "key": disclosure_key(threshold),
        "threshold": threshold,
        # In words, only what the formal body's chair marked fit to publish (no reference).
        "published_learning": learning_by_theme(partnership, period, published_only=True),
    }


CHART_BARS = 12  # a longer breakdown is charted as its largest items and "all others"


def chart_rows(rows: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The rows to draw: all of them, or the largest and one bar for the rest (whose shown
    counts are all in the table beside the chart, so the sum reveals nothing hidden)."""
    if len(rows) <= CHART_BARS + 1:
        return rows
    ranked = sorted(rows, key=lambda r: (-(r[1] if isinstance(r[1], int) else 0), r[0]))
    rest = sum(v for _label, v in ranked[CHART_BARS:] if isinstance(v, int))
    return ranked[:CHART_BARS] + [(_("All others"), rest)]


def _charts(data: dict[str, Any]) -> dict[str, str]:
    """Each table's chart, under the section's heading (so not titled again), with a text
    alternative that says what it shows; the monthly one by quarter where more of its months
    are hidden than shown (the quarters protected with the months, ``report_system``)."""
    charts = {}
    for key, title, rows in data["tables"]:
        if key == "months" or not any(isinstance(v, int) and v > 0 for _label, v in rows):
            continue  # nothing to draw: every count is zero or hidden
        drawn = chart_rows(rows)
        labels, values = [r[0] for r in drawn], [r[1] for r in drawn]
        chart = bar_chart(
            str(title), labels, values, described=described_bars(title, labels, values), drawn=False
        )
        charts[key] = mark_safe(chart)  # noqa: S308 - a chart we draw ourselves
    months = next(rows for key, _title, rows in data["tables"] if key == "months")
    if months:
        hidden = sum(1 for _label, v in months if not isinstance(v, int))
        title = _("Escalations raised each month")
        by_quarter = hidden * 2 > len(months) and bool(data["quarters"])
        if by_quarter:  # titled, since the section's heading says "each month"
            title = _("Escalations raised each quarter (the months are too few to show)")
            months = data["quarters"]
        values = [v for _label, v in months]  # a hidden count is drawn as its symbol, not as a value
        labels = [label for label, _value in months]
        chart = line_chart(
            str(title),
            labels,
            {_("Raised"): values},
            described=described_line(title, labels, values),
            drawn=True,
        )
        charts["months"] = mark_safe(chart)  # noqa: S308 - a chart we draw ourselves
    return charts


class NarrativeForm(forms.ModelForm):
    class Meta:
        model = AnnualNarrative
        fields = ["culture", "learning", "next_year"]
        widgets = {name: forms.Textarea(attrs={"rows": 6}) for name in fields}


def _context(request, partnership, year, *, pdf: bool = False) -> dict[str, Any]:
    data = annual_tables(partnership, year)
    narrative = AnnualNarrative.objects.filter(partnership=partnership, year=year).first()
    charts = _charts(data)
    return {
        "data": data,
        "sections": [
            (key, title, rows, charts.get(key), data["units"][key]) for key, title, rows in data["tables"]
        ],
        "year": year,
        "year_name": year_name(partnership, year),
        "narrative": narrative,
        "pdf": pdf,
        "partnership": partnership,
        "compared_rows": [
            (label, [(y, None if h is None else h[name], h and h["partial"]) for y, h in data["compared"]])
            for label, name in COMPARED_ROWS
        ],
    }


def annual_report(request: HttpRequest) -> HttpResponse:
    partnership = _require(request)
    asked, year = _asked_year(request, partnership)
    form = None
    if Role.BUSINESS_UNIT in request.roles:
        narrative = AnnualNarrative.objects.filter(
            partnership=partnership, year=year
        ).first() or AnnualNarrative(partnership=partnership, year=year)
        form = NarrativeForm(request.POST if request.method == "POST" else None, instance=narrative)
        if request.method == "POST" and form.is_valid():
            annual_narrative_save(
                actor=request.user, partnership=partnership, year=year, text=form.cleaned_data
            )
            return redirect(f"{request.path}?year={year}")
    elif request.method == "POST":
        raise PermissionDenied
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_VIEWED,
        partnership_id=partnership.pk,
        payload={"report": "annual", "year": year},
        request=request,
    )
    context = _context(request, partnership, year)
    context["form"] = form
    full = require_reading(request, Report.ANNUAL).full
    context["year_notice"] = year_notice(partnership, asked, year, full=full)
    latest = latest_year(partnership, full=full)
    context["years"] = list(range(latest, latest - 5, -1))
    return render(request, "reports/annual.html", context)


def annual_report_pdf(request: HttpRequest) -> HttpResponse:
    partnership = _require(request)
    year = _year(request, partnership)
    html = render_to_string(
        "reports/annual_pdf.html", _context(request, partnership, year, pdf=True), request=request
    )
    pdf = render_pdf(html)
    if pdf is None:
        return pango_missing()
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_DOWNLOADED,
        partnership_id=partnership.pk,
        payload={"report": "annual.pdf", "year": year},
        request=request,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="accord-annual-report-{year}.pdf"'
    return response


def _rows(data: dict[str, Any]):
    """Every figure as (table, item, number, note, what it counts): a number is a number, and
    a hidden one is left empty with what it means in the note, so a sum or a pivot table never
    mixes text in; the last column says what the number counts, so that only figures of one
    unit are added together."""
    n = data["threshold"]
    units = data["units"]
    escalations, stages = str(UNITS["escalations"]), str(_("Stages finished"))

    def row(table, item, value, unit):
        number, note = as_number_and_note(value, n)
        return [str(table), item, number, note, str(unit)]

    yield row(
        _("Escalations raised"), f"{data['period'].start} to {data['period'].end}", data["total"], escalations
    )
    for key, title, rows in data["tables"]:
        for label, value in rows:
            yield row(title, label, value, units[key])
    yield row(
        _("Resolutions that recorded learning"), str(_("all")), data["learning_total"], UNITS["resolutions"]
    )
    for label, value in data["iru_by_stage"]:
        yield row(_("Conferences and reviews: highest stage reached"), label, value, escalations)
    for raiser, cells in data["matrix"]:
        for receiver, value in zip(data["matrix_agencies"], cells, strict=True):
            yield row(_("Raised by → with"), f"{raiser} → {receiver}", value, MATRIX_UNIT)
    for y, headline in data["compared"]:
        for label, name in COMPARED_ROWS:
            if headline is None:
                yield [
                    str(_("Compared with earlier years")),
                    f"{y}: {label}",
                    None,
                    str(_("no record")),
                    escalations,
                ]
            else:
                yield row(_("Compared with earlier years"), f"{y}: {label}", headline[name], escalations)
    not_shown = too_few_finished(n)
    for stage, completed, median, within in data["timeliness"]:
        yield row(_("Timeliness"), f"{stage}: finished", completed, stages)
        for label, value, unit in (
            (_("median working days"), median, _("Working days")),
            (_("per cent within timescale"), within, _("Per cent of stages finished")),
        ):
            yield [
                str(_("Timeliness")),
                f"{stage}: {label}",
                value,
                "" if value is not None else not_shown,
                str(unit),
            ]


def annual_report_csv(request: HttpRequest) -> HttpResponse:
    partnership = _require(request)
    year = _year(request, partnership)
    data = annual_tables(partnership, year)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="accord-annual-report-{year}.csv"'
    writer = SafeCsvWriter(response)
    writer.writerow(["table", "item", "count", "note", "counts"])
    for row in _rows(data):
        writer.writerow(row)
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_DOWNLOADED,
        partnership_id=partnership.pk,
        payload={"report": "annual.csv", "year": year},
        request=request,
    )
    return response


def annual_report_xlsx(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    partnership = _require(request)
    year = _year(request, partnership)
    data = annual_tables(partnership, year)
    book = Workbook()
    sheet = book.active
    sheet.title = "Figures"
    # One table of numbers: the count column holds only numbers (empty where hidden), so
    # sums and pivot tables work; the note says what an empty count means.
    xlsx_append(sheet, [_("Table"), _("Item"), _("Count"), _("Note"), _("What it counts")])
    for row in _rows(data):
        xlsx_append(sheet, row)
    xlsx_append(book.create_sheet("Key"), [data["key"]])
    buffer = io.BytesIO()
    book.save(buffer)
    audit_record(
        actor=request.user,
        verb=Verb.REPORT_DOWNLOADED,
        partnership_id=partnership.pk,
        payload={"report": "annual.xlsx", "year": year},
        request=request,
    )
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="accord-annual-report-{year}.xlsx"'
    return response
