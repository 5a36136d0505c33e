"""Reading a spreadsheet someone uploads: CSV (UTF-8, with or without a byte order mark) by
the standard library's csv, or XLSX (its first sheet) by openpyxl, as a header row and the
rows under it. The people import and the old escalation log's import both read through it,
so a file is refused in the same plain words whichever it is."""

from __future__ import annotations

import csv
import datetime as dt
import io

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


def read_table(content: bytes, filename: str, *, most_bytes: int) -> tuple[list[str], list[list[str]]]:
    """The file's first non-empty row (its header, as written) and the rows below it, each a
    list of trimmed strings; wholly empty rows are left out. Dates in a workbook come as
    ``YYYY-MM-DD``."""
    if len(content) > most_bytes:
        raise SpreadsheetError(
            _("The file is larger than %(mb)s MB: split it into smaller files.")
            % {"mb": most_bytes // (1024 * 1024)}
        )
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook  # (openpyxl is a few megabytes: only when a workbook comes)

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            cells = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:
            raise SpreadsheetError(_("The file could not be read as an Excel workbook (XLSX).")) from exc
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpreadsheetError(
                _("The file is not UTF-8 text: save it as “CSV UTF-8” and try again.")
            ) from exc
        try:
            cells = [[v.strip() for v in row] for row in csv.reader(io.StringIO(text))]
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
