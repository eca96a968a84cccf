"""Exported cells that a spreadsheet would run as a formula are written as text."""

from __future__ import annotations

import re
from typing import Any

import tablib
from openpyxl.cell.rich_text import CellRichText

# What Excel, LibreOffice and Google Sheets evaluate at the start of a CSV cell
# (OWASP, "CSV Injection").
CSV_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _csv_cell(value: Any) -> Any:
    if (
        isinstance(value, str)
        and value.startswith(CSV_FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        # The apostrophe makes the cell text; a number such as -1.5 stays a number.
        return f"'{value}"
    return value


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 1 and value.startswith("="):
        # openpyxl writes any other string starting with "=" as a formula; rich text
        # is written as a string, so the cell shows exactly the text stored.
        return CellRichText(value)
    return value


def formulae_neutralised(
    dataset: tablib.Dataset, *, native_types: bool
) -> tablib.Dataset:
    """The export with every formula-looking text cell made inert, nothing else changed.

    native_types is what django-import-export passes for XLSX (cells keep their
    numbers and dates); otherwise every cell is text, as in CSV.
    """
    cell = _xlsx_cell if native_types else _csv_cell
    return tablib.Dataset(
        *([cell(value) for value in row] for row in dataset),
        headers=dataset.headers,
        title=dataset.title,
    )
