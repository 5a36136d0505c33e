"""Writing spreadsheets people download: every cell neutralised against formula execution.

A spreadsheet program runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a
formula (and a leading tab or carriage return can hide one), so text that a user typed
(an agency's or a theme's name, a username) could run in the reader's program. Every CSV
and XLSX that Accord writes goes through ``safe_cell``: such text gains a leading
apostrophe, which spreadsheet programs show as text. Numbers stay numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should store it: text that a spreadsheet would run as a
    formula is prefixed with an apostrophe; numbers, dates and empty cells pass unchanged."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if not isinstance(value, str):
        value = str(value)  # lazy translations, dates as text
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in row]


class SafeCsvWriter:
    """``csv.writer`` whose every row is neutralised first."""

    def __init__(self, stream: Any) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(safe_row(row))


def xlsx_append(sheet: Any, row: Iterable[Any]) -> None:
    """Appends a neutralised row to an openpyxl worksheet, each text cell stored as text
    (openpyxl would otherwise store a string beginning with ``=`` as a live formula)."""
    sheet.append(safe_row(row))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def xlsx_append_stream(sheet: Any, row: Iterable[Any]) -> None:
    """As ``xlsx_append``, for a write-only worksheet (a download too long to hold twice)."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in safe_row(row):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    sheet.append(cells)
