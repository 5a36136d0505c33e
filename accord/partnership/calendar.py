"""Working days on a partnership's bank-holiday calendar.

The clock of a stage starts on the working day after the event that starts it:
a five-working-day stage begun on Friday 18 December 2026 in England is due on
Tuesday 29 December 2026 (Christmas Day, the weekend and the substitute Boxing
Day holiday on Monday 28 December do not count).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.conf import settings
from django.utils import timezone

Pause = tuple[dt.date, dt.date | None]


@lru_cache(maxsize=32)
def _holiday_calendar(country: str, subdivision: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdivision or None)


@dataclass(frozen=True)
class WorkingCalendar:
    country: str = "GB"
    subdivision: str = "ENG"

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in _holiday_calendar(self.country, self.subdivision)

    def holiday_name(self, day: dt.date) -> str | None:
        return _holiday_calendar(self.country, self.subdivision).get(day)

    def add_working_days(self, start: dt.date, days: int, *, pauses: Iterable[Pause] = ()) -> dt.date | None:
        """The date of the ``days``-th counted working day after ``start``.

        A paused span (paused on P, resumed on R) stops the clock: the days
        after P up to and including R do not count. While a pause is open the
        due date is unknown and ``None`` is returned.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        spans = list(pauses)
        if any(resumed is None for _, resumed in spans):
            return None
        day = start
        counted = 0
        while counted < days:
            day += dt.timedelta(days=1)
            if self.is_working_day(day) and not _in_pause(day, spans):
                counted += 1
        return day

    def working_days_between(self, start: dt.date, end: dt.date, *, pauses: Iterable[Pause] = ()) -> int:
        """Counted working days after ``start`` up to and including ``end``."""
        spans = [(p, r or dt.date.max) for p, r in pauses]
        count = 0
        day = start
        while day < end:
            day += dt.timedelta(days=1)
            if self.is_working_day(day) and not _in_pause(day, spans):
                count += 1
        return count

    def next_working_day(self, day: dt.date) -> dt.date:
        nxt = day + dt.timedelta(days=1)
        while not self.is_working_day(nxt):
            nxt += dt.timedelta(days=1)
        return nxt


def _in_pause(day: dt.date, spans: list) -> bool:
    return any(paused < day <= (resumed or dt.date.max) for paused, resumed in spans)


def calendar_for(partnership: object) -> WorkingCalendar:
    return WorkingCalendar(
        country=getattr(partnership, "holiday_country", "GB"),
        subdivision=getattr(partnership, "holiday_subdivision", "ENG"),
    )


def within_working_hours(partnership: object, now: dt.datetime) -> bool:
    """Whether reminders may go now: a working day of the partnership's calendar, within the
    working hours (``NOTIFY_WORKING_HOURS``, local time)."""
    local = timezone.localtime(now)
    start, end = settings.NOTIFY_WORKING_HOURS
    return calendar_for(partnership).is_working_day(local.date()) and start <= local.hour < end


def calendar_problem(country: str, subdivision: str) -> dict[str, str] | None:
    """Why a bank-holiday calendar cannot be used (by field), or None when it can."""
    supported = holidays.list_supported_countries()
    if country not in supported:
        return {"holiday_country": "Enter a country code the bank-holiday calendar knows, like GB"}
    if subdivision and subdivision not in supported[country]:
        return {
            "holiday_subdivision": "Enter one of "
            + ", ".join(supported[country][:20])
            + (" …" if len(supported[country]) > 20 else "")
            + ", or leave it empty"
        }
    return None
