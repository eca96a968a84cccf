"""Confirming a suspected split in headless Chromium: the symbol page shows the
suspect, Confirm split's dialog records it, and the page and the list say OK."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from core.models import CorporateAction, PriceBar, Symbol
from core.services import symbol_figures_refresh
from core.sessions import last_completed_session, sessions_between

pytestmark = [
    pytest.mark.e2e,
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]


@pytest.fixture
def halved() -> tuple[Symbol, str]:
    """Sixty sessions up to the last completed one, halved (2-for-1) on the 40th."""
    last = last_completed_session(timezone.now())
    days = sessions_between(last - timedelta(days=120), last)[-60:]
    symbol = Symbol.objects.create(ticker="HALF", name="Half Corp")
    PriceBar.objects.bulk_create(
        PriceBar(
            symbol=symbol,
            date=day,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=100,
            source=PriceBar.Source.ALPHA_VANTAGE,
        )
        for day in days
        for price in [Decimal(50) if day >= days[40] else Decimal(100)]
    )
    symbol_figures_refresh(symbol_ids=[symbol.pk])
    return symbol, days[40].isoformat()


def test_staff_confirm_a_suspected_split_from_the_symbol_page(
    admin_page: Page, url, halved
):
    symbol, day = halved
    page = admin_page
    page.goto(url(f"/admin/core/symbol/{symbol.pk}/change/"))
    block = page.get_by_test_id("data-quality")
    expect(block.locator(f'[data-suspect="{day}"]')).to_contain_text(
        "like a 2-for-1 split"
    )
    expect(block.locator('[data-problem="suspected_splits"]')).to_be_visible()

    page.get_by_role("link", name=re.compile("Confirm split$")).click()
    dialog = page.locator("#dialog")
    expect(dialog.get_by_text("Confirm a suspected split")).to_be_visible()
    expect(
        dialog.get_by_role("radio", name=re.compile(f"^{day}: close 100.00"))
    ).to_be_checked()
    assert not CorporateAction.objects.exists()  # the dialog is a GET
    dialog.get_by_role("button", name="Record split").click()

    expect(
        page.get_by_text(f"Recorded the 2-for-1 split of HALF on {day}")
    ).to_be_visible()
    expect(page).to_have_url(url(f"/admin/core/symbol/{symbol.pk}/change/"))
    expect(page.get_by_test_id("data-quality")).to_contain_text(
        "No problem found in the stored prices."
    )
    expect(page.get_by_role("link", name=re.compile("Confirm split$"))).to_have_count(0)
    action = CorporateAction.objects.get()
    assert (action.date.isoformat(), action.split_factor, action.source) == (
        day,
        Decimal(2),
        "confirmed",
    )

    page.goto(url("/admin/core/symbol/?data_quality=ok"))
    expect(page.get_by_role("row").filter(has_text="HALF")).to_contain_text("OK")
