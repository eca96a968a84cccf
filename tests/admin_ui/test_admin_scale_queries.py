"""The admin's lists and dashboard cost the same queries for 3 symbols or 30 (issue
16): their figures are read from Symbol, never aggregated from the bars per page; and
what the admin does to bars keeps those figures current."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import Symbol
from tests.admin_ui.conftest import csrf_token, post_action
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

SYMBOLS = reverse("admin:core_symbol_changelist")
BARS = reverse("admin:core_pricebar_changelist")
START = date(2024, 1, 1)
CLOSES = price_closes(30, volatility=0.01)


def add_symbols(first: int, last: int) -> None:
    for number in range(first, last):
        make_bars(make_symbol(f"S{number:03d}"), start=START, closes=CLOSES)


def queries_for(client, path: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path)
    assert page.status_code == 200, path
    return len(queries), page.content.decode()


def symbol_pages() -> list[str]:
    return [
        SYMBOLS,
        f"{SYMBOLS}?data_quality=problems",
        f"{SYMBOLS}?data_quality=ok",
        f"{SYMBOLS}?is_active__exact=1",
        f"{SYMBOLS}?q=S00",
    ]


def bar_pages() -> list[str]:
    first = Symbol.objects.order_by("ticker").first()
    assert first is not None
    return [
        BARS,
        f"{BARS}?symbol__id__exact={first.pk}",
        f"{BARS}?date_from=2024-01-08&date_to=2024-01-19",
        f"{BARS}?date__year=2024&date__month=1",
        f"{BARS}?q=S001",
        f"{BARS}?q=S001&source__exact=sample",
    ]


@pytest.mark.parametrize("pages", [symbol_pages, bar_pages], ids=["symbols", "bars"])
def test_the_lists_cost_the_same_queries_for_3_symbols_or_30(superuser_client, pages):
    add_symbols(0, 3)
    superuser_client.get(SYMBOLS)  # the session and permissions, cached
    few = {path: queries_for(superuser_client, path)[0] for path in pages()}
    add_symbols(3, 30)

    many = {path: queries_for(superuser_client, path)[0] for path in pages()}

    assert many == few


def test_the_dashboard_costs_the_same_queries_for_3_symbols_or_30(superuser_client):
    add_symbols(0, 3)
    superuser_client.get(reverse("admin:index"))
    few, _ = queries_for(superuser_client, reverse("admin:index"))
    add_symbols(3, 30)

    many, page = queries_for(superuser_client, reverse("admin:index"))

    assert many == few
    assert f"{30 * len(CLOSES):,}" in page  # the bars stored, summed from Symbol


def test_the_symbols_list_shows_the_stored_figures(superuser_client):
    add_symbols(0, 3)

    _, page = queries_for(superuser_client, f"{SYMBOLS}?q=S001")

    cells = re.findall(r'class="field-bars_stored[^"]*"[^>]*>\s*([^<]*)<', page)
    assert [cell.strip() for cell in cells] == [f"{len(CLOSES):,}"]


def test_a_search_for_a_ticker_lists_only_its_bars(superuser_client):
    add_symbols(0, 12)

    _, page = queries_for(superuser_client, f"{BARS}?q=s011")

    assert ">S011</" in page and ">S010</" not in page
    assert f"{len(CLOSES)} result" in page


def test_deleting_bars_in_the_admin_updates_the_symbols_figures(superuser_client):
    add_symbols(0, 2)
    symbol = Symbol.objects.get(ticker="S000")
    newest = list(symbol.bars.order_by("-date")[:2])

    post_action(
        superuser_client,
        BARS,
        "delete_selected",
        [bar.pk for bar in newest],
        post="yes",
    )

    symbol.refresh_from_db()
    assert symbol.bars.count() == len(CLOSES) - 2 == symbol.bar_count
    assert symbol.last_bar_date == symbol.bars.latest("date").date
    assert Symbol.objects.get(ticker="S001").bar_count == len(CLOSES)


def test_deleting_one_bar_from_its_page_updates_the_figures(superuser_client):
    add_symbols(0, 1)
    symbol = Symbol.objects.get(ticker="S000")
    bar = symbol.bars.order_by("date").first()
    url = reverse("admin:core_pricebar_delete", args=[bar.pk])
    confirmation = superuser_client.get(url)

    superuser_client.post(
        url, {"post": "yes", "csrfmiddlewaretoken": csrf_token(confirmation)}
    )

    symbol.refresh_from_db()
    assert symbol.bar_count == len(CLOSES) - 1
    assert symbol.first_bar_date == symbol.bars.earliest("date").date


def test_the_row_checkbox_is_unfolds_own_for_the_rows_key(superuser_client):
    from django.contrib.admin import helpers
    from unfold.admin import checkbox

    add_symbols(0, 1)
    symbol = Symbol.objects.get()

    _, page = queries_for(superuser_client, SYMBOLS)

    assert str(checkbox.render(helpers.ACTION_CHECKBOX_NAME, str(symbol.pk))) in page
