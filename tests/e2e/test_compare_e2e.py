"""Compare in headless Chromium: tick symbols on the Symbols list, run Compare, and
see the table of their runs and the chart of their prices rebased to 100."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from backtesting.models import Comparison
from core.models import Symbol
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = [
    pytest.mark.e2e,
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]


@pytest.fixture
def wave(transactional_db) -> Symbol:
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(symbol, start=date(2024, 1, 1), closes=price_closes(300, wave=15))
    return symbol


def test_select_symbols_compare_and_see_the_table_and_chart(
    admin_page: Page, url, acme, wave
):
    page = admin_page
    problems: list[str] = []

    def keep_error(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    page.on("console", keep_error)
    page.goto(url("/admin/core/symbol/"))
    for ticker in ("ACME", "WAVE"):
        row = page.get_by_role("row").filter(has_text=ticker)
        row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label="Compare")
    page.get_by_role("button", name="Run", exact=True).click()

    expect(
        page.get_by_text("Compare symbols: one SMA-crossover backtest")
    ).to_be_visible()
    page.get_by_label("Fast").fill("10")
    page.get_by_label("Slow").fill("30")
    page.get_by_role("button", name="Compare", exact=True).click()

    expect(page).to_have_url(re.compile(r"/admin/backtesting/comparison/\d+/change/$"))
    comparison = Comparison.objects.get()
    assert comparison.tickers == ["ACME", "WAVE"]
    table = page.get_by_test_id("comparison-table")
    for header in (
        "Return",
        "CAGR",
        "Max drawdown",
        "Sharpe",
        "Trades",
        "Buy and hold",
    ):
        expect(table.get_by_role("columnheader", name=header)).to_be_visible()
    for run in comparison.runs.select_related("symbol"):
        row = table.get_by_role("row").filter(has_text=run.symbol.ticker)
        expect(row.get_by_role("link", name=f"Run #{run.pk}")).to_be_visible()

    canvas = page.get_by_test_id("comparison-chart").locator("canvas.chart")
    expect(canvas).to_be_visible()
    assert canvas.bounding_box()["height"] > 100
    lines = canvas.evaluate(
        "node => Chart.getChart(node).data.datasets.map(d => [d.label, d.data[0]])"
    )
    assert lines == [["ACME", 100.0], ["WAVE", 100.0]]

    # The run's link opens the backtest it stands for.
    first = comparison.runs.get(symbol__ticker="ACME")
    table.get_by_role("link", name=f"Run #{first.pk}").click()
    expect(page).to_have_url(
        re.compile(rf"/admin/backtesting/backtestrun/{first.pk}/change/$")
    )
    assert problems == []
