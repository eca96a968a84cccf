"""The interactive charts in Chromium: the symbol, backtest and forecast pages draw
lightweight-charts canvases without console errors or CSP violations; the crosshair
legend follows the mouse, the wheel zooms and Reset zoom goes back."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Locator, Page, expect

from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from ml.services import forecast_create, model_train
from tests.e2e.conftest import TICKER

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Watched:
    """A page's console errors, uncaught exceptions and CSP violations."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.add_init_script(LISTEN)
        page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def open_chart(self, address: str) -> Locator:
        response = self.page.goto(address)
        assert response is not None and response.ok, address
        block = self.page.locator("[data-stockdesk-chart]")
        expect(block).to_have_count(1)
        expect(block).to_have_attribute("data-chart-ready", "true")
        return block

    def assert_clean(self) -> None:
        self.page.wait_for_load_state("networkidle")
        assert self.page.evaluate("window.__cspViolations") == []
        assert self.errors == []


def assert_draws_and_responds(page: Page, block: Locator, legend_has: list[str]):
    chart = block.locator("[data-chart-canvas]")
    # lightweight-charts paints on canvases inside the container.
    canvases = chart.locator("canvas")
    expect(canvases.first).to_be_visible()
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 300

    legend = block.locator("[data-chart-legend]")
    last_day = block.get_attribute("data-legend-time")
    assert last_day and DAY.match(last_day)
    for text in legend_has:
        expect(legend).to_contain_text(text)

    # Hovering the middle of the plot moves the crosshair to an earlier day.
    page.mouse.move(
        box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.5, steps=5
    )
    expect(block).not_to_have_attribute("data-legend-time", last_day)
    hovered = block.get_attribute("data-legend-time")
    assert hovered and DAY.match(hovered) and hovered < last_day
    expect(legend).to_contain_text(hovered)

    first_view = block.get_attribute("data-visible-range")
    assert first_view
    page.mouse.wheel(0, -600)  # zoom in
    expect(block).not_to_have_attribute("data-visible-range", first_view)
    zoomed_from, zoomed_to = map(
        float, block.get_attribute("data-visible-range").split(":")
    )
    view_from, view_to = map(float, first_view.split(":"))
    assert zoomed_to - zoomed_from < view_to - view_from

    block.get_by_role("button", name="Reset zoom").click()
    expect(block).to_have_attribute("data-visible-range", first_view)


def test_the_symbol_page_draws_candles_volume_smas_and_trades(
    admin_page: Page, url, acme
):
    backtest_run_create(
        ticker=TICKER,
        params=BacktestParams(initial_investment=Decimal(10_000), fast=10, slow=30),
    )
    watched = Watched(admin_page)
    block = watched.open_chart(url(f"/admin/core/symbol/{acme.pk}/change/"))

    assert_draws_and_responds(admin_page, block, ["O ", "H ", "C ", "Vol", "SMA 50"])
    # The symbol page opens on the last 250 bars; Show all fits every bar.
    first_view = block.get_attribute("data-visible-range")
    block.get_by_role("button", name="Show all").click()
    expect(block).not_to_have_attribute("data-visible-range", first_view)
    watched.assert_clean()


def test_the_backtest_page_draws_equity_buy_and_hold_and_trades(
    admin_page: Page, url, acme
):
    run = backtest_run_create(
        ticker=TICKER,
        params=BacktestParams(initial_investment=Decimal(10_000), fast=10, slow=30),
    )
    watched = Watched(admin_page)
    block = watched.open_chart(url(f"/admin/backtesting/backtestrun/{run.pk}/change/"))

    assert_draws_and_responds(admin_page, block, ["Strategy", "Buy and hold"])
    watched.assert_clean()


def test_the_forecast_page_draws_history_prediction_and_band(
    admin_page: Page, url, acme
):
    model_train(ticker=TICKER)
    forecast = forecast_create(ticker=TICKER)[0]
    watched = Watched(admin_page)
    block = watched.open_chart(url(f"/admin/ml/predictionrun/{forecast.pk}/change/"))

    # The last day is the 30th predicted one: the band and the prediction show.
    assert_draws_and_responds(
        admin_page, block, ["Predicted close", "Upper (80 % band)", "Lower (80 % band)"]
    )
    watched.assert_clean()
