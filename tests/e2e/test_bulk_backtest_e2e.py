"""Select all in headless Chromium: more symbols than the list's page, "Select all",
Run backtest, and one Job queued per symbol, the ones on later pages too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from core.models import Job, Symbol
from tests.factories import make_symbol

pytestmark = [
    pytest.mark.e2e,
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]

PER_PAGE = 100  # Django's default list_per_page, the Symbols list's


@pytest.fixture
def symbols(transactional_db) -> list[Symbol]:
    return [make_symbol(f"ALL{n:03d}") for n in range(PER_PAGE + 5)]


def test_select_all_symbols_and_queue_a_backtest_for_each(
    admin_page: Page, url, symbols
):
    page = admin_page
    page.goto(url("/admin/core/symbol/"))
    page.locator("#action-toggle").check()
    page.get_by_text(f"Select all {len(symbols)} symbols").click()
    page.locator("select[name=action]").select_option(label="Run backtest")
    page.get_by_role("button", name="Run", exact=True).click()

    expect(page.get_by_text(f"{len(symbols)} symbols:")).to_be_visible()
    expect(page.get_by_text("and 85 more")).to_be_visible()
    page.get_by_label("Fast").fill("10")
    page.get_by_label("Slow").fill("30")
    page.get_by_role("button", name="Queue backtests").click()

    expect(page.get_by_text(f"Queued {len(symbols)} backtest job(s)")).to_be_visible()
    queued = Job.objects.filter(kind=Job.Kind.BACKTEST)
    assert sorted(queued.values_list("ticker", flat=True)) == [
        s.ticker for s in symbols
    ]
    assert all(queued.values_list("task_id", flat=True))
