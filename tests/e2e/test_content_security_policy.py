"""The admin works under its Content-Security-Policy: Chromium reports no violation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from tests.e2e.conftest import TICKER

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]

# Collects every violation the page reports, from before its first script runs.
LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} ` +
    `at ${event.sourceFile}:${event.lineNumber}`
  );
});
"""


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def test_admin_pages_load_and_run_their_scripts_without_violations(
    admin_page: Page, url, acme
):
    page = admin_page
    page.add_init_script(LISTEN)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    run = backtest_run_create(
        ticker=TICKER, params=BacktestParams(initial_investment=Decimal(10_000))
    )
    paths = [
        "/admin/",
        "/admin/core/symbol/",
        f"/admin/core/symbol/{acme.pk}/change/",
        "/admin/core/pricebar/",
        "/admin/core/pricebar/import/",
        "/admin/core/pricebar/export/",
        f"/admin/backtesting/backtestrun/{run.pk}/change/",
        "/admin/core/job/",
    ]
    for path in paths:
        response = page.goto(url(path))
        assert response is not None and response.ok, path
        assert (
            "script-src 'self' 'unsafe-eval'"
            in response.headers["content-security-policy"]
        )
        # Alpine.js started (it removes x-cloak) and unfold's scripts ran.
        expect(page.locator("html")).not_to_have_attribute("x-cloak", "")
        page.wait_for_load_state("networkidle")
        assert violations(page) == [], path
    assert not [text for text in console if "Content Security Policy" in text]


def test_alpine_expressions_still_run(admin_page: Page, url):
    """Alpine.js compiles x-* attribute expressions at run time ('unsafe-eval'):
    switching the theme re-evaluates the page's x-bind:class."""
    page = admin_page
    page.add_init_script(LISTEN)
    page.goto(url("/admin/"))

    page.evaluate("Alpine.$data(document.documentElement).switchTheme('dark')")

    expect(page.locator("html")).to_have_class("dark")
    page.evaluate("Alpine.$data(document.documentElement).switchTheme('light')")
    expect(page.locator("html")).to_have_class("light")
    assert violations(page) == []
