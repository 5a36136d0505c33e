"""Reading a spreadsheet someone uploads: CSV (UTF-8, with or without a byte order mark) by
the standard library's csv, or XLSX (its first sheet) by openpyxl, as a header row and the
rows under it. The people import and the old escalation log's import both read through it,
so a file is refused in the same plain words whichever it is."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable, Sequence

from django.utils.translation import gettext as _


class SpreadsheetError(ValueError):
    """The file as a whole cannot be read (not CSV or XLSX, empty, too large)."""


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        # A date typed into Excel comes as a datetime at midnight: the date is what was meant.
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a stage typed as 3 comes back as 3.0
    return str(value).strip()


# The most rows an import takes (the people import's and the earlier log's limit), and the
# most a sheet may hold at all, empty rows counted: reading stops there, whatever the file
# says of itself, so a small file cannot hold a worker by declaring or repeating millions of
# rows. The most columns read of a row, likewise.
MOST_ROWS = 5000
MOST_COLUMNS = 200
# An XLSX is a zip: what its parts come to unzipped is bounded before any is read (a zip
# bomb of a few kilobytes can unzip to gigabytes). Python's zipfile never gives more than a
# part's declared size, so the declared sizes bound what is read.
MOST_UNZIPPED_BYTES = 50 * 1024 * 1024
MOST_PARTS = 500


def _too_many_rows(most_rows: int) -> SpreadsheetError:
    return SpreadsheetError(_("The file has more than %(n)s rows: split it.") % {"n": most_rows})


def _bounded_rows(rows: Iterable[Sequence], most_rows: int) -> list[list[str]]:
    """The rows as trimmed strings, stopping (refused) once more than ``most_rows`` rows under
    the header have something in them, or the sheet runs on, empty rows and all, past twice
    that: never more rows are read than that. Empty cells at a row's end are left off."""
    cells: list[list[str]] = []
    filled = 0
    for read, row in enumerate(rows, start=1):
        if read > 2 * most_rows + 1:
            raise _too_many_rows(most_rows)
        values = [_cell(v) for v in row[:MOST_COLUMNS]]
        while values and not values[-1]:
            values.pop()
        if any(values):
            filled += 1
            if filled > most_rows + 1:  # (the header, and the rows under it)
                raise _too_many_rows(most_rows)
        cells.append(values)
    return cells


def _workbook_rows(content: bytes, most_rows: int) -> list[list[str]]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SpreadsheetError(_("The file could not be read as an Excel workbook (XLSX).")) from exc
    if len(parts) > MOST_PARTS or sum(part.file_size for part in parts) > MOST_UNZIPPED_BYTES:
        raise SpreadsheetError(
            _("The workbook unpacks to more than %(mb)s MB: keep only the sheet to import, and split it.")
            % {"mb": MOST_UNZIPPED_BYTES // (1024 * 1024)}
        )
    from openpyxl import load_workbook  # (openpyxl is a few megabytes: only when a workbook comes)

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        # The sheet's own account of its size, where it gives one, refuses a long sheet at once.
        declared = sheet.max_row if isinstance(sheet.max_row, int) else 0
        if declared > 2 * most_rows + 1:
            raise _too_many_rows(most_rows)
        width = min(sheet.max_column if isinstance(sheet.max_column, int) else MOST_COLUMNS, MOST_COLUMNS)
        return _bounded_rows(
            sheet.iter_rows(max_row=2 * most_rows + 2, max_col=width, values_only=True), most_rows
        )
    except SpreadsheetError:
        raise
    except Exception as exc:
        raise SpreadsheetError(_("The file could not be read as an Excel workbook (XLSX).")) from exc


def read_table(
    content: bytes, filename: str, *, most_bytes: int, most_rows: int = MOST_ROWS
) -> tuple[list[str], list[list[str]]]:
    """The file's first non-empty row (its header, as written) and the rows below it, each a
    list of trimmed strings; wholly empty rows are left out. Dates in a workbook come as
    ``YYYY-MM-DD``. A file of more than ``most_rows`` rows under its header is refused as
    soon as that is seen (``_bounded_rows``), never read to its end."""
    if len(content) > most_bytes:
        raise SpreadsheetError(
            _("The file is larger than %(mb)s MB: split it into smaller files.")
            % {"mb": most_bytes // (1024 * 1024)}
        )
    if filename.lower().endswith(".xlsx"):
        cells = _workbook_rows(content, most_rows)
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(
                _("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
            ) from exc
        try:
            cells = _bounded_rows(csv.reader(io.StringIO(text)), most_rows)
        except csv.Error as exc:
            raise SpreadsheetError(
                _("The file could not be read as CSV: %(problem)s") % {"problem": exc}
            ) from exc
    if any("\x00" in value for row in cells for value in row):
        raise SpreadsheetError(
            _("The file holds a NUL character, which no name or address may: save it again as CSV or XLSX.")
        )
    cells = [row for row in cells if any(row)]
    if not cells:
        raise SpreadsheetError(_("The file is empty."))
    return cells[0], cells[1:]
