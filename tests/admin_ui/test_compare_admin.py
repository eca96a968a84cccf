"""Compare in the admin: the Symbols action, the comparison's page, the latest-return column."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from backtesting.models import BacktestRun, Comparison
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create, comparison_create
from core.models import Symbol
from tests.admin_ui.conftest import csrf_token, post_action
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

SYMBOLS_URL = "/admin/core/symbol/"
FORM = {
    "apply": "1",
    "initial_investment": "5000",
    "fast": "10",
    "slow": "30",
    "commission": "0.001",
    "adjust": "splits",
}
CHART_DATA = re.compile(r'data-type="line" data-value="([^"]+)"')


def symbol_with_bars(ticker: str, count: int = 260, seed: int = 0) -> Symbol:
    symbol = make_symbol(ticker, name=f"{ticker} Inc")
    closes = price_closes(count, wave=15, volatility=0.01, seed=seed)
    make_bars(symbol, start=date(2023, 1, 2), closes=closes)
    return symbol


@pytest.fixture
def wave() -> Symbol:
    return symbol_with_bars("WAVE", seed=1)


@pytest.fixture
def tide() -> Symbol:
    return symbol_with_bars("TIDE", seed=2)


def compare(client, symbols: list[Symbol], **form: str):
    return post_action(
        client,
        SYMBOLS_URL,
        "compare_symbols",
        [symbol.pk for symbol in symbols],
        **{**FORM, **form},
    )


def test_compare_asks_for_the_backtest_first_and_stores_nothing(
    analyst_client, wave, tide
):
    listing = analyst_client.get(SYMBOLS_URL).content.decode()
    assert 'value="compare_symbols"' in listing

    page = post_action(
        analyst_client, SYMBOLS_URL, "compare_symbols", [wave.pk, tide.pk]
    )

    text = page.content.decode()
    assert page.status_code == 200
    assert "Compare symbols" in text
    assert "<strong>TIDE</strong>, <strong>WAVE</strong>" in text
    for field in (
        "initial_investment",
        "fast",
        "slow",
        "commission",
        "start",
        "end",
        "adjust",
    ):
        assert f'name="{field}"' in text
    assert not Comparison.objects.exists()


def test_compare_stores_the_comparison_and_opens_its_page(
    analyst, analyst_client, wave, tide
):
    response = compare(analyst_client, [wave, tide])

    comparison = Comparison.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:backtesting_comparison_change", args=[comparison.pk]
    )
    assert comparison.tickers == ["TIDE", "WAVE"]
    assert (comparison.fast, comparison.slow) == (10, 30)
    assert comparison.initial_investment == Decimal(5000)
    assert comparison.commission == Decimal("0.001")
    assert comparison.created_by == analyst
    runs = {run.symbol.ticker: run for run in comparison.runs.all()}
    assert set(runs) == {"TIDE", "WAVE"}

    page = analyst_client.get(response["Location"]).content.decode()
    for ticker, run in runs.items():
        assert ticker in page
        link = reverse("admin:backtesting_backtestrun_change", args=[run.pk])
        assert f'href="{link}"' in page, "each row links its run"
        assert run.metrics["sharpe"] is not None
        assert f"{run.metrics['sharpe']:,.2f}".replace("-", "\u2212") in page
    for heading in (
        "Return",
        "CAGR",
        "Max drawdown",
        "Sharpe",
        "Trades",
        "Buy and hold",
    ):
        assert f">{heading}</th>" in page
    chart = json.loads(html.unescape(CHART_DATA.search(page).group(1)))
    assert [line["label"] for line in chart["datasets"]] == ["TIDE", "WAVE"]
    assert all(line["data"][0] == 100.0 for line in chart["datasets"])
    assert len(chart["labels"]) == len(chart["datasets"][0]["data"]) == 260


def test_compare_reuses_runs_already_stored(analyst_client, wave, tide):
    stored = backtest_run_create(
        ticker="WAVE",
        params=BacktestParams(
            initial_investment=Decimal(5000),
            fast=10,
            slow=30,
            commission=Decimal("0.001"),
        ),
    )

    compare(analyst_client, [wave, tide])

    assert stored in Comparison.objects.get().runs.all()
    assert BacktestRun.objects.count() == 2


def test_compare_needs_two_to_ten_symbols(analyst_client, wave):
    response = compare(analyst_client, [wave])

    assert response.status_code == 302
    page = analyst_client.get(response["Location"]).content.decode()
    assert "Select 2 to 10 symbols to compare; 1 selected." in page
    assert not Comparison.objects.exists()


def test_a_symbol_with_too_few_bars_is_named_and_nothing_is_stored(
    analyst_client, wave
):
    short = make_symbol("SHORT")
    make_bars(short, start=date(2024, 1, 2), closes=price_closes(20, seed=3))

    page = compare(analyst_client, [wave, short])

    text = html.unescape(page.content.decode())
    assert page.status_code == 200
    assert "SHORT has 20 bars in the range" in text
    assert not Comparison.objects.exists()
    assert not BacktestRun.objects.exists(), "WAVE's run is undone too"


def test_bad_windows_show_the_form_error(analyst_client, wave, tide):
    page = compare(analyst_client, [wave, tide], fast="50", slow="20")

    assert "fast &lt; slow" in page.content.decode()
    assert not Comparison.objects.exists()


def test_a_viewer_cannot_compare(viewer_client, wave, tide):
    page = viewer_client.get(SYMBOLS_URL).content.decode()
    assert 'value="compare_symbols"' not in page

    response = viewer_client.post(
        SYMBOLS_URL,
        {
            "csrfmiddlewaretoken": csrf_token(viewer_client.get(SYMBOLS_URL)),
            "action": "compare_symbols",
            "_selected_action": [wave.pk, tide.pk],
            **FORM,
        },
    )

    assert response.status_code == 403
    assert not Comparison.objects.exists()


def test_a_viewer_sees_comparisons(viewer_client, wave, tide):
    comparison = comparison_create(
        tickers=["WAVE", "TIDE"],
        params=BacktestParams(initial_investment=Decimal(1000), fast=10, slow=30),
    )

    listing = viewer_client.get(reverse("admin:backtesting_comparison_changelist"))
    detail = viewer_client.get(
        reverse("admin:backtesting_comparison_change", args=[comparison.pk])
    )

    assert listing.status_code == detail.status_code == 200
    assert "WAVE, TIDE" in listing.content.decode()
    assert "Prices rebased to 100" in detail.content.decode()
    sidebar = reverse("admin:backtesting_comparison_changelist")
    assert f'href="{sidebar}"' in listing.content.decode()


# --- the Symbols list's "Latest backtest" column ----------------------------------------


def test_the_symbols_list_shows_the_latest_backtest_return(analyst_client, wave, tide):
    older = backtest_run_create(
        ticker="WAVE",
        params=BacktestParams(initial_investment=Decimal(1000), fast=10, slow=30),
    )
    latest = backtest_run_create(
        ticker="WAVE",
        params=BacktestParams(initial_investment=Decimal(1000), fast=5, slow=20),
    )
    assert older.total_return_pct != latest.total_return_pct

    page = analyst_client.get(SYMBOLS_URL).content.decode()

    assert "Latest backtest" in page
    link = reverse("admin:backtesting_backtestrun_change", args=[latest.pk])
    cell = re.search(rf'<a class="([^"]*)" href="{link}"[^>]*>([^<]+)</a>', page)
    assert cell is not None, "WAVE's cell links its latest run"
    shown = f"{latest.total_return_pct:+,.2f} %".replace("-", "\u2212")
    assert cell.group(2) == shown
    colour = "text-green-700" if latest.total_return_pct > 0 else "text-red-700"
    assert colour in cell.group(1)
    older_link = reverse("admin:backtesting_backtestrun_change", args=[older.pk])
    assert older_link not in page


def queries_for_symbols_list(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(SYMBOLS_URL).status_code == 200
    return len(queries)


def test_the_column_costs_the_same_queries_for_any_number_of_rows(analyst_client):
    def add_symbol_with_run(ticker: str, seed: int) -> None:
        symbol_with_bars(ticker, count=60, seed=seed)
        backtest_run_create(
            ticker=ticker,
            params=BacktestParams(initial_investment=Decimal(1000), fast=5, slow=20),
        )

    add_symbol_with_run("AAA", 1)
    add_symbol_with_run("BBB", 2)
    few = queries_for_symbols_list(analyst_client)
    for index in range(6):
        add_symbol_with_run(f"C{index}", 10 + index)
    many = queries_for_symbols_list(analyst_client)

    assert many == few
