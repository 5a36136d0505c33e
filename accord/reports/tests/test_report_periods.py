"""Which periods a report covers for its reader (``reports.periods``, decision 0015).

A reader who sees small counts hidden reads whole reporting years only, so that no count
hidden in one report can be worked out by setting it beside a report of another period.
The reader here solves everything the allowed reports publish as one linear system over
the smallest pieces of time the periods cut the calendar into (exact fractions): a count
is given away when the system fixes it."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from types import SimpleNamespace

import pytest
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from accord.api.services import api_token_create
from accord.core import clock
from accord.partnership.protocol import preset
from accord.reports.disclosure import determined, is_hidden
from accord.reports.periods import (
    PeriodNotAllowed,
    asked_period,
    choose_period,
    is_allowed,
    nearest_allowed,
    reporting_year,
    require_allowed,
)
from accord.reports.selectors import (
    FORMAL,
    IRU_TOTAL,
    ONE_WAY,
    TOTAL,
    Figures,
    Period,
    report_system,
    suppressed,
)
from accord.testing.auth import sign_in

THRESHOLD = 5
TODAY = dt.datetime(2027, 6, 15, 12)
APRIL = SimpleNamespace(reporting_year_start_month=4)  # England's reporting year
JANUARY = SimpleNamespace(reporting_year_start_month=1)  # a partnership reporting by calendar year


def d(y, m, day):
    return dt.date(y, m, day)


# ---------------------------------------------------------------- the rule itself


def test_a_reader_of_hidden_counts_may_ask_only_for_whole_reporting_years():
    with clock.set_to(TODAY):
        assert is_allowed(APRIL, Period(d(2026, 4, 1), d(2027, 3, 31)), full=False)
        assert is_allowed(JANUARY, Period(d(2026, 1, 1), d(2026, 12, 31)), full=False)
        # A month, a quarter, a year less a day, two years, a year to come: refused.
        for period in (
            Period(d(2026, 10, 1), d(2026, 10, 31)),
            Period(d(2026, 10, 1), d(2026, 12, 31)),
            Period(d(2026, 4, 2), d(2027, 3, 31)),
            Period(d(2025, 4, 1), d(2027, 3, 31)),
            Period(d(2028, 4, 1), d(2029, 3, 31)),
        ):
            assert not is_allowed(APRIL, period, full=False), period
            assert is_allowed(APRIL, period, full=True)  # who sees every figure chooses freely
        assert not is_allowed(JANUARY, Period(d(2026, 4, 1), d(2027, 3, 31)), full=False)


def test_the_nearest_year_is_the_one_sharing_most_days_and_never_one_to_come():
    with clock.set_to(TODAY):
        assert nearest_allowed(APRIL, Period(d(2026, 10, 1), d(2026, 10, 31))) == reporting_year(APRIL, 2026)
        assert nearest_allowed(APRIL, Period(d(2026, 2, 1), d(2026, 4, 30))) == reporting_year(APRIL, 2025)
        assert nearest_allowed(APRIL, Period(d(2026, 2, 1), d(2026, 5, 31))) == reporting_year(APRIL, 2026)
        # A year to come, or the year still running: the last that has ended.
        assert nearest_allowed(APRIL, Period(d(2030, 1, 1), d(2030, 2, 1))) == reporting_year(APRIL, 2026)
        assert nearest_allowed(APRIL, Period(d(2027, 4, 1), d(2027, 6, 1))) == reporting_year(APRIL, 2026)
        assert nearest_allowed(JANUARY, Period(d(2026, 10, 1), d(2027, 2, 1))) == reporting_year(
            JANUARY, 2026
        )


def test_a_reader_of_hidden_counts_reads_only_years_that_have_ended():
    """A year still running changes from day to day: read on two days, its difference is
    what happened between. On 15 June 2027 the executive's latest year is 2026/27."""
    running = reporting_year(APRIL, 2027)
    with clock.set_to(TODAY):
        assert not is_allowed(APRIL, running, full=False)
        assert is_allowed(APRIL, running, full=True)  # who sees every figure reads it as it runs
        assert is_allowed(APRIL, reporting_year(APRIL, 2026), full=False)
        assert choose_period(APRIL, running, full=False).period == reporting_year(APRIL, 2026)
        assert "that has ended" in choose_period(APRIL, reporting_year(APRIL, 2026), full=False).notice()
        assert choose_period(APRIL, running, full=True).notice() == ""
        with pytest.raises(PeriodNotAllowed) as refused:
            require_allowed(APRIL, running, full=False)
        assert "from 2026-04-01 to 2027-03-31" in str(refused.value)


def test_one_date_alone_asks_for_the_reporting_year_it_falls_in():
    year = reporting_year(APRIL, 2026)
    assert asked_period(APRIL, d(2026, 4, 1), None, year, full=False) == year
    assert asked_period(APRIL, None, d(2027, 3, 31), year, full=False) == year
    assert asked_period(APRIL, d(2026, 10, 1), None, year, full=False) == Period(
        d(2026, 10, 1), d(2027, 3, 31)
    )
    default = Period(d(2026, 9, 1), d(2026, 12, 7))
    assert asked_period(APRIL, d(2026, 10, 1), None, default, full=True) == Period(
        d(2026, 10, 1), d(2026, 12, 7)
    )


def test_the_api_refusal_names_the_year_to_ask_for():
    with clock.set_to(TODAY), pytest.raises(PeriodNotAllowed) as refused:
        require_allowed(APRIL, Period(d(2026, 10, 2), d(2026, 10, 31)), full=False)
    assert "from 2026-04-01 to 2027-03-31" in str(refused.value)
    assert refused.value.nearest == reporting_year(APRIL, 2026)


# ---------------------------------------------------------------- what a reader can work out

AGENCIES = ["Health", "Social care", "Police", "Schools", "Probation", "IRU"]
ORIGINS = ["practitioner", "conference", "care_review"]


def ladder(name: str) -> tuple[int, int]:
    """A preset's number of stages and its first formal stage."""
    stages = preset(name)["stages"]
    return len(stages), next(i for i, s in enumerate(stages, 1) if s.get("formal"))


def figures_for(rows: list[tuple], stages: int, formal_from: int) -> Figures:
    """The standing item's figures of these escalations, every item of every table present
    (0 where none), so that every period's tables have the same cells."""

    def count(values, items):
        out = dict.fromkeys(items, 0)
        for v in values:
            out[v] += 1
        return out

    pairs = [(a, b) for a in AGENCIES for b in AGENCIES if a != b]
    iru = [r for r in rows if r.origin != "practitioner"]
    return Figures(
        period=Period(d(2000, 1, 1), d(2000, 1, 1)),
        total=len(rows),
        by_stage_reached=count((r.stage for r in rows), range(1, stages + 1)),
        by_kind=count((r.kind for r in rows), ["case", "theme"]),
        by_subject=count((r.subject for r in rows), ["child", "adult"]),
        by_urgency=count((r.urgency for r in rows), ["routine", "urgent"]),
        by_origin=count((r.origin for r in rows), ORIGINS),
        by_status=count((r.status for r in rows), ["open", "resolved"]),
        by_area={},
        by_theme={},
        by_raising_agency=count((r.raiser for r in rows), AGENCIES),
        by_receiving_agency=count((r.receiver for r in rows), AGENCIES),
        matrix=count(((r.raiser, r.receiver) for r in rows), pairs),
        agencies=AGENCIES,
        outcomes={},
        follow_ups={},
        timeliness={},
        low_challenge=[],
        iru={
            "total": len(iru),
            "by_origin": count((r.origin for r in iru), ORIGINS[1:]),
            "by_status": count((r.status for r in iru), ["open", "resolved"]),
            "by_stage_reached": count((r.stage for r in iru), range(1, stages + 1)),
            "outcomes": {},
        },
        themes_response=[],
        formal_from=formal_from,
        formal=sum(1 for r in rows if r.stage >= formal_from),
        threshold=THRESHOLD,
    )


def published(figures: Figures) -> dict:
    """What a reader who sees small counts hidden is shown of these figures
    (``selectors.suppressed``, as the page, the CSV, the PDF and the API show them), keyed as
    ``report_system`` keys its cells."""
    shown = suppressed(figures)
    cells = {TOTAL: shown["total"], FORMAL: shown["formal"], IRU_TOTAL: shown["iru_total"]}
    for name in (*ONE_WAY, "by_receiving_agency", "iru_by_origin", "iru_by_status", "iru_by_stage_reached"):
        cells.update({(name, item): v for item, v in shown[name].items()})
    cells.update({("matrix", a, b): v for (a, b), v in shown["matrix"].items()})
    return cells


def given_away(history: list, periods: list[Period], stages: int, formal_from: int) -> list:
    """Every count a reader works out from the reports of these periods set side by side:
    a hidden count of a report, or a small count (1 to 4) of escalations in some piece of
    time the periods cut the calendar into (the first of October, when 1–31 and 2–31
    October are both published). Empty when nothing is given away."""
    bounds = sorted({p.start for p in periods} | {p.end + dt.timedelta(days=1) for p in periods})
    pieces = [
        Period(a, b - dt.timedelta(days=1))
        for a, b in itertools.pairwise(bounds)
        if any(p.start <= a and b - dt.timedelta(days=1) <= p.end for p in periods)
    ]

    def within(period: Period) -> list:
        return [r for r in history if period.start <= r.day <= period.end]

    unknowns: set = set()
    equations: list[dict] = []
    truth: dict = {}
    for i, piece in enumerate(pieces):  # how the tables of any set of escalations add up
        cells, sums = report_system(figures_for(within(piece), stages, formal_from))
        unknowns |= {(i, key) for key in cells}
        truth.update({(i, key): n for key, n in cells.items()})
        equations += [{(i, key): c for key, c in eq.items()} for eq in sums]
    hidden = set()
    for j, period in enumerate(periods):  # what each report publishes
        figures = figures_for(within(period), stages, formal_from)
        cells, _sums = report_system(figures)
        shown = published(figures)
        assert shown.keys() == cells.keys()
        inside = [i for i, p in enumerate(pieces) if period.start <= p.start and p.end <= period.end]
        for key in cells:
            equation = {(i, key): 1 for i in inside}
            if is_hidden(shown[key]):  # its value is an unknown of its own, the pieces' sum
                hidden.add(("hidden", j, key))
                equation[("hidden", j, key)] = -1
            equations.append(equation)
    fixed = determined(unknowns | hidden, equations)
    return sorted(
        (str(k) for k in fixed if k in hidden or 0 < truth.get(k, 0) < THRESHOLD),
    )


class Row(SimpleNamespace):
    pass


def row(day, raiser=0, receiver=1, stage=1, kind="case", subject="child", origin="practitioner", **rest):
    return Row(
        day=day,
        raiser=AGENCIES[raiser],
        receiver=AGENCIES[receiver],
        stage=stage,
        kind=kind,
        subject=subject,
        urgency=rest.get("urgency", "routine"),
        origin=origin,
        status=rest.get("status", "open"),
    )


def october_history() -> list:
    """Two escalations about adults raised on 1 October; later that month ten about children
    and six about adults."""
    return (
        [row(d(2026, 10, 1), subject="adult") for _ in range(2)]
        + [row(d(2026, 10, 2 + i), raiser=2, receiver=3) for i in range(10)]
        + [row(d(2026, 10, 12 + i), raiser=2, receiver=3, subject="adult") for i in range(6)]
    )


def test_free_dates_would_give_a_small_count_away():
    """The finding: 1–31 October less 2–31 October is the first of October. Each report alone
    gives nothing away; set side by side they give the two raised that day, and that both
    were about adults."""
    stages, formal_from = ladder("devon")
    october, later = Period(d(2026, 10, 1), d(2026, 10, 31)), Period(d(2026, 10, 2), d(2026, 10, 31))
    assert given_away(october_history(), [october], stages, formal_from) == []
    assert given_away(october_history(), [later], stages, formal_from) == []
    away = given_away(october_history(), [october, later], stages, formal_from)
    assert "(0, ('total',))" in away and "(0, ('by_subject', 'adult'))" in away


def test_months_quarters_and_years_together_would_give_a_hidden_count_away():
    """Why one kind of period only: a quarter less two of its months is the third month."""
    stages, formal_from = ladder("devon")
    history = [row(d(2026, 10, 5 + i), raiser=2, receiver=3) for i in range(6)]  # October: 6
    history += [row(d(2026, 12, 1), subject="adult"), row(d(2026, 12, 2), subject="adult")]  # December: 2
    months = [Period(d(2026, 10, 1), d(2026, 10, 31)), Period(d(2026, 11, 1), d(2026, 11, 30))]
    december = Period(d(2026, 12, 1), d(2026, 12, 31))
    quarter = Period(d(2026, 10, 1), d(2026, 12, 31))
    assert given_away(history, [december], stages, formal_from) == []
    assert any("hidden" in k for k in given_away(history, [*months, december, quarter], stages, formal_from))


day_in_range = st.dates(d(2024, 10, 1), d(2027, 6, 15))
escalation = st.builds(
    row,
    day_in_range,
    raiser=st.integers(0, 5),
    receiver=st.integers(0, 5),
    stage=st.integers(1, 5),
    kind=st.sampled_from(["case", "theme"]),
    subject=st.sampled_from(["child", "adult"]),
    origin=st.sampled_from(ORIGINS),
    status=st.sampled_from(["open", "resolved"]),
).filter(lambda r: r.raiser != r.receiver)
asked = st.tuples(day_in_range, day_in_range).map(lambda ab: Period(min(ab), max(ab)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(escalation, max_size=40),
    st.lists(asked, min_size=1, max_size=4),
    st.sampled_from(["devon", "croydon"]),
    st.sampled_from([APRIL, JANUARY]),
)
@example(
    october_history(),
    [Period(d(2026, 10, 1), d(2026, 10, 31)), Period(d(2026, 10, 2), d(2026, 10, 31))],
    "devon",
    APRIL,
)
def test_whatever_dates_a_reader_of_hidden_counts_asks_for_nothing_hidden_can_be_worked_out(
    history, requests, preset_name, partnership
):
    """Every report such a reader opens, whatever dates they ask for, covers an allowed
    period; set all side by side (on Devon's ladder and on Croydon's, a year from April or
    from January), they give away no hidden count and no small count of any piece of time."""
    stages, formal_from = ladder(preset_name)
    history = [r for r in history if r.stage <= stages]
    with clock.set_to(TODAY):
        chosen = [choose_period(partnership, period, full=False).period for period in requests]
        assert all(is_allowed(partnership, p, full=False) for p in chosen)
    periods = sorted({(p.start, p.end): p for p in chosen}.values(), key=lambda p: p.start)
    assert given_away(history, periods, stages, formal_from) == []


# ---------------------------------------------------------------- the page, CSV, PDF and API

OCTOBER = {
    "start-day": 1,
    "start-month": 10,
    "start-year": 2026,
    "end-day": 31,
    "end-month": 10,
    "end-year": 2026,
}
LATER_OCTOBER = {**OCTOBER, "start-day": 2}


def at(y, m, day):
    return timezone.make_aware(dt.datetime(y, m, day, 10))


@pytest.fixture(autouse=True)
def in_april_2027(request):
    """The report pages and the API as on 7 April 2027 (the reporting year 2026/27 has just
    ended: the executive's latest), unless a test sets another day."""
    if "world" not in request.fixturenames or "running" in request.node.name:
        yield
        return
    with clock.set_to(at(2027, 4, 7)):
        yield


@pytest.fixture
def october(world):
    for _ in range(2):
        world.raised(at=at(2026, 10, 1))
    for i in range(6):
        world.raised(at=at(2026, 10, 2 + i), raiser=world.practitioner_social, with_agency=world.health)
    return world


@pytest.mark.django_db
def test_the_executives_page_covers_the_year_and_says_so(client, october):
    sign_in(client, october.executive)
    first, later = client.get("/reports/pdg/", OCTOBER), client.get("/reports/pdg/", LATER_OCTOBER)
    assert first.status_code == later.status_code == 200
    year = Period(d(2026, 4, 1), d(2027, 3, 31))
    assert first.context["period"] == later.context["period"] == year
    assert first.context["tables"]["sections"] == later.context["tables"]["sections"]  # nothing to subtract
    html = later.content.decode()
    assert "You asked for 2 October 2026 to 31 October 2026" in html
    assert "this is the reporting year nearest it, 1 April 2026 to 31 March 2027" in html
    # The PDG sees every figure and chooses its dates freely.
    client.logout()
    sign_in(client, october.pdg_chair)
    page = client.get("/reports/pdg/", LATER_OCTOBER)
    assert page.context["period"] == Period(d(2026, 10, 2), d(2026, 10, 31))
    assert "reporting year nearest" not in page.content.decode()


@pytest.mark.django_db
def test_the_executives_csv_and_pdf_cover_the_year(client, october):
    sign_in(client, october.executive)
    csv = client.get("/reports/pdg.csv", LATER_OCTOBER)
    assert csv.status_code == 200
    assert 'filename="pdg-standing-item-2026-04-01-2027-03-31.csv"' in csv["Content-Disposition"]
    text = csv.content.decode()
    assert "2026-10-02 to 2026-10-31 asked for" in text and "2026-04-01 to 2027-03-31" in text
    pdf = client.get("/reports/pdg.pdf", LATER_OCTOBER)
    assert pdf.status_code == 200
    assert 'filename="pdg-standing-item-2026-04-01-2027-03-31.pdf"' in pdf["Content-Disposition"]
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).split())
    assert "1 April 2026 to 31 March 2027" in text and "reporting year nearest" in text
    client.logout()
    sign_in(client, october.pdg_chair)
    free = client.get("/reports/pdg.csv", LATER_OCTOBER)
    assert 'filename="pdg-standing-item-2026-10-02-2026-10-31.csv"' in free["Content-Disposition"]


@pytest.mark.django_db
def test_the_api_refuses_the_executive_a_part_of_a_year_in_plain_words(client, october):
    _, token = api_token_create(actor=None, user=october.executive)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    for asked in ({"from": "2026-10-01", "to": "2026-10-31"}, {"from": "2026-10-02", "to": "2026-10-31"}):
        refused = client.get("/api/v1/reports/pdg", asked, **auth)
        assert refused.status_code == 422, refused.content
        assert "whole reporting year" in json.loads(refused.content)["detail"]
        assert "from 2026-04-01 to 2027-03-31" in json.loads(refused.content)["detail"]
    year = client.get("/api/v1/reports/pdg", {"from": "2026-04-01", "to": "2027-03-31"}, **auth)
    assert year.status_code == 200 and year.json()["total"] == 8
    assert client.get("/api/v1/reports/pdg", {"from": "2026-04-01"}, **auth).json()["to"] == "2027-03-31"
    assert client.get("/api/v1/reports/pdg", **auth).json()["from"] == "2026-04-01"  # the current year
    _, pdg = api_token_create(actor=None, user=october.pdg_member)
    free = client.get(
        "/api/v1/reports/pdg", {"from": "2026-10-02", "to": "2026-10-31"}, HTTP_AUTHORIZATION=f"Bearer {pdg}"
    )
    assert free.status_code == 200 and free.json()["total"] == 6


@pytest.mark.django_db
def test_a_date_past_the_calendars_ends_is_refused_not_a_servers_error(client, october):
    """A reporting year around 9999 or year 1 would run past Python's calendar."""
    for reader in (october.executive, october.pdg_member):
        _, token = api_token_create(actor=None, user=reader)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        for asked in (
            {"from": "9999-05-01", "to": "9999-12-31"},
            {"from": "9999-05-01"},
            {"to": "0001-02-01"},
        ):
            answer = client.get("/api/v1/reports/pdg", asked, **auth)
            assert answer.status_code in (400, 422), (reader, asked, answer.status_code)
            assert "1900 to 2099" in answer.content.decode()


@pytest.mark.django_db
def test_the_conference_chairs_iru_section_covers_the_year(client, world):
    world.from_conference(at=at(2026, 10, 1))
    sign_in(client, world.chair)
    page = client.get("/reports/iru/", LATER_OCTOBER)
    assert page.status_code == 200 and page.context["period"] == Period(d(2026, 4, 1), d(2027, 3, 31))
    assert "reporting year nearest" in page.content.decode()


@pytest.mark.django_db
def test_the_executives_trend_is_the_years_own_row_only(client, october):
    """An earlier year's figures shown beside this one's, each on its own, could give away a
    count that year's own report withholds: it is a report of its own."""
    october.raised(at=at(2025, 10, 1))
    sign_in(client, october.executive)
    trend = client.get("/reports/pdg/").context["tables"]["trend"]
    assert [(t["start"], t["end"]) for t in trend] == [(d(2026, 4, 1), d(2027, 3, 31))]
    client.logout()
    sign_in(client, october.pdg_chair)
    year = {
        "start-day": 1,
        "start-month": 4,
        "start-year": 2026,
        "end-day": 31,
        "end-month": 3,
        "end-year": 2027,
    }
    page = client.get("/reports/pdg/", year)
    assert len(page.context["tables"]["trend"]) > 1  # who sees every figure sees the trend


# ---------------------------------------------------------------- a year still running


@pytest.mark.django_db
def test_the_executive_is_not_given_the_year_still_running_in_any_form(client, october):
    """On 7 December 2026 the executive's latest year is 2025/26, on the page, its CSV and PDF,
    the IRU section, the API (422 naming the year to ask for) and the annual report; the PDG
    and the business unit read the year as it runs."""
    finished = Period(d(2025, 4, 1), d(2026, 3, 31))
    with clock.set_to(at(2026, 12, 7)):
        sign_in(client, october.executive)
        page = client.get("/reports/pdg/")
        assert page.context["period"] == finished
        assert "a whole reporting year that has ended" in page.content.decode()
        asked = client.get("/reports/pdg/", OCTOBER)
        assert asked.context["period"] == finished
        csv = client.get("/reports/pdg.csv", OCTOBER)
        assert 'filename="pdg-standing-item-2025-04-01-2026-03-31.csv"' in csv["Content-Disposition"]
        assert "a whole reporting year that has ended" in client.get("/reports/pdg.csv").content.decode()
        pdf = client.get("/reports/pdg.pdf")
        assert 'filename="pdg-standing-item-2025-04-01-2026-03-31.pdf"' in pdf["Content-Disposition"]
        annual = client.get("/reports/annual/", {"year": 2026})
        assert annual.context["year"] == 2025 and 2026 not in annual.context["years"]
        assert "the last reporting year that has ended" in annual.content.decode()
        for url in ("/reports/annual.csv", "/reports/annual.xlsx", "/reports/annual.pdf"):
            assert "accord-annual-report-2025." in client.get(url, {"year": 2026})["Content-Disposition"]
        _, token = api_token_create(actor=None, user=october.executive)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        refused = client.get("/api/v1/reports/pdg", {"from": "2026-04-01", "to": "2027-03-31"}, **auth)
        assert refused.status_code == 422
        assert "that has ended" in refused.json()["detail"]
        assert "from 2025-04-01 to 2026-03-31" in refused.json()["detail"]
        assert client.get("/api/v1/reports/pdg", **auth).json()["from"] == "2025-04-01"
        client.logout()
        sign_in(client, october.chair)
        assert client.get("/reports/iru/").context["period"] == finished
        client.logout()
        for person in (october.pdg_chair, october.admin):
            sign_in(client, person)
            assert client.get("/reports/annual/", {"year": 2026}).context["year"] == 2026
            client.logout()
        _, pdg = api_token_create(actor=None, user=october.pdg_member)
        year = client.get(
            "/api/v1/reports/pdg",
            {"from": "2026-04-01", "to": "2027-03-31"},
            HTTP_AUTHORIZATION=f"Bearer {pdg}",
        )
        assert year.status_code == 200 and year.json()["total"] == 8


# ---------------------------------------------------------------- the low-challenge table


@pytest.mark.django_db
def test_the_executive_reads_a_quiet_agencys_count_as_the_tables_protect_it(client, world):
    """Health raised ten with social care in 2025/26 and one in 2026/27: both are flagged as
    markedly quiet. The executive reads the flag and the count as the raising and receiving
    tables show it ("fewer than 5"), never the 1, nor what was expected and the chance of so
    few, which rest on hidden counts and give the count back."""
    for i in range(10):
        world.raised(at=at(2025, 10, 1 + i))
    world.raised(at=at(2026, 10, 1))
    for i in range(6):
        world.raised(at=at(2026, 10, 2 + i), raiser=world.practitioner_social, with_agency=world.other)
    sign_in(client, world.executive)
    page = client.get("/reports/pdg/")
    assert page.context["period"] == Period(d(2026, 4, 1), d(2027, 3, 31))
    rows = {(r["agency"], r["direction"]): r["observed"] for r in page.context["low_challenge"]}
    tables = {
        str(title): dict((label, v) for label, v, _d in rows_)
        for title, rows_, _u in page.context["tables"]["sections"]
    }
    raising = tables["Raising agency"]
    assert is_hidden(rows[(world.health.name, "raised")])
    assert rows[(world.health.name, "raised")] == raising[world.health.name]
    assert is_hidden(rows[(world.social.name, "received")])
    html = page.content.decode()
    assert "Chance of so few" not in html and "10.0" not in html
    assert 'id="low-challenge-hidden"' in html
    client.logout()
    sign_in(client, world.pdg_chair)
    full = client.get(
        "/reports/pdg/",
        {
            "start-day": 1,
            "start-month": 4,
            "start-year": 2026,
            "end-day": 31,
            "end-month": 3,
            "end-year": 2027,
        },
    )
    flagged = {(s.agency, s.direction): s for s in full.context["low_challenge"]}
    assert flagged[(world.health.name, "raised")].observed == 1
    assert flagged[(world.health.name, "raised")].expected == 10.0
    assert "Chance of so few" in full.content.decode()


# ---------------------------------------------------------------- one protected set a year


@pytest.mark.django_db
def test_every_form_of_a_year_the_executive_reads_withholds_the_same_cells(client, world, monkeypatch):
    """The page, its CSV and PDF, the API, the IRU section and the annual report give the
    executive one protected set of the year's figures (the matrix of the agencies most
    involved and all others, protected with the year's months): no form withholds another cell
    than the others, and everything they give together pins down no hidden cell."""
    from accord.api.services import api_token_create as token_for
    from accord.escalations.services import PartyDetails
    from accord.reports import views
    from accord.reports.annual import annual_tables
    from accord.reports.tests.test_disclosure_system import annual_as_report, check

    monkeypatch.setattr(views, "MATRIX_AGENCIES", 2)  # as a partnership of more agencies than shown
    for day in range(6):
        world.raised(at=at(2026, 5, 1 + day), raiser=world.practitioner_social, with_agency=world.health)
    world.from_conference(at=at(2026, 6, 3))
    for day in range(7):
        world.raised(at=at(2026, 7, 1 + day))
    for day in range(5):
        world.raised(at=at(2026, 8, 1 + day), raiser=world.practitioner_other, with_agency=world.social)
    for day in range(3):
        world.raised(at=at(2026, 9, 1 + day), other_parties=[PartyDetails(world.other.pk)])
    year = Period(d(2026, 4, 1), d(2027, 3, 31))
    reference = views.year_protected(world.partnership, year).shown
    assert any(is_hidden(v) for v in reference["matrix"].values())

    def plain(value):
        return str(value) if is_hidden(value) else value

    sign_in(client, world.executive)
    page = client.get("/reports/pdg/")
    assert page.context["tables"]["matrix"] == reference["matrix"]
    assert page.context["tables"]["total"] == reference["total"]
    sections = {str(t): {label: v for label, v, _d in r} for t, r, _u in page.context["tables"]["sections"]}
    assert sections["Raising agency"] == reference["by_raising_agency"]
    csv = client.get("/reports/pdg.csv").content.decode()
    matrix_rows = [line for line in csv.splitlines() if line.startswith("Raised by")]
    assert len(matrix_rows) == len(reference["matrix"]) and OTHERS_NAME in csv
    _, token = token_for(actor=None, user=world.executive)
    api = client.get("/api/v1/reports/pdg", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert api["matrix"] == {f"{a} -> {b}": plain(v) for (a, b), v in reference["matrix"].items()}
    for name in ("total", "by_raising_agency", "by_receiving_agency", "by_stage_reached", "iru_total"):
        expected = reference[name]
        expected = (
            {str(k): plain(v) for k, v in expected.items()} if isinstance(expected, dict) else plain(expected)
        )
        assert api[name] == expected, name
    annual = annual_tables(world.partnership, 2026)
    matrix = {
        (raiser, receiver): value
        for raiser, cells in annual["matrix"]
        for receiver, value in zip(annual["matrix_agencies"], cells, strict=True)
        if value != 0
    }
    assert matrix == {k: v for k, v in reference["matrix"].items() if v != 0}
    assert dict(annual["tables"][-1][2]) == reference["months"]
    client.logout()
    sign_in(client, world.chair)
    assert client.get("/reports/iru/").context["total"] == reference["iru_total"]
    # Everything together: the annual report's tables with the page's urgency, solved as one
    # system (exact elimination, and the ranges "fewer than 5" gives), pins down nothing.
    union = annual_as_report(annual)
    union["tables"]["urgency"] = reference["by_urgency"]
    full = annual_as_report(annual_tables(world.partnership, 2026, full=True))
    full["tables"]["urgency"] = views.year_protected(
        world.partnership, year, every_figure=True
    ).figures.by_urgency
    check(union, full)


OTHERS_NAME = "All other agencies"
