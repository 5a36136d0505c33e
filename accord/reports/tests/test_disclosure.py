"""Disclosure control never tells the executive a falsehood: "fewer than 5" appears only where
the count is from 1 to 4, in every form the executive receives it (the PDG page, its CSV,
the API, the annual report's page, PDF, CSV and XLSX); a count hidden only to protect
another is marked withheld ("[c]"); months not yet reached are absent; downloads hold
numbers as numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader

from accord.api.services import api_token_create
from accord.reports.annual import annual_tables
from accord.reports.disclosure import WITHHELD_SYMBOL, Hidden
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db

SMALL_TEXT = "fewer than 5"


def on(month: int, day: int = 10) -> dt.datetime:
    year = 2025 if month >= 4 else 2026
    return timezone.make_aware(dt.datetime(year, month, day, 10))


@pytest.fixture
def year_2025(world):
    """25 escalations in the reporting year from April 2025: 16 raised by health, 7 by children's
    social care, 2 by the conference chair (IRU) from conferences. The 2 are hidden as small; the
    7, the next smallest, is withheld so that the 2 cannot be worked out from the total of 25."""
    for i in range(16):
        world.raised(at=on(4 + i % 9))
    for i in range(7):
        world.raised(
            at=on(5 + i % 6),
            raiser=world.practitioner_social,
            with_agency=world.health,
            with_practitioner_username="",
        )
    for month in (6, 9):
        world.from_conference(at=on(month))
    return 2025


def check_cell(shown, full, where) -> str:
    """Answer how the cell was shown, failing on any falsehood."""
    if shown == SMALL_TEXT or (isinstance(shown, Hidden) and shown.reason == "small"):
        assert 1 <= full <= 4, f"{where}: {full} shown as fewer than 5"
        return "small"
    if shown == WITHHELD_SYMBOL:
        assert full >= 1, f"{where}: 0 withheld"
        return "withheld"
    assert shown == full, f"{where}: shown {shown!r}, is {full}"
    return "shown"


def test_the_executives_api_answer_is_true_cell_by_cell(client, world, year_2025):
    def answer(person):
        _, token = api_token_create(actor=None, user=person)
        response = client.get(
            "/api/v1/reports/pdg",
            {"from": "2025-04-01", "to": "2026-03-31"},
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 200
        return response.json()

    full, shown = answer(world.pdg_member), answer(world.executive)
    assert full["total"] == shown["total"] == 25
    seen = set()
    for key in (
        "by_stage_reached",
        "by_kind",
        "by_origin",
        "by_status",
        "by_raising_agency",
        "by_receiving_agency",
    ):
        assert set(shown[key]) == set(full[key]), key
        for cell, value in shown[key].items():
            seen.add(check_cell(value, full[key][cell], f"{key}[{cell}]"))
    for pair, value in shown["matrix"].items():
        seen.add(check_cell(value, full["matrix"][pair], f"matrix[{pair}]"))
    assert seen == {"small", "withheld", "shown"}
    # The case that was a falsehood: social care raised 7, hidden only to protect the IRU's 2.
    assert shown["by_raising_agency"][world.social.name] == WITHHELD_SYMBOL
    assert shown["by_raising_agency"][world.iru.name] == SMALL_TEXT
    assert shown["by_raising_agency"][world.health.name] == 16
    assert shown["disclosure"]["withheld"] == WITHHELD_SYMBOL and "[c]" in shown["disclosure"]["key"]


def test_the_executives_pdg_page_and_csv_are_true_cell_by_cell(client, world, year_2025):
    period = {
        "start-day": 1,
        "start-month": 4,
        "start-year": 2025,
        "end-day": 31,
        "end-month": 3,
        "end-year": 2026,
    }

    def page(person):
        sign_in(client, person)
        response = client.get("/reports/pdg/", period)
        rows = client.get("/reports/pdg.csv", period).content.decode()
        client.logout()
        return response, list(csv.reader(io.StringIO(rows)))

    full_page, full_csv = page(world.pdg_member)
    shown_page, shown_csv = page(world.executive)
    full_tables, shown_tables = full_page.context["tables"], shown_page.context["tables"]
    smalls = 0
    for (title, full_rows, _k), (_t, shown_rows, _k2) in zip(
        full_tables["sections"], shown_tables["sections"], strict=True
    ):
        for (label, full_value, _d), (_l, shown_value, _d2) in zip(full_rows, shown_rows, strict=True):
            smalls += check_cell(shown_value, full_value, f"{title}: {label}") == "small"
    for t_full, t_shown in zip(full_tables["trend"], shown_tables["trend"], strict=True):
        for key in ("raised", "formal", "resolved"):
            smalls += check_cell(t_shown[key], t_full[key], f"trend {t_full['start']} {key}") == "small"
    for cell, value in shown_tables["matrix"].items():
        check_cell(value, full_tables["matrix"][cell], f"matrix {cell}")
    assert smalls > 0
    # (The matrix is a grid, whose cells were checked one by one above.)
    html = re.sub(
        r"Who raised escalations with whom.*?</table>", " ", shown_page.content.decode(), flags=re.S
    )
    html = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    small_labels = {
        label for _t, rows, _k in full_tables["sections"] for label, value, _d in rows if 1 <= value <= 4
    }
    if 1 <= full_tables["iru_total"] <= 4:
        small_labels.add("reviews:")  # the IRU's section: "… and children-in-care reviews: fewer than 5"
    # The IRU's stages and the learning count, each against the full figure.
    for (label, f), (_l, v) in zip(full_tables["iru_stages"], shown_tables["iru_stages"], strict=True):
        if check_cell(v, f, f"IRU {label}") == "small":
            small_labels.add(f"{label}:")
    if check_cell(shown_tables["learning_total"], full_tables["learning_total"], "learning") == "small":
        small_labels.add("for the partnership:")
    for at in (m.start() for m in re.finditer(SMALL_TEXT, html)):
        before = html[max(0, at - 80) : at].rstrip()
        # after a figure's name, in the key, or in the trend's row of a period ("… 2026 12 fewer than 5")
        assert any(before.endswith(p) for p in [*small_labels, "shown as “"]) or re.search(
            r"\d{4}( fewer than 5| \d+| \[c\])*$", before
        ), f"…{before} {SMALL_TEXT}"
    assert WITHHELD_SYMBOL in html and "is not necessarily small" in html

    # The CSV: the same rows for both, but that the executive is told first which whole year it
    # covers, and reads the agency matrix grouped as the page shows it (one protected set a
    # year, decision 15); numbers as numbers; a hidden one empty, with a note.
    assert shown_csv[0] == full_csv[0] == ["section", "item", "count", "note", "counts"]
    assert shown_csv[1][0] == "Period" and shown_csv[1][2] == ""
    matrix = "Raised by → with"
    shown_rows = [r for r in shown_csv[2:] if r[0] != matrix]
    full_rows = [r for r in full_csv[1:] if r[0] != matrix]
    assert [r[:2] for r in shown_rows] == [r[:2] for r in full_rows]
    full_matrix = {r[1]: int(r[2]) for r in full_csv[1:] if r[0] == matrix}
    for row in (r for r in shown_csv[2:] if r[0] == matrix):
        if row[1] in full_matrix and row[2] != "":  # a pair shown as itself: its own count
            assert int(row[2]) == full_matrix[row[1]], row
    for full_row, shown_row in zip(full_rows, shown_rows, strict=True):
        full_value = int(full_row[2])
        if shown_row[2] == "":
            assert shown_row[3].startswith((SMALL_TEXT, WITHHELD_SYMBOL)), shown_row
            check_cell(
                SMALL_TEXT if shown_row[3].startswith(SMALL_TEXT) else WITHHELD_SYMBOL, full_value, shown_row
            )
        else:
            assert int(shown_row[2]) == full_value and shown_row[3] == "", shown_row


def test_the_annual_report_is_true_in_every_form(client, world, year_2025):
    shown = annual_tables(world.partnership, year_2025)
    full = annual_tables(world.partnership, year_2025, full=True)
    expected_smalls = 0
    for (key, title, full_rows), (_k, _t, shown_rows) in zip(full["tables"], shown["tables"], strict=True):
        assert [r[0] for r in shown_rows] == [r[0] for r in full_rows], key
        for (label, full_value), (_l, shown_value) in zip(full_rows, shown_rows, strict=True):
            expected_smalls += check_cell(shown_value, full_value, f"{title}: {label}") == "small"
    raising = dict(next(rows for key, _t, rows in shown["tables"] if key == "raising"))
    assert raising[world.social.name] == WITHHELD_SYMBOL  # 7: withheld, never "fewer than 5"
    sign_in(client, world.executive)

    # CSV and XLSX: the count column holds numbers only, a hidden cell empty with its note.
    rows = list(csv.reader(io.StringIO(client.get("/reports/annual.csv", {"year": 2025}).content.decode())))
    assert rows[0] == ["table", "item", "count", "note", "counts"]
    small_notes = sum(1 for r in rows[1:] if r[2] == "" and r[3].startswith(SMALL_TEXT))
    assert all(r[2] == "" or r[2].lstrip("-").replace(".", "", 1).isdigit() for r in rows[1:])
    book = load_workbook(io.BytesIO(client.get("/reports/annual.xlsx", {"year": 2025}).content))
    counts = [row[2] for row in book["Figures"].iter_rows(min_row=2, values_only=True)]
    assert all(value is None or isinstance(value, int | float) for value in counts)
    stage_smalls = sum(1 for _stage, completed, _m, _w in shown["timeliness"] if completed == SMALL_TEXT)
    # The grids: the agency matrix, the comparison with earlier years, the IRU's stages and
    # the count of resolutions that recorded learning, each cell against the full figure.
    grid_smalls = 0
    for (raiser, full_cells), (_r, shown_cells) in zip(full["matrix"], shown["matrix"], strict=True):
        for receiver, f, v in zip(full["matrix_agencies"], full_cells, shown_cells, strict=True):
            grid_smalls += check_cell(v, f, f"matrix {raiser} → {receiver}") == "small"
    for (y, full_year), (_y, shown_year) in zip(full["compared"], shown["compared"], strict=True):
        assert (full_year is None) == (shown_year is None), y
        for name in ("raised", "case", "theme", "formal", "resolved"):
            if full_year is not None:
                grid_smalls += check_cell(shown_year[name], full_year[name], f"{y} {name}") == "small"
    for (label, f), (_l, v) in zip(full["iru_by_stage"], shown["iru_by_stage"], strict=True):
        grid_smalls += check_cell(v, f, f"IRU {label}") == "small"
    grid_smalls += check_cell(shown["learning_total"], full["learning_total"], "learning") == "small"
    assert small_notes == expected_smalls + stage_smalls + grid_smalls + (shown["total"] == SMALL_TEXT)

    # The page and the PDF say "fewer than 5" only of a figure that is from 1 to 4: each time
    # it follows the name of such a figure, or it is the key explaining the symbols.
    small_labels = {label for _k, _t, rows in full["tables"] for label, value in rows if 1 <= value <= 4} | {
        stage for stage, completed, _m, _w in full["timeliness"] if 1 <= completed <= 4
    }
    allowed = [*small_labels, "shown as “", "<5:"]
    if 1 <= full["iru_total"] <= 4:
        allowed.append("reviews:")
    html = client.get("/reports/annual/", {"year": 2025}).content.decode()
    pdf = client.get("/reports/annual.pdf", {"year": 2025})
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    for name, text in (("page", re.sub(r"<[^>]+>", " ", html)), ("PDF", pdf_text)):
        text = " ".join(unescape(text).split())
        # (The grids were checked cell by cell above: their cells follow other cells, not labels.)
        text = re.sub(r"Compared with the two previous years.*?Stage reached", " ", text)
        text = re.sub(r"Who raised escalations with whom.*?Timeliness", " ", text)
        found = [m.start() for m in re.finditer(SMALL_TEXT, text)]
        assert len(found) >= small_notes - grid_smalls, name  # every small cell is said to be small
        for at in found:
            before = text[max(0, at - 80) : at].rstrip()
            assert any(before.endswith(phrase.rstrip()) for phrase in allowed), (
                f"{name}: …{before} {SMALL_TEXT}"
            )
        assert WITHHELD_SYMBOL in text, name


def test_months_not_yet_reached_are_absent_not_zero(world):
    world.raised()  # today, 1 December 2026: the reporting year runs to March 2027
    months = dict(
        next(rows for key, _t, rows in annual_tables(world.partnership, 2026)["tables"] if key == "months")
    )
    assert "Dec 2026" in months and "Jan 2027" not in months and "Mar 2027" not in months


def test_one_function_words_every_hidden_count():
    """No page, download or answer words a hidden count itself: only ``reports.disclosure``."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [*root.rglob("*.py"), *root.rglob("*.html")]:
        if "tests" in path.parts or path.name == "disclosure.py" or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        found += [
            f"{path.relative_to(root)}" for _ in re.finditer(r"fewer than (5|%\(n\)s|\{)|&lt;5|\"<5", text)
        ]
    assert found == []


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.tuples(st.sampled_from("ABCDE"), st.sampled_from("VWXYZ")), st.integers(min_value=0, max_value=30)
    )
)
def test_no_hidden_cell_of_the_matrix_can_be_worked_out_from_its_row_or_column(cells):
    """In the agency matrix, a row or a column never holds exactly one hidden cell beside
    another count above 0 (its total, shown in the raising or receiving table, would give it
    away); each hidden cell says truly what it is."""
    from accord.reports.disclosure import suppress_table

    shown = suppress_table(cells, 5)
    for key, value in shown.items():
        check_cell(value, cells[key], str(key))
    for axis in (0, 1):
        for line in {key[axis] for key in cells}:
            members = [k for k in cells if k[axis] == line]
            hidden = [k for k in members if isinstance(shown[k], Hidden)]
            others = [k for k in members if k not in hidden and cells[k] > 0]
            assert len(hidden) != 1 or not others, (line, shown)


def test_a_matrix_row_with_one_small_cell_withholds_the_next_smallest_in_its_row():
    from accord.reports.disclosure import suppress_table

    shown = suppress_table({("A", "X"): 3, ("A", "Y"): 9, ("A", "Z"): 20, ("B", "X"): 12, ("B", "Y"): 30}, 5)
    assert shown[("A", "X")] == SMALL_TEXT
    assert shown[("A", "Y")] == WITHHELD_SYMBOL  # row A; and column X then needs B→X withheld too
    assert shown[("B", "X")] == WITHHELD_SYMBOL
    assert shown[("A", "Z")] == 20
