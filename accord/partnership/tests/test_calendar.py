import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.partnership.calendar import WorkingCalendar

ENGLAND = WorkingCalendar("GB", "ENG")
dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))


def test_friday_18_december_2026_plus_five_working_days_is_tuesday_29_december():
    # Christmas Day (Fri 25), the weekend, and the substitute Boxing Day (Mon 28) are skipped.
    assert ENGLAND.add_working_days(dt.date(2026, 12, 18), 5) == dt.date(2026, 12, 29)
    assert not ENGLAND.is_working_day(dt.date(2026, 12, 28))
    assert ENGLAND.is_working_day(dt.date(2026, 12, 24))


def test_easter_2027_skips_good_friday_and_easter_monday():
    # Good Friday 26 March 2027, Easter Monday 29 March 2027.
    assert ENGLAND.add_working_days(dt.date(2027, 3, 25), 1) == dt.date(2027, 3, 30)
    assert ENGLAND.add_working_days(dt.date(2027, 3, 25), 5) == dt.date(2027, 4, 5)


def test_scotland_has_its_own_calendar():
    scotland = WorkingCalendar("GB", "SCT")
    # 2 January is a bank holiday in Scotland, not in England.
    assert not scotland.is_working_day(dt.date(2026, 1, 2))
    assert ENGLAND.is_working_day(dt.date(2026, 1, 2))


def test_a_pause_across_a_weekend_stops_the_clock():
    # Raised Monday 2 Nov 2026, 5 working days: due Monday 9 Nov.
    start = dt.date(2026, 11, 2)
    assert ENGLAND.add_working_days(start, 5) == dt.date(2026, 11, 9)
    # Paused on Thursday 5th, resumed on Tuesday 10th: Fri 6, Mon 9 and Tue 10 do not count.
    pauses = [(dt.date(2026, 11, 5), dt.date(2026, 11, 10))]
    # Counted: Tue 3, Wed 4, Thu 5, then Wed 11, Thu 12.
    assert ENGLAND.add_working_days(start, 5, pauses=pauses) == dt.date(2026, 11, 12)


def test_an_open_pause_has_no_due_date():
    assert ENGLAND.add_working_days(dt.date(2026, 11, 2), 5, pauses=[(dt.date(2026, 11, 3), None)]) is None


def test_negative_days_are_refused():
    with pytest.raises(ValueError):
        ENGLAND.add_working_days(dt.date(2026, 11, 2), -1)


@given(start=dates, days=st.integers(min_value=1, max_value=40))
def test_due_date_is_a_working_day_after_the_start(start, days):
    due = ENGLAND.add_working_days(start, days)
    assert due > start
    assert ENGLAND.is_working_day(due)


@given(start=dates, days=st.integers(min_value=0, max_value=40))
def test_counting_back_gives_the_same_number_of_days(start, days):
    due = ENGLAND.add_working_days(start, days)
    assert ENGLAND.working_days_between(start, due) == days


@given(start=dates, a=st.integers(min_value=0, max_value=20), b=st.integers(min_value=0, max_value=20))
def test_adding_is_additive(start, a, b):
    assert ENGLAND.add_working_days(ENGLAND.add_working_days(start, a), b) == ENGLAND.add_working_days(
        start, a + b
    )


@given(
    start=dates,
    days=st.integers(min_value=1, max_value=20),
    pause_offset=st.integers(0, 10),
    pause_len=st.integers(1, 10),
)
def test_a_pause_never_brings_the_due_date_forward(start, days, pause_offset, pause_len):
    paused = start + dt.timedelta(days=pause_offset)
    pauses = [(paused, paused + dt.timedelta(days=pause_len))]
    assert ENGLAND.add_working_days(start, days, pauses=pauses) >= ENGLAND.add_working_days(start, days)


@given(start=dates, days=st.integers(min_value=1, max_value=30))
def test_a_weekday_without_holidays_adds_at_least_the_calendar_days(start, days):
    # Working days are never fewer calendar days than asked for.
    assert (ENGLAND.add_working_days(start, days) - start).days >= days
