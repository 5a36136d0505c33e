"""Counts that add up: over random multi-agency histories (an escalation naming one to three
agencies), no table the PDG, the Independent Reviewing Unit or the executive sees holds a
negative figure, in any form (the page, its CSV, the API, the IRU's section, the annual
report's page, CSV and XLSX; the two PDFs on one such history), and every table's figures add
up to a total of their own unit: escalations, or agencies' involvements in them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from accord.api.services import api_token_create
from accord.core import clock
from accord.escalations.services import PartyDetails
from accord.reports import views
from accord.reports.annual import annual_tables
from accord.reports.periods import reporting_year
from accord.reports.selectors import OTHERS, Period, pdg_figures
from accord.reports.views import grouped_matrix
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db

PERIOD = Period(dt.date(2026, 4, 1), dt.date(2026, 11, 30))
PERIOD_FORM = {
    "start-day": 1,
    "start-month": 4,
    "start-year": 2026,
    "end-day": 30,
    "end-month": 11,
    "end-year": 2026,
}
NEGATIVE = re.compile(r"(?<![\w.])[-−]\s?\d")


def negatives(value, where="") -> list[str]:
    """Every number below 0 anywhere in a report's data (dicts, lists, tuples, objects' fields)."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [f"{where}={value}"] if value < 0 else []
    if isinstance(value, dict):
        return [n for k, v in value.items() for n in negatives(v, f"{where}[{k}]")]
    if isinstance(value, list | tuple):
        return [n for i, v in enumerate(value) for n in negatives(v, f"{where}[{i}]")]
    if hasattr(value, "__dataclass_fields__"):
        return [
            n
            for name in value.__dataclass_fields__
            for n in negatives(getattr(value, name), f"{where}.{name}")
        ]
    return []


def numeric_cells(html: str) -> list[str]:
    """The text of every numeric cell of every table on a page."""
    cells = re.findall(r'<td class="[^"]*numeric[^"]*">(.*?)</td>', html, flags=re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]


def raisers(world):
    """Who raises for each agency, and how."""
    return [
        (world.practitioner_health, world.health, {}),
        (world.practitioner_social, world.social, {}),
        (world.practitioner_other, world.other, {}),
        (
            world.chair,
            world.iru,
            {"origin": "conference", "start_stage": 2, "start_stage_reason": "core group"},
        ),
    ]


def raise_history(world, history) -> None:
    """Raise each (raiser, agencies named, day) of ``history``: the first agency named is the
    difference's first, the others its network."""
    people = raisers(world)
    receivers = [world.health, world.social, world.other, world.iru]
    for who, named, day in history:
        person, own, extra = people[who]
        agencies = [a for a in (receivers[i] for i in named) if a != own] or [
            next(a for a in receivers if a != own)
        ]
        world.raised(
            at=timezone.make_aware(dt.datetime.combine(PERIOD.start + dt.timedelta(days=day), dt.time(10))),
            raiser=person,
            with_agency=agencies[0],
            with_practitioner_username="",
            other_parties=[PartyDetails(a.pk) for a in agencies[1:]],
            **extra,
        )


histories = st.lists(
    st.tuples(
        st.integers(0, 3),  # the raiser
        st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True),  # the agencies named
        st.integers(0, (PERIOD.end - PERIOD.start).days),
    ),
    min_size=1,
    max_size=9,
)


def check_units(world) -> None:
    """Every total is of its parts' unit: the raising agencies add up to the escalations; the
    receiving agencies to the involvements, which the matrix's cells add up to too; a row of
    the matrix is never fewer than the escalations its agency raised."""
    f = pdg_figures(world.partnership, PERIOD)
    assert sum(f.by_raising_agency.values()) == f.total
    involvements = sum(f.matrix.values())
    assert sum(f.by_receiving_agency.values()) == involvements >= f.total
    for raiser, raised in f.by_raising_agency.items():
        assert sum(n for (r, _b), n in f.matrix.items() if r == raiser) >= raised
    for top in (1, 2, 3):
        folded = pdg_figures(world.partnership, PERIOD, matrix_top=top).matrix
        shown = sorted({a for pair in folded for a in pair} - {OTHERS})
        assert folded == grouped_matrix(f.matrix, shown), top
        assert all(n > 0 for n in folded.values()), folded
        assert sum(folded.values()) == involvements


def check_every_form(client, world) -> None:
    """No negative figure in anything the PDG, the IRU or the executive is given (read once
    the reporting year 2026/27 has ended: the executive reads years that have ended)."""
    with clock.set_to(AFTER_THE_YEAR):
        _check_every_form(client, world)


AFTER_THE_YEAR = timezone.make_aware(dt.datetime(2027, 4, 15, 10))


def _check_every_form(client, world) -> None:
    found: list[str] = []
    for person in (world.pdg_chair, world.executive, world.chair):
        sign_in(client, person)
        if person is not world.chair:
            page = client.get("/reports/pdg/", PERIOD_FORM)
            assert page.status_code == 200
            found += negatives(page.context["tables"], f"{person} page tables")
            found += negatives(page.context["matrix_rows"], f"{person} page matrix")
            found += [
                f"{person} page cell {c}" for c in numeric_cells(page.content.decode()) if NEGATIVE.search(c)
            ]
            rows = list(csv.reader(io.StringIO(client.get("/reports/pdg.csv", PERIOD_FORM).content.decode())))
            found += [f"{person} pdg.csv {r}" for r in rows[1:] if r[2] and int(r[2]) < 0]
            annual = client.get("/reports/annual/", {"year": 2026})
            found += negatives(annual.context["data"], f"{person} annual")
            found += [
                f"{person} annual cell {c}"
                for c in numeric_cells(annual.content.decode())
                if NEGATIVE.search(c)
            ]
            rows = list(
                csv.reader(io.StringIO(client.get("/reports/annual.csv", {"year": 2026}).content.decode()))
            )
            found += [f"{person} annual.csv {r}" for r in rows[1:] if r[2] and float(r[2]) < 0]
            book = load_workbook(io.BytesIO(client.get("/reports/annual.xlsx", {"year": 2026}).content))
            found += [
                f"{person} annual.xlsx {row}"
                for row in book["Figures"].iter_rows(min_row=2, values_only=True)
                if isinstance(row[2], int | float) and row[2] < 0
            ]
            _, token = api_token_create(actor=None, user=person)
            # (The executive's API asks for whole reporting years: ``reports.periods``.)
            asked = PERIOD if person is world.pdg_chair else reporting_year(world.partnership, 2026)
            answer = client.get(
                "/api/v1/reports/pdg",
                {"from": str(asked.start), "to": str(asked.end)},
                HTTP_AUTHORIZATION=f"Bearer {token}",
            )
            assert answer.status_code == 200
            found += negatives(answer.json(), f"{person} API")
        iru = client.get("/reports/iru/", PERIOD_FORM)
        assert iru.status_code == 200
        found += negatives(iru.context["sections"], f"{person} IRU")
        found += [f"{person} IRU cell {c}" for c in numeric_cells(iru.content.decode()) if NEGATIVE.search(c)]
        client.logout()
    found += negatives(annual_tables(world.partnership, 2026, full=True), "annual, full")
    assert found == []


def test_no_figure_is_negative_and_every_total_is_of_its_parts_unit(client, world, monkeypatch):
    # Two agencies shown and the rest folded into "all other agencies", as a partnership of
    # more agencies than the page shows has them.
    monkeypatch.setattr(views, "MATRIX_AGENCIES", 2)

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(histories)
    def check(history):
        with transaction.atomic():
            raise_history(world, history)
            check_units(world)
            check_every_form(client, world)
            transaction.set_rollback(True)

    check()


def test_the_negative_remainder_of_a_multi_agency_escalation_is_gone_from_the_pdfs(
    client, world, monkeypatch
):
    """Health raises three escalations, each naming social care and probation: the page folds
    probation into "all other agencies". Health's row then holds 3 with social care and 3 with
    all others (involvements), never 3 − 6 = −3, on the page and in both PDFs."""
    monkeypatch.setattr(views, "MATRIX_AGENCIES", 2)
    raise_history(world, [(0, [1, 2], day) for day in (10, 40, 70)] + [(1, [0], 12)])
    folded = pdg_figures(world.partnership, PERIOD, matrix_top=2).matrix
    assert folded[(world.health.name, world.social.name)] == 3
    assert folded[(world.health.name, OTHERS)] == 3
    for person in (world.pdg_chair, world.executive):
        sign_in(client, person)
        for url, query in (("/reports/pdg.pdf", PERIOD_FORM), ("/reports/annual.pdf", {"year": 2026})):
            with clock.set_to(AFTER_THE_YEAR):  # the executive reads years that have ended
                pdf = client.get(url, query)
            assert pdf.status_code == 200, url
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
            text = re.sub(r"\d{4}-\d{2}-\d{2}", " ", text)  # dates are not figures
            assert not NEGATIVE.search(text), (person, url, NEGATIVE.findall(text))
        client.logout()


def test_what_followed_a_way_forward_that_did_not_hold_adds_up_to_the_answers(client, world):
    """Follow-ups answered held, partly and not held; of those not held, one reopened, one raised
    again, one not yet acted on: "what followed" adds up to "did not hold" in every form."""
    from accord.core import clock
    from accord.escalations import services

    def moment(m, d):
        return timezone.make_aware(dt.datetime(2026, m, d, 10))

    answers = ["held", "partly", "not_held", "not_held", "not_held"]
    done = []
    for n, held in enumerate(answers):
        e = world.raised(at=moment(6, 1 + n))
        with clock.set_to(moment(6, 10)):
            services.escalation_resolve(
                actor=world.manager_social,
                escalation=e,
                outcome="agreed_way_forward",
                agreed_way_forward="w",
                child_centred_outcome_achieved="yes",
            )
        with clock.set_to(moment(7, 30)):
            services.escalation_follow_up(
                actor=world.practitioner_health, escalation=e, held=held, what_changed="c"
            )
        done.append(e)
    with clock.set_to(moment(9, 1)):
        services.escalation_reopen(actor=world.practitioner_social, escalation=done[2], reason="back")
        services.escalation_raise_again(
            actor=world.practitioner_social,
            escalation=done[3],
            details=services.RaiseDetails(
                kind="case",
                with_agency_id=world.health.pk,
                summary="s",
                decision_challenged="d",
                concern="c",
                evidence="e",
                tried_so_far="t",
                desired_outcome="o",
                area_of_disagreement_code="levels-of-risk",
                children=[services.ChildDetails(name="A B")],
            ),
            immediate_danger=False,
        )
    f = pdg_figures(world.partnership, PERIOD)
    assert f.follow_ups == {"held": 1, "partly": 1, "not_held": 3}
    assert f.after_not_held == {"none": 1, "reopened": 1, "raised_again": 1}
    assert sum(f.after_not_held.values()) == f.follow_ups["not_held"]
    sign_in(client, world.pdg_chair)
    page = client.get("/reports/pdg/", PERIOD_FORM)
    tables = {title: rows for title, rows, _unit in page.context["tables"]["sections"]}
    followed = next(rows for title, rows in tables.items() if "what followed" in str(title))
    held = next(rows for title, rows in tables.items() if "Did the agreed way forward hold" in str(title))
    assert sum(v for _l, v, _d in followed) == {str(label): v for label, v, _d in held}["No, it did not hold"]
    rows = list(csv.reader(io.StringIO(client.get("/reports/pdg.csv", PERIOD_FORM).content.decode())))
    assert sum(int(r[2]) for r in rows if "what followed" in r[0]) == 3
    annual = client.get("/reports/annual/", {"year": 2026})
    after = next(rows for key, _t, rows in annual.context["data"]["tables"] if key == "after")
    # The annual report shows small counts withheld (below the threshold): each of the three.
    assert len(after) == 3 and not any(isinstance(v, int) for _l, v in after)
    check_every_form(client, world)
