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
from accord.escalations.services import PartyDetails
from accord.reports import views
from accord.reports.annual import annual_tables
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
    """No negative figure in anything the PDG, the IRU or the executive is given."""
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
            answer = client.get(
                "/api/v1/reports/pdg",
                {"from": str(PERIOD.start), "to": str(PERIOD.end)},
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
            pdf = client.get(url, query)
            assert pdf.status_code == 200, url
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
            text = re.sub(r"\d{4}-\d{2}-\d{2}", " ", text)  # dates are not figures
            assert not NEGATIVE.search(text), (person, url, NEGATIVE.findall(text))
        client.logout()
