"""A sweep's page in headless Chromium: the verdict, the heatmap and its metric chooser,
and a cell that opens that pair's single backtest."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from backtesting.models import BacktestRun
from backtesting.services import sweep_create
from backtesting.sweeps import SweepParams, WindowRange

pytestmark = [
    pytest.mark.e2e,
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]


def test_the_heatmap_page_chooses_a_metric_and_opens_a_pair(
    admin_page: Page, url, acme
):
    sweep = sweep_create(
        ticker="ACME",
        params=SweepParams(
            initial_investment=Decimal(10_000),
            fast=WindowRange(10, 50, 20),
            slow=WindowRange(60, 200, 70),
        ),
    )
    page = admin_page
    page.goto(url("/admin/backtesting/sweep/"))
    page.get_by_role("link", name=str(sweep.pk), exact=True).click()

    verdict = page.locator("#sweep-verdict")
    expect(verdict).to_contain_text(sweep.result["verdict"]["text"])
    heatmap = page.locator("#sweep-heatmap table")
    expect(heatmap).to_have_attribute("data-metric", "sharpe")
    expect(heatmap.locator("a.sweep-cell")).to_have_count(9)
    expect(page.locator("#sweep-out-of-sample")).to_contain_text("Default")
    expect(page.locator("#sweep-walk-forward")).to_contain_text("Walk-forward")

    page.get_by_label("Metric").select_option("total_return_pct")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"\?metric=total_return_pct$"))
    expect(heatmap).to_have_attribute("data-metric", "total_return_pct")
    row = next(r for r in sweep.rows if (r["fast"], r["slow"]) == (30, 130))
    shown = f"{row['total_return_pct']:+,.1f} %".replace("-", "\u2212")
    cell = page.get_by_title("SMA 30/130: ")
    expect(cell).to_contain_text(shown)

    cell.get_by_role("link").click()

    run = BacktestRun.objects.get()
    expect(page).to_have_url(url(f"/admin/backtesting/backtestrun/{run.pk}/change/"))
    assert (run.fast, run.slow) == (30, 130)
    expect(page.get_by_text("SMA 30 / 130").first).to_be_visible()
