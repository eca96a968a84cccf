"""Price bars in and out through django-import-export's admin pages, in headless Chromium."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from core.models import PriceBar, Symbol
from tests.e2e.conftest import TICKER

pytestmark = [
    pytest.mark.e2e,
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]

BARS_CSV = (
    "symbol,date,open,high,low,close,volume\n"
    "ACME,2024-06-03,10.00,10.50,9.80,10.20,1000\n"
    "ACME,2024-06-04,10.20,10.40,9.90,10.10,1100\n"
    "ACME,2024-06-05,10.10,9.00,11.00,10.00,1200\n"  # high below low
)


def test_import_with_a_bad_row_shows_the_error_and_writes_nothing(
    admin_page: Page, url, tmp_path
):
    Symbol.objects.create(ticker=TICKER)
    csv_file = tmp_path / "bars.csv"
    csv_file.write_text(BARS_CSV)
    page = admin_page

    page.goto(url("/admin/core/pricebar/"))
    page.get_by_role("link", name="Import").click()
    page.get_by_label("File to import").set_input_files(csv_file)
    page.get_by_label("Format").select_option(label="csv")
    page.get_by_role("button", name="Submit").click()

    expect(page.get_by_text("so nothing was stored")).to_be_visible()
    # The spreadsheet's row 4 (the header is row 1), in words, naming the day.
    expect(
        page.get_by_text(re.compile(r"Row 4 \(ACME 2024-06-05\): .*low"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="Confirm import")).to_have_count(0)
    assert PriceBar.objects.count() == 0


def test_export_price_bars_as_xlsx(admin_page: Page, url, acme):
    bars = PriceBar.objects.filter(symbol=acme).count()
    page = admin_page

    page.goto(url("/admin/core/pricebar/"))
    page.get_by_role("link", name="Export").click()
    page.get_by_label("Format").select_option(label="xlsx")
    with page.expect_download() as info:
        page.get_by_role("button", name="Submit").click()
    download = info.value

    assert download.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(download.path().read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("symbol", "date", "open")
    assert len(rows) == bars + 1
    assert {row[0] for row in rows[1:]} == {TICKER}
    newest = PriceBar.objects.order_by("-date").first()
    assert str(newest.date) in {str(row[1])[:10] for row in rows[1:]}
