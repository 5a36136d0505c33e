"""Which periods a report may cover for its reader (docs/decisions/0015-report-periods.md).

A reader who sees every figure (the formal body, the business unit: ``policies.Reading.full``)
chooses any dates. A reader who sees small counts hidden (the executive, the conference
chairs) reads whole reporting years of the partnership that have ended only, the periods of the annual
report: years never overlap, so no two reports such a reader may open differ by a part of
a period, and a count hidden in one cannot be worked out by subtracting one report from
another. (Whole months, quarters and years together would not do: a quarter less two of
its months is the third month, whose small counts its own report hides.)

One answer for every form of a report: the page and its CSV and PDF show the reporting year
nearest the dates asked for and say so (``ChosenPeriod.moved``); the API refuses other
dates in plain words (``PeriodNotAllowed``, answered 422), naming the year to ask for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accord.core import clock
from accord.core.errors import DomainError

from .selectors import Period

FIRST_YEAR = 2000  # no partnership's records reach further back


def reporting_year(partnership, year: int) -> Period:
    """The partnership's reporting year that starts in ``year`` (1 April to 31 March unless it
    sets another first month)."""
    month = partnership.reporting_year_start_month
    return Period(dt.date(year, month, 1), dt.date(year + 1, month, 1) - dt.timedelta(days=1))


def year_of(partnership, day: dt.date) -> int:
    """The reporting year a day falls in, by the year it starts in."""
    return day.year if day.month >= partnership.reporting_year_start_month else day.year - 1


def current_reporting_year(partnership) -> int:
    return year_of(partnership, clock.today())


def latest_year(partnership, *, full: bool) -> int:
    """The latest reporting year a reader may read: the current one for a reader who sees every
    figure; the last that has ended for one who sees small counts hidden (a year still running
    changes from day to day: read on two days, its difference is what happened between)."""
    current = current_reporting_year(partnership)
    return current if full else current - 1


def is_allowed(partnership, period: Period, *, full: bool) -> bool:
    """Whether a reader may read a report of this period: any for one who sees every figure;
    a whole reporting year that has ended for one who sees small counts hidden."""
    if full:
        return True
    year = year_of(partnership, period.start)
    return period == reporting_year(partnership, year) and FIRST_YEAR <= year <= latest_year(
        partnership, full=False
    )


def nearest_allowed(partnership, period: Period) -> Period:
    """The reporting year sharing the most days with the period (of two sharing as many, the
    later), no earlier than FIRST_YEAR and no later than the last that has ended."""
    last = latest_year(partnership, full=False)
    first_year = min(max(year_of(partnership, period.start), FIRST_YEAR), last)
    last_year = min(max(year_of(partnership, period.end), FIRST_YEAR), last)

    def shared(year: int) -> int:
        its = reporting_year(partnership, year)
        return max(0, (min(its.end, period.end) - max(its.start, period.start)).days + 1)

    best = max(range(first_year, last_year + 1), key=lambda y: (shared(y), y))
    return reporting_year(partnership, best)


def asked_period(
    partnership, start: dt.date | None, end: dt.date | None, default: Period, *, full: bool
) -> Period:
    """The period a request asks for. A missing end is the default's (for a reader of whole
    years: the end of the reporting year the start falls in), and a missing start likewise."""
    if full:
        return Period(start or default.start, end or default.end)
    if start and not end:
        return Period(start, reporting_year(partnership, year_of(partnership, start)).end)
    if end and not start:
        return Period(reporting_year(partnership, year_of(partnership, end)).start, end)
    return Period(start or default.start, end or default.end)


@dataclass(frozen=True)
class ChosenPeriod:
    period: Period  # what the report covers
    asked: Period  # what was asked for
    full: bool = True  # whether its reader sees every figure

    @property
    def moved(self) -> bool:
        return self.period != self.asked

    def notice(self) -> str:
        """What the page says to a reader who sees small counts hidden: that they read a
        reporting year that has ended, and where it shows another period than the one asked
        for, which."""
        if self.full:
            return ""
        if not self.moved:
            return _(
                "You see these figures with small counts hidden, so a report covers a whole reporting "
                "year that has ended: counts hidden in one report could otherwise be worked out by "
                "setting it beside a report of another period, or beside the same year read on another "
                "day while it runs. This is the reporting year from %(start)s to %(end)s."
            ) % {
                "start": date_format(self.period.start, "j F Y"),
                "end": date_format(self.period.end, "j F Y"),
            }
        return _(
            "You see these figures with small counts hidden, so a report covers a whole reporting "
            "year that has ended: counts hidden in one report could otherwise be worked out by "
            "setting it beside a report of another period, or beside the same year read on another "
            "day while it runs. You asked for %(asked_from)s to %(asked_to)s; "
            "this is the reporting year nearest it, %(start)s to %(end)s."
        ) % {
            "asked_from": date_format(self.asked.start, "j F Y"),
            "asked_to": date_format(self.asked.end, "j F Y"),
            "start": date_format(self.period.start, "j F Y"),
            "end": date_format(self.period.end, "j F Y"),
        }


def choose_period(partnership, asked: Period, *, full: bool) -> ChosenPeriod:
    """The period a page (or its CSV or PDF) shows for what was asked: as asked for a reader
    who sees every figure, else the nearest reporting year."""
    if is_allowed(partnership, asked, full=full):
        return ChosenPeriod(asked, asked, full)
    return ChosenPeriod(nearest_allowed(partnership, asked), asked, full)


class PeriodNotAllowed(DomainError):
    """A reader who sees small counts hidden asked for a period other than a reporting year
    (the API answers 422). ``nearest`` is the period they may ask for instead."""

    def __init__(self, message: str, nearest: Period) -> None:
        super().__init__(message)
        self.nearest = nearest


def require_allowed(partnership, asked: Period, *, full: bool) -> Period:
    """The period asked for, if the reader may read it; refused in plain words otherwise,
    naming the nearest period they may ask for."""
    if is_allowed(partnership, asked, full=full):
        return asked
    nearest = nearest_allowed(partnership, asked)
    raise PeriodNotAllowed(
        _(
            "You see these figures with small counts hidden, so a report covers a whole reporting "
            "year that has ended: counts hidden in one report could otherwise be worked out by "
            "setting it beside a report of another period, or beside the same year read on another "
            "day while it runs. The nearest you may ask for is from %(start)s to %(end)s."
        )
        % {"start": nearest.start.isoformat(), "end": nearest.end.isoformat()},
        nearest,
    )


def default_for(partnership, default: Period, *, full: bool) -> Period:
    """The period a report covers when no date is given: ``default`` for a reader who sees
    every figure, the last reporting year that has ended for one who sees small counts hidden."""
    return default if full else reporting_year(partnership, latest_year(partnership, full=False))
