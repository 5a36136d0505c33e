"""An uploaded spreadsheet is refused in plain words as soon as it is seen to be too long, never
read to its end: a workbook of millions of rows in a megabyte or two, one that says it has
millions, one whose parts unzip to gigabytes, and a CSV of millions of lines alike."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from openpyxl.worksheet._reader import WorkSheetParser

from accord.core.spreadsheets import MOST_ROWS, SpreadsheetError, read_table
from accord.testing.auth import sign_in

MOST_BYTES = 5 * 1024 * 1024

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="People" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)
SHORT_ROW = '<row><c t="n"><v>1</v></c></row>'
ROW = '<row><c t="inlineStr"><is><t>Ann Example</t></is></c><c t="inlineStr"><is><t>a@example.org</t></is></c></row>'


def workbook(
    rows: int, *, row: str = ROW, dimension: str = "", extra: dict[str, bytes] | None = None
) -> bytes:
    """A workbook written as its XML directly (openpyxl would take minutes to write millions of
    rows): ``rows`` identical rows, and the sheet's declared size if given."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + "<sheetData>"
        + row * rows
        + "</sheetData></worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def rows_parsed(monkeypatch):
    """How many of the sheet's rows openpyxl parsed."""
    parsed = [0]
    parse_row = WorkSheetParser.parse_row

    def counting(self, element):
        parsed[0] += 1
        return parse_row(self, element)

    monkeypatch.setattr(WorkSheetParser, "parse_row", counting)
    return parsed


@pytest.mark.once_on_sqlite  # (a file read, no database: decision 16)
@pytest.mark.parametrize(
    ("row", "refusal", "most_parsed"),
    [
        (SHORT_ROW, "unpacks to more than 50 MB", 0),
        ("<row/>", f"more than {MOST_ROWS} rows", 2 * MOST_ROWS + 2),
    ],
    ids=["unpacks-too-large", "small-enough-unpacked"],
)
def test_a_workbook_of_two_million_rows_in_a_megabyte_or_two_is_refused_unread(
    rows_parsed, row, refusal, most_parsed
):
    content = workbook(2_000_000, row=row)
    assert len(content) < 2 * 1024 * 1024  # as small as the one that held a worker to its timeout
    with pytest.raises(SpreadsheetError, match=refusal):
        read_table(content, "people.xlsx", most_bytes=MOST_BYTES)
    assert rows_parsed[0] <= most_parsed


def test_a_long_sheet_is_refused_once_its_limit_is_passed_not_at_its_end(rows_parsed):
    content = workbook(100_000)  # under the unzipped bound: the rows themselves are counted
    with pytest.raises(SpreadsheetError, match=f"more than {MOST_ROWS} rows"):
        read_table(content, "people.xlsx", most_bytes=MOST_BYTES)
    assert 0 < rows_parsed[0] <= MOST_ROWS + 2  # the header, the rows allowed, and one more


def test_a_sheet_that_says_it_is_long_is_refused_before_a_row_is_read(rows_parsed):
    content = workbook(3, dimension="A1:B2000000")
    with pytest.raises(SpreadsheetError, match=f"more than {MOST_ROWS} rows"):
        read_table(content, "people.xlsx", most_bytes=MOST_BYTES)
    assert rows_parsed[0] == 0


def test_empty_rows_count_towards_the_sheets_length(rows_parsed):
    """A cell a million rows down makes openpyxl give every empty row above it: reading stops."""
    sheet_end = '<row r="1000000"><c t="inlineStr"><is><t>x</t></is></c></row>'
    content = workbook(2)  # two rows, then one far below them
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as archive:
        for part in source.infolist():
            data = source.read(part)
            if part.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", sheet_end.encode() + b"</sheetData>")
            archive.writestr(part, data)
    with pytest.raises(SpreadsheetError, match="more than 10 rows"):
        read_table(buffer.getvalue(), "people.xlsx", most_bytes=MOST_BYTES, most_rows=10)
    assert rows_parsed[0] <= 3


def test_a_zip_bomb_is_refused_before_it_is_unzipped(rows_parsed, monkeypatch):
    import openpyxl

    monkeypatch.setattr(openpyxl, "load_workbook", lambda *a, **k: pytest.fail("the workbook was opened"))
    content = workbook(2, extra={"xl/media/padding.bin": b"\0" * (60 * 1024 * 1024)})
    assert len(content) < 200 * 1024
    with pytest.raises(SpreadsheetError, match="unpacks to more than 50 MB"):
        read_table(content, "people.xlsx", most_bytes=MOST_BYTES)
    assert rows_parsed[0] == 0


def test_up_to_the_limit_is_read_and_one_more_row_is_refused():
    def book(people: int) -> bytes:
        made = Workbook()
        made.active.append(["name", "email"])
        for n in range(people):
            made.active.append([f"Person {n}", f"p{n}@example.org"])
        buffer = io.BytesIO()
        made.save(buffer)
        return buffer.getvalue()

    head, body = read_table(book(10), "people.xlsx", most_bytes=MOST_BYTES, most_rows=10)
    assert head == ["name", "email"] and len(body) == 10 and body[-1] == ["Person 9", "p9@example.org"]
    with pytest.raises(SpreadsheetError, match="more than 10 rows"):
        read_table(book(11), "people.xlsx", most_bytes=MOST_BYTES, most_rows=10)
    csv_head, csv_body = read_table(
        b"name,email\n" + b"A,a@example.org\n" * 10, "people.csv", most_bytes=MOST_BYTES, most_rows=10
    )
    assert csv_head == ["name", "email"] and len(csv_body) == 10
    with pytest.raises(SpreadsheetError, match="more than 10 rows"):
        read_table(
            b"name,email\n" + b"A,a@example.org\n" * 11, "people.csv", most_bytes=MOST_BYTES, most_rows=10
        )


def test_a_csv_of_millions_of_lines_is_refused_once_its_limit_is_passed(monkeypatch):
    """Empty lines count towards the length too (the csv reader gives each one)."""
    import accord.core.spreadsheets as spreadsheets

    cells = [0]
    cell = spreadsheets._cell

    def counting(value):
        cells[0] += 1
        return cell(value)

    monkeypatch.setattr(spreadsheets, "_cell", counting)
    with pytest.raises(SpreadsheetError, match=f"more than {MOST_ROWS} rows"):
        read_table(b"name,email\n" + b"\n" * 4_000_000, "people.csv", most_bytes=MOST_BYTES)
    assert cells[0] <= 2  # the header's two cells: the empty lines have none
    cells[0] = 0
    with pytest.raises(SpreadsheetError, match=f"more than {MOST_ROWS} rows"):
        read_table(b"name,email\n" + b"A,a@x.org\n" * 400_000, "people.csv", most_bytes=MOST_BYTES)
    assert cells[0] <= 2 * (MOST_ROWS + 2)


@pytest.mark.django_db
def test_the_imports_pages_refuse_the_long_workbook_in_plain_words(client, world):
    sign_in(client, world.admin)
    content = workbook(2_000_000, row=SHORT_ROW)
    people = client.post(
        "/business-unit/people/import/", {"file": SimpleUploadedFile("people.xlsx", content)}
    )
    assert people.status_code == 200
    assert "unpacks to more than 50 MB" in people.content.decode()
    long = workbook(20_000)
    people = client.post("/business-unit/people/import/", {"file": SimpleUploadedFile("people.xlsx", long)})
    assert people.status_code == 200 and f"more than {MOST_ROWS} rows" in people.content.decode()
    log = client.post(
        "/business-unit/escalations/import/", {"step": "upload", "file": SimpleUploadedFile("log.xlsx", long)}
    )
    assert log.status_code == 200 and f"more than {MOST_ROWS} rows" in log.content.decode()
