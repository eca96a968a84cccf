"""Price bar import (CSV/XLSX) with a dry-run preview; a file with a bad row writes nothing."""

from __future__ import annotations

import html
import io
import re
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.models import PriceBar
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

GOOD = (
    "symbol,date,open,high,low,close,volume\r\n"
    "ibm,2024-06-03,166.54,166.78,163.53,165.28,2776405\r\n"
    "IBM,2024-06-04,165.95,168.72,165.63,168.23,3540178\r\n"
)
BAD_ROWS = {
    "bad date": (
        "IBM,2024-13-40,1,2,1,1,10\r\n",
        "Row 4: date '2024-13-40' is not a valid YYYY-MM-DD date.",
    ),
    "high below low": (
        "IBM,2024-06-05,10,9,11,10,10\r\n",
        "Row 4 (IBM 2024-06-05): low 11 is above open 10 and close 10; "
        "high 9 is below open 10 and close 10.",
    ),
    "unknown symbol": (
        "NOPE,2024-06-05,10,11,9,10,10\r\n",
        "Row 4: symbol NOPE is not in StockDesk; add it first",
    ),
}


def upload(admin_client, content: bytes, name: str, file_format: int):
    url = reverse("admin:core_pricebar_import")
    return admin_client.post(
        url,
        {
            "resource": 0,
            "format": file_format,
            "import_file": SimpleUploadedFile(name, content),
        },
    )


def confirm(admin_client, preview):
    """Post the preview page's confirm form back, as the Confirm button does."""
    page = preview.content.decode()
    fields = dict(re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page))
    url = reverse("admin:core_pricebar_process_import")
    data = {
        k: v
        for k, v in fields.items()
        if k
        in {
            "import_file_name",
            "original_file_name",
            "format",
            "resource",
            "csrfmiddlewaretoken",
        }
    }
    return admin_client.post(url, data, follow=True)


def test_a_good_csv_is_previewed_then_imported(admin_client):
    make_symbol("IBM")
    preview = upload(admin_client, GOOD.encode(), "bars.csv", 0)

    assert preview.status_code == 200
    assert "Confirm import" in preview.content.decode()
    assert PriceBar.objects.count() == 0  # a dry run writes nothing

    done = confirm(admin_client, preview)
    assert done.status_code == 200
    bars = list(
        PriceBar.objects.order_by("date").values_list("date", "close", "source")
    )
    assert len(bars) == 2
    assert str(bars[1][1]) == "168.2300" and bars[0][2] == "import"


def test_an_import_stores_the_symbols_figures_once_confirmed(admin_client):
    symbol = make_symbol("IBM")
    preview = upload(admin_client, GOOD.encode(), "bars.csv", 0)
    symbol.refresh_from_db()
    assert symbol.bar_count == 0  # the preview's writes were rolled back

    confirm(admin_client, preview)

    symbol.refresh_from_db()
    assert (symbol.bar_count, symbol.first_bar_date, symbol.last_bar_date) == (
        2,
        date(2024, 6, 3),
        date(2024, 6, 4),
    )
    assert symbol.last_close == Decimal("168.23") and symbol.source_count == 1


@pytest.mark.parametrize("problem", list(BAD_ROWS))
def test_one_bad_row_is_shown_and_nothing_is_written(admin_client, problem):
    make_symbol("IBM")
    row, message = BAD_ROWS[problem]
    preview = upload(admin_client, (GOOD + row).encode(), "bars.csv", 0)

    page = html.unescape(html.unescape(preview.content.decode()))
    assert preview.status_code == 200
    assert "Confirm import" not in page
    assert message in page
    assert PriceBar.objects.count() == 0


def test_an_xlsx_file_imports_too(admin_client):
    make_symbol("IBM")
    book = openpyxl.Workbook()
    sheet = book.active
    for line in GOOD.strip().split("\r\n"):
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)

    preview = upload(admin_client, buffer.getvalue(), "bars.xlsx", 1)

    assert "Confirm import" in preview.content.decode()
    confirm(admin_client, preview)
    assert PriceBar.objects.count() == 2
