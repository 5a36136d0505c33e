"""No slower in Welsh: how long the differences resolved in a period took, from raising to
resolution in the partnership's working days, by the language each was raised in
(``Escalation.raised_language``, the raising page's or the API's language).

The figures are counted from the resolved escalations' days (one row for each language,
day raised and day resolved, so the working days are reckoned once for each pair of days,
however many escalations share them). A reader who sees small counts hidden sees them
hidden here too (``disclosure``), and a median only where enough were resolved for it to
say nothing of one child.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from accord.core.db import on_replica
from accord.escalations.models import Escalation, Status
from accord.partnership.calendar import calendar_for
from accord.partnership.models import Language, Partnership

from .disclosure import protect
from .selectors import Period, day_bounds, histogram_percentile

NOT_RECORDED = ""
LANGUAGE_NAMES = {
    Language.ENGLISH: _("English"),
    Language.WELSH: _("Welsh"),
    NOT_RECORDED: _("Not recorded (raised before Accord recorded it, or brought in)"),
}


@dataclass(frozen=True)
class LanguageRow:
    language: str
    label: str
    resolved: Any  # a count, or ``Hidden``
    median_working_days: float | None
    p90_working_days: float | None


@on_replica
def resolution_days_by_language(partnership: Partnership, period: Period) -> dict[str, list[tuple[int, int]]]:
    """For each language raised in: a histogram (working days from raising to resolution,
    how many) of the escalations resolved in the period."""
    start, end = day_bounds(period)  # (bounds, not a date of each row: read from the index)
    rows = list(
        Escalation.objects.filter(
            partnership=partnership, status=Status.RESOLVED, closed_at__gte=start, closed_at__lt=end
        )
        .annotate(raised_day=TruncDate("raised_at"), resolved_day=TruncDate("closed_at"))
        .values_list("raised_language", "raised_day", "resolved_day")
        .annotate(n=Count("id"))
        .order_by()
    )
    working = _working_days_up_to(calendar_for(partnership), rows)
    histograms: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for language, raised, resolved, n in rows:
        days = working[resolved] - working[raised] if resolved >= raised else 0
        histograms[language if language in LANGUAGE_NAMES else NOT_RECORDED][days] += n
    return {language: sorted(counts.items()) for language, counts in histograms.items()}


def _working_days_up_to(calendar, rows: list) -> dict:
    """For each day the rows span, the working days from the first up to and including it:
    the working days after one day up to another (``working_days_between``) are the
    difference, so each day of the span is looked at once, not once for every pair."""
    days = [day for _language, raised, resolved, _n in rows for day in (raised, resolved)]
    if not days:
        return {}
    day, last = min(days), max(days)
    counted, running = {}, 0
    while day <= last:
        running += calendar.is_working_day(day)
        counted[day] = running
        day += dt.timedelta(days=1)
    return counted


def resolution_by_language(
    partnership: Partnership, period: Period, *, full: bool, threshold: int
) -> list[LanguageRow]:
    """The report's rows, English and Welsh always (a language with none resolved reads 0),
    "not recorded" where there are any. ``full``: every figure; otherwise small counts hidden
    and a median only from ``threshold`` resolved."""
    histograms = resolution_days_by_language(partnership, period)
    languages = [Language.ENGLISH, Language.WELSH] + ([NOT_RECORDED] if NOT_RECORDED in histograms else [])
    counts = {language: sum(n for _days, n in histograms.get(language, [])) for language in languages}
    # Protected as if their total were shown (the period's resolutions are counted by
    # outcome too): no hidden count fixed by it, nor by the range "fewer than n" gives.
    shown = counts if full else protect(counts, [dict.fromkeys(counts, 1)], threshold)
    rows = []
    for language in languages:
        enough = full or counts[language] >= threshold
        histogram = histograms.get(language, [])
        rows.append(
            LanguageRow(
                language=language,
                label=str(LANGUAGE_NAMES[language]),
                resolved=shown[language],
                median_working_days=histogram_percentile(histogram, 0.5) if enough else None,
                p90_working_days=histogram_percentile(histogram, 0.9) if enough else None,
            )
        )
    return rows
