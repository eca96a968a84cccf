"""The price import names every bad row in words in one answer, stores nothing then,
and warns in the preview about closed days and jumps, storing them once confirmed."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import CorporateAction, PriceBar
from core.sessions import last_completed_session
from tests.admin_ui.test_price_import import upload
from tests.factories import make_bars, make_symbol

pytestmark = pytest.mark.django_db

HEADER = "symbol,date,open,high,low,close,volume\r\n"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def listed(response, list_id: str) -> list[str]:
    """The sentences of the page's problem or warning list, as a reader sees them."""
    page = response.content.decode()
    found = re.search(rf'<ul[^>]*id="{list_id}">(.*?)</ul>', page, re.S)
    if found is None:
        return []
    items = re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    return [" ".join(html.unescape(item).split()) for item in items]


def preview(client, body: str):
    return upload(client, (HEADER + body).encode(), "bars.csv", 0)


def confirm(client, page, *, accept_warnings: bool = False):
    """Post the preview's confirm form as its button does (ticking the box or not)."""
    data = dict(HIDDEN_INPUT.findall(page.content.decode()))
    if accept_warnings:
        data["accept_warnings"] = "on"
    return client.post(reverse("admin:core_pricebar_process_import"), data, follow=True)


def stored_closes(ticker: str) -> dict[str, Decimal]:
    return {
        bar.date.isoformat(): bar.close
        for bar in PriceBar.objects.filter(symbol__ticker=ticker)
    }


def test_every_bad_row_is_named_in_words_in_one_answer_and_nothing_is_stored(
    admin_client,
):
    make_symbol("AAPL")
    body = (
        "AAPL,2024-02-29,99.5,101.0,99.0,100.4,1000\r\n"  # fine
        "ZZZZ,2024-03-01,10,11,9,10,500\r\n"
        "aapl,2024-03-01,100.0,102.0,101.2,101.5,800\r\n"
        "AAPL,2024-03-04,101,103,100,abc,-5\r\n"
    )

    answer = preview(admin_client, body)

    assert answer.status_code == 200
    assert listed(answer, "price-import-problems") == [
        "Row 3: symbol ZZZZ is not in StockDesk; add it first (Symbols, or fetch its "
        "prices).",
        "Row 4 (AAPL 2024-03-01): low 101.2 is above open 100.0.",
        "Row 5 (AAPL 2024-03-04): close 'abc' is not a number; volume -5 is below "
        "zero.",
    ]
    page = " ".join(html.unescape(answer.content.decode()).split())
    assert "3 problems in the file, so nothing was stored." in page
    assert "Confirm import" not in page
    # No constraint names or Django's own wording reach the reader.
    assert "pricebar_" not in page and "matching query" not in page
    assert PriceBar.objects.count() == 0


def test_a_duplicate_row_is_a_problem(admin_client):
    make_symbol("AAPL")
    body = (
        "AAPL,2024-02-29,99.5,101.0,99.0,100.4,1000\r\n"
        "AAPL,2024-02-29,99.5,101.0,99.0,100.9,1000\r\n"
    )

    answer = preview(admin_client, body)

    assert listed(answer, "price-import-problems") == [
        "Row 3 (AAPL 2024-02-29): row 2 has AAPL 2024-02-29 too; keep one of them."
    ]
    assert PriceBar.objects.count() == 0


def test_a_bar_of_a_session_not_closed_yet_is_a_problem(admin_client):
    make_symbol("AAPL")
    last = last_completed_session(timezone.now())
    later = last + timedelta(days=7)

    answer = preview(admin_client, f"AAPL,{later},180,181,179,180.4,100\r\n")

    assert listed(answer, "price-import-problems") == [
        f"Row 2 (AAPL {later}): {later} is after {last}, the last session that has "
        "closed, so no final daily bar exists for it yet."
    ]


def test_a_missing_column_is_said_once(admin_client):
    make_symbol("AAPL")
    answer = upload(
        admin_client,
        b"symbol,date,open,high,low,close\r\nAAPL,2024-02-29,99.5,101,99,100.4\r\n",
        "bars.csv",
        0,
    )

    assert listed(answer, "price-import-problems") == [
        "The file has no volume column: a price import needs the columns "
        "symbol,date,open,high,low,close,volume (and may add source), named in its "
        "first row."
    ]


def test_a_jump_from_the_stored_bars_is_warned_in_the_preview_and_stored_once_confirmed(
    admin_client,
):
    aapl = make_symbol("AAPL")
    # Stored Mon 2024-02-26 .. Fri 2024-03-01, closing at 180.40 on the Friday.
    make_bars(aapl, start=date(2024, 2, 26), closes=[178.0, 179.1, 180.0, 179.5, 180.4])

    answer = preview(admin_client, "AAPL,2024-03-04,45.05,46.20,44.90,45.80,4000\r\n")

    assert listed(answer, "price-import-warnings") == [
        "Row 2 (AAPL 2024-03-04): the close falls 74.6 % from 180.40 on 2024-03-01 "
        "(stored) to 45.80 on 2024-03-04 (this row), more than 25 % between "
        "neighbouring bars; that is near a 4-for-1 split: if AAPL split on "
        "2024-03-04, record the split under Corporate actions."
    ]
    assert listed(answer, "price-import-problems") == []
    page = answer.content.decode()
    assert "Confirm import" in page
    # The browser will not send the confirmation without the box ticked.
    assert re.search(
        r'<input type="checkbox" name="accept_warnings"[^>]* required>', page
    )
    assert "2024-03-04" not in stored_closes("AAPL")

    done = confirm(admin_client, answer, accept_warnings=True)

    assert stored_closes("AAPL")["2024-03-04"] == Decimal("45.8000")
    shown = html.unescape(done.content.decode())
    assert "Import finished: 1 new" in shown
    assert "Stored with 1 confirmed warning." in shown


def test_warnings_not_confirmed_store_nothing(admin_client):
    aapl = make_symbol("AAPL")
    make_bars(aapl, start=date(2024, 3, 1), closes=[180.4])
    answer = preview(admin_client, "AAPL,2024-03-04,45.05,46.20,44.90,45.80,4000\r\n")

    refused = confirm(admin_client, answer, accept_warnings=False)

    assert list(stored_closes("AAPL")) == ["2024-03-01"]
    problems = listed(refused, "price-import-problems")
    assert problems == [
        "The file's 1 warning was not confirmed, so nothing was stored. Upload it "
        "again, check the warnings in the preview and tick the box above Confirm "
        "import."
    ]
    assert len(listed(refused, "price-import-warnings")) == 1


def test_a_jump_between_rows_of_the_file_is_warned(admin_client):
    make_symbol("MSFT")
    body = (
        "MSFT,2024-03-04,410.0,412.0,405.0,409.5,100\r\n"
        "MSFT,2024-03-05,409.0,411.0,290.0,295.1,100\r\n"
    )

    warnings = listed(preview(admin_client, body), "price-import-warnings")

    assert warnings == [
        "Row 3 (MSFT 2024-03-05): the close falls 27.9 % from 409.50 on 2024-03-04 "
        "(row 2) to 295.10 on 2024-03-05 (this row), more than 25 % between "
        "neighbouring bars."
    ]


def test_a_recorded_split_explains_the_jump(admin_client):
    aapl = make_symbol("AAPL")
    make_bars(aapl, start=date(2024, 3, 1), closes=[180.4])
    CorporateAction.objects.create(
        symbol=aapl,
        kind=CorporateAction.Kind.SPLIT,
        date=date(2024, 3, 4),
        split_factor=Decimal(4),
        source=CorporateAction.Source.IMPORT,
    )

    answer = preview(admin_client, "AAPL,2024-03-04,45.05,46.20,44.90,45.80,4000\r\n")

    assert listed(answer, "price-import-warnings") == []
    assert "Confirm import" in answer.content.decode()


def test_a_bar_on_a_saturday_is_warned(admin_client):
    make_symbol("AAPL")
    body = (
        "AAPL,2024-03-01,180.0,181.0,179.0,180.4,100\r\n"
        "AAPL,2024-03-02,180.5,181.0,179.8,180.6,100\r\n"
    )

    answer = preview(admin_client, body)

    assert listed(answer, "price-import-warnings") == [
        "Row 3 (AAPL 2024-03-02): 2024-03-02 is a Saturday: NYSE does not trade on "
        "weekends, so no daily bar falls on it."
    ]
    assert "Confirm import" in answer.content.decode()
    assert PriceBar.objects.count() == 0


def test_a_bar_on_a_holiday_is_warned(admin_client):
    make_symbol("AAPL")
    answer = preview(admin_client, "AAPL,2024-11-28,230,231,229,230.5,100\r\n")

    assert listed(answer, "price-import-warnings") == [
        "Row 2 (AAPL 2024-11-28): NYSE was closed on 2024-11-28 (a Thursday: a "
        "holiday or a special closure), so no daily bar falls on it."
    ]


def test_a_clean_file_has_no_warnings_and_no_box_to_tick(admin_client):
    aapl = make_symbol("AAPL")
    make_bars(aapl, start=date(2024, 2, 26), closes=[178.0, 179.1, 180.0, 179.5, 180.4])
    body = (
        "AAPL,2024-03-04,180.5,182.0,179.9,181.2,4000\r\n"
        "AAPL,2024-03-05,181.0,181.5,169.0,170.3,4000\r\n"  # -6 %: a bad day, no jump
    )

    answer = preview(admin_client, body)

    page = answer.content.decode()
    assert listed(answer, "price-import-warnings") == []
    assert listed(answer, "price-import-problems") == []
    assert 'id="price-import-warnings"' not in page
    assert 'name="accept_warnings"' not in page
    confirm(admin_client, answer)
    assert stored_closes("AAPL")["2024-03-05"] == Decimal("170.3000")


def test_a_row_that_fails_at_the_confirm_step_rolls_the_whole_file_back(admin_client):
    make_symbol("AAPL")
    gone = make_symbol("GONE")
    body = (
        "AAPL,2024-03-04,180.5,182.0,179.9,181.2,4000\r\n"
        "GONE,2024-03-04,10.0,10.5,9.5,10.2,4000\r\n"
    )
    answer = preview(admin_client, body)
    assert "Confirm import" in answer.content.decode()
    gone.delete()  # between the preview and the confirmation

    done = confirm(admin_client, answer)

    assert PriceBar.objects.count() == 0
    assert listed(done, "price-import-problems") == [
        "Row 3: symbol GONE is not in StockDesk; add it first (Symbols, or fetch its "
        "prices)."
    ]
    assert "Import finished" not in done.content.decode()
