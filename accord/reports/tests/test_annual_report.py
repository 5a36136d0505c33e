"""The annual report: HTML, PDF (text extracted), CSV and XLSX, with no child's details anywhere."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from accord.audit.models import AuditEvent, Verb
from accord.audit.services import chain_pending_reads
from accord.escalations import services
from accord.reports.annual import reporting_year
from accord.testing.auth import sign_in

pytestmark = pytest.mark.django_db
CHILD = "Hermione Featherstonehaugh"


@pytest.fixture
def year_of_escalations(world):
    for month in (4, 5, 6):
        world.raised(
            at=timezone.make_aware(dt.datetime(2025, month, 10, 10)),
            children=[services.ChildDetails(name=CHILD, agency_reference="HF-1")],
        )
    for _ in range(6):
        world.raised(
            at=timezone.make_aware(dt.datetime(2025, 9, 2, 10)),
            raiser=world.practitioner_social,
            with_agency=world.health,
            with_practitioner_username="",
        )
    return 2025


def test_the_reporting_year_runs_april_to_march(world):
    period = reporting_year(world.partnership, 2025)
    assert (period.start, period.end) == (dt.date(2025, 4, 1), dt.date(2026, 3, 31))


def test_annual_report_html_pdf_and_downloads_hold_no_child_details(client, world, year_of_escalations):
    sign_in(client, world.executive)
    html = client.get("/reports/annual/", {"year": 2025}).content.decode()
    assert "Annual report to the Partnership Executive Group, 2025" in html
    assert "<strong>9</strong>" in html and "fewer than 5" in html and "<svg" in html
    assert CHILD not in html and "HF-1" not in html and "TST-" not in html

    pdf = client.get("/reports/annual.pdf", {"year": 2025})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    text = " ".join(text.split())  # headings may wrap, depending on the fonts installed
    for heading in (
        "Annual report to the Partnership Executive Group",
        "Stage reached",
        "Outcomes",
        "Timeliness",
        "Agencies with little or no challenge",
    ):
        assert heading in text, heading
    assert CHILD not in text and "TST-" not in text

    csv_body = client.get("/reports/annual.csv", {"year": 2025}).content.decode()
    assert "fewer than 5" in csv_body and CHILD not in csv_body
    book = load_workbook(io.BytesIO(client.get("/reports/annual.xlsx", {"year": 2025}).content))
    cells = " ".join(str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row)
    assert "Stage reached" in cells and CHILD not in cells
    chain_pending_reads()  # the reads recorded so far, into the trail
    assert AuditEvent.objects.filter(verb=Verb.REPORT_DOWNLOADED, actor=world.executive).count() == 3


def test_the_business_unit_writes_the_narrative(client, world, year_of_escalations):
    sign_in(client, world.admin)
    response = client.post(
        "/reports/annual/?year=2025",
        {
            "culture": "More challenge from schools.",
            "learning": "Talk early.",
            "next_year": "Train managers.",
        },
    )
    assert response.status_code == 302
    sign_in(client, world.executive)
    assert "More challenge from schools." in client.get("/reports/annual/", {"year": 2025}).content.decode()
    assert client.post("/reports/annual/?year=2025", {"culture": "x"}).status_code == 403
    entry = AuditEvent.objects.get(verb=Verb.NARRATIVE_CHANGED, payload__year=2025)
    assert (
        entry.payload["fields"] == ["culture", "learning", "next_year"] and entry.actor_id == world.admin.pk
    )


def test_only_the_business_unit_writes_the_narrative_whoever_calls(world, neighbour):
    from accord.core.errors import NotAllowed
    from accord.reports.services import annual_narrative_save

    for someone in (world.executive, world.pdg_chair, neighbour.admin):
        with pytest.raises(NotAllowed):
            annual_narrative_save(
                actor=someone, partnership=world.partnership, year=2025, text={"culture": "x"}
            )


def test_the_annual_report_pdf_is_tagged_for_screen_readers(client, world, year_of_escalations):
    """PDF/UA: a structure tree, marked content, the document's language and its title
    (what ``pdfinfo`` reports as "Tagged: yes")."""
    sign_in(client, world.executive)
    pdf = PdfReader(io.BytesIO(client.get("/reports/annual.pdf", {"year": 2025}).content))
    catalog = pdf.trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en-GB"
    assert "Annual report 2025" in (pdf.metadata.title or "")
    kinds, alts = set(), []

    def walk(node):
        node = node.get_object()
        if not hasattr(node, "get"):
            return
        if node.get("/S"):
            kinds.add(str(node["/S"]))
            if node["/S"] == "/Figure":
                alts.append(node.get("/Alt"))
        children = node.get("/K")
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child)

    walk(catalog["/StructTreeRoot"])
    assert {"/H1", "/H2", "/Table", "/TH", "/TD"} <= kinds, kinds
    assert kinds & {"/Figure"}, "the charts are figures"
    assert alts and all(alts), alts  # each chart has its text alternative (its title; its table follows)


def test_years_and_months_before_the_records_begin_are_no_record_not_zero(world):
    """Records begin in June 2025: the year 2023 and 2024 read "no record", the year 2025 is
    marked as only partly recorded, and its months start in June."""
    from accord.reports.annual import annual_tables

    for month in (6, 7):
        world.raised(at=timezone.make_aware(dt.datetime(2025, month, 10, 10)))
    data = annual_tables(world.partnership, 2025)
    compared = dict(data["compared"])
    assert compared[2023] is None and compared[2024] is None
    assert compared[2025]["raised"] == "fewer than 5"
    assert compared[2025]["partial"] is True
    months = [label for label, _n in next(rows for key, _t, rows in data["tables"] if key == "months")]
    assert months[0] == "Jun 2025" and "May 2025" not in months
    full = annual_tables(world.partnership, 2025, full=True)
    assert dict(full["compared"])[2025]["raised"] == 2


def test_the_annual_report_compares_with_the_two_previous_years_and_shows_the_matrix(client, world):
    from accord.reports.annual import annual_tables

    for year in (2023, 2024, 2025):
        for i in range(year - 2017):  # 6, 7 and 8 a year
            world.raised(at=timezone.make_aware(dt.datetime(year, 5, 1 + i, 10)))
    data = annual_tables(world.partnership, 2025)
    assert [(y, h["raised"]) for y, h in data["compared"]] == [(2023, 6), (2024, 7), (2025, 8)]
    assert dict(data["compared"])[2024]["partial"] is False
    matrix = {r: dict(zip(data["matrix_agencies"], cells, strict=True)) for r, cells in data["matrix"]}
    assert matrix[world.health.name][world.social.name] == 8
    sign_in(client, world.executive)
    html = client.get("/reports/annual/", {"year": 2025}).content.decode()
    assert "Compared with the two previous years" in html and "Who raised escalations with whom" in html
    rows = client.get("/reports/annual.csv", {"year": 2025}).content.decode()
    assert "2023: Raised,6" in rows and f"{world.health.name} → {world.social.name},8" in rows
