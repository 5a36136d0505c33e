"""No slower in Welsh: how long the differences resolved in a period took, from raising to
resolution in the partnership's working days, by the language each was raised in
(``Escalation.raised_language``, the raising page's or the API's language).

The figures are read from the daily tallies (``resolved_days``: counted on the day of the
resolution, by language and the working days it took, reckoned when it was resolved), so
the report reads no escalation however many there are. A reader who sees small counts hidden sees them
hidden here too (``disclosure``), and a median only where enough were resolved for it to
say nothing of one child.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from accord.core.db import on_replica
from accord.escalations import tallies
from accord.partnership.models import Language, Partnership

from .disclosure import protect
from .selectors import Period, histogram_percentile, tally_sums

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
def resolution_days_by_language(
    partnership: Partnership, period: Period, sums: dict[str, dict[str, int]] | None = None
) -> dict[str, list[tuple[int, int]]]:
    """For each language raised in: a histogram (working days from raising to resolution,
    how many) of the escalations resolved in the period, from the daily tallies
    (``resolved_days``; ``sums``: the period's, where the caller has read them)."""
    sums = tally_sums(partnership, period, pairs=False) if sums is None else sums
    histograms: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for key, n in sums.get(tallies.RESOLVED_DAYS, {}).items():
        language, _sep, days = key.rpartition(":")
        if n:
            histograms[language if language in LANGUAGE_NAMES else NOT_RECORDED][int(days)] += n
    return {language: sorted(counts.items()) for language, counts in histograms.items()}


def resolution_by_language(
    partnership: Partnership,
    period: Period,
    *,
    full: bool,
    threshold: int,
    sums: dict[str, dict[str, int]] | None = None,
) -> list[LanguageRow]:
    """The report's rows, English and Welsh always (a language with none resolved reads 0),
    "not recorded" where there are any. ``full``: every figure; otherwise small counts hidden
    and a median only from ``threshold`` resolved."""
    histograms = resolution_days_by_language(partnership, period, sums)
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
