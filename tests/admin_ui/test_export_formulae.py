"""CSV and XLSX exports carry formula-looking text as text, and nothing else changes."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
import tablib
from django.urls import reverse

from admin_ui.export_safety import formulae_neutralised
from tests.factories import make_symbol

HYPERLINK = '=HYPERLINK("http://x","y")'
NAMES = {
    "EVIL": HYPERLINK,
    "PLUS": "+1+2",
    "MINUS": "-2+3",
    "AT": "@SUM(A1)",
    "PLAIN": "Plain Corp",
}
FIELDS = ("ticker", "name", "exchange", "currency", "is_active", "last_fetched_at")


def export(admin_client, file_format: int, **extra):
    response = admin_client.post(
        reverse("admin:core_symbol_export"),
        {
            "format": file_format,
            "resource": 0,
            **{f"symbolresource_{field}": "on" for field in FIELDS},
            **extra,
        },
    )
    assert response.status_code == 200, response.content[:300]
    return response.content


@pytest.fixture
def symbols(db):
    return {ticker: make_symbol(ticker, name=name) for ticker, name in NAMES.items()}


def test_the_xlsx_export_has_the_name_as_text_not_a_formula(admin_client, symbols):
    content = export(admin_client, 1)

    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    name = rows["EVIL"][1]
    assert name.data_type == "s" and name.value == HYPERLINK
    assert {ticker: rows[ticker][1].value for ticker in NAMES} == NAMES
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")
    # Other cells keep their types: a boolean, an empty date.
    assert rows["EVIL"][4].value is True and rows["EVIL"][5].value is None


def test_the_csv_export_marks_formula_text_with_an_apostrophe(admin_client, symbols):
    content = export(admin_client, 0).decode("utf-8-sig")

    rows = {row["ticker"]: row for row in csv.DictReader(io.StringIO(content))}
    assert rows["EVIL"]["name"] == f"'{HYPERLINK}"
    assert rows["PLUS"]["name"] == "'+1+2"
    assert rows["MINUS"]["name"] == "'-2+3"
    assert rows["AT"]["name"] == "'@SUM(A1)"
    assert rows["PLAIN"]["name"] == "Plain Corp"


def test_the_export_action_on_selected_rows_is_neutralised_too(admin_client, symbols):
    content = export(admin_client, 0, export_items=[symbols["EVIL"].pk]).decode()
    assert f"'{HYPERLINK}".replace('"', '""') in content
    assert "PLAIN" not in content


@pytest.mark.parametrize(
    ("value", "csv_cell"),
    [
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("1e-3", "1e-3"),
        ("-", "'-"),
        ("\t=1+1", "'\t=1+1"),
        ("a=b", "a=b"),
        ("", ""),
        (None, None),
        (12, 12),
    ],
)
def test_numbers_stay_numbers_and_only_leading_triggers_are_marked(value, csv_cell):
    data = tablib.Dataset([value], headers=["cell"], title="t")

    assert formulae_neutralised(data, native_types=False)[0] == (csv_cell,)
    xlsx = formulae_neutralised(data, native_types=True)
    assert xlsx[0] == (value,)
    assert xlsx.title == "t" and xlsx.headers == ["cell"]
