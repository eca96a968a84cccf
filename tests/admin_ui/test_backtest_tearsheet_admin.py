"""A backtest's page shows its benchmark and tearsheet: figures, worst drawdowns, the
monthly heatmap and recent rolling figures."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from html import unescape

import pytest
from django.urls import reverse

from backtesting.params import BacktestParams
from backtesting.selectors import backtest_benchmark, backtest_tearsheet
from backtesting.services import backtest_run_create
from core.formatting import signed_pct
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


@pytest.fixture
def run():
    symbol = make_symbol("WAVE", name="Wave Corp")
    closes = price_closes(400, wave=15, volatility=0.01, seed=3)
    make_bars(symbol, start=date(2023, 1, 2), closes=closes)
    return backtest_run_create(
        ticker="WAVE",
        params=BacktestParams(initial_investment=Decimal(10000), fast=10, slow=30),
    )


@pytest.fixture
def spy():
    symbol = make_symbol("SPY", name="SPDR S&P 500")
    closes = price_closes(450, start_price=400, drift=0.0003, volatility=0.01, seed=9)
    make_bars(symbol, start=date(2022, 12, 1), closes=closes)
    return symbol


def page_of(client, run) -> str:
    response = client.get(
        reverse("admin:backtesting_backtestrun_change", args=[run.pk])
    )
    assert response.status_code == 200
    return response.content.decode()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def test_the_page_compares_the_run_with_spy(viewer_client, run, spy):
    page = page_of(viewer_client, run)
    text = text_of(page)
    compared = backtest_benchmark(run)

    assert "Benchmark" in text and "Against SPY (splits prices)" in text
    for label in ("Beta", "Correlation", "Information ratio", "Tracking error"):
        assert label in text
    assert f"Benchmark return {signed_pct(compared['return_pct'])}" in text
    assert f"Excess return {signed_pct(compared['excess_return_pct'])}" in text


def test_without_spy_the_page_says_why(viewer_client, run):
    text = text_of(page_of(viewer_client, run))
    assert "SPY is not stored; fetch its prices to compare." in text


def test_the_page_shows_the_tearsheet_figures(viewer_client, run):
    text = text_of(page_of(viewer_client, run))
    sheet = backtest_tearsheet(run)

    assert f"VaR 95 % (1 day) {signed_pct(sheet['var_95_pct'])}" in text
    assert f"Expected shortfall 95 % {signed_pct(sheet['es_95_pct'])}" in text
    assert f"1 year {signed_pct(sheet['periods']['one_year_pct'])}" in text
    # Under three years of bars: the figure is a dash, and the page says why.
    assert "3 years —" in text
    assert "less than three years of history" in text
    worst = sheet["worst_drawdowns"][0]
    assert (
        f"{worst['start']} {worst['trough']} {worst['recovery'] or 'not yet'} "
        f"{signed_pct(worst['depth_pct'])}"
    ) in text


def test_the_monthly_heatmap_colours_gains_green_and_losses_red(viewer_client, run):
    page = page_of(viewer_client, run)
    sheet = backtest_tearsheet(run)
    cells = re.findall(r'<td[^>]*style="([^"]*)" title="([^"]*)">([^<]*)</td>', page)
    by_title = {unescape(title): (style, text) for style, title, text in cells}

    names = ["January", "February", "March", "April", "May", "June", "July",
             "August", "September", "October", "November", "December"]  # fmt: skip
    colours = set()
    for row in sheet["monthly_returns"]["rows"]:
        for month, value in zip(names, row["months"], strict=True):
            if value is None:
                continue
            style, text = by_title[f"{month} {row['year']}: {signed_pct(value)}"]
            assert unescape(text) == signed_pct(value, 1)
            if value == 0:  # a month out of the market
                assert style == ""
            else:
                colour = "22, 163, 74" if value > 0 else "220, 38, 38"
                assert colour in style
                colours.add(colour)
        style, _ = by_title[f"{row['year']}: {signed_pct(row['year_pct'])}"]
        assert row["year_pct"] == 0 or style.startswith("background-color: rgba(")
    assert colours == {"22, 163, 74", "220, 38, 38"}
    assert "green is a gain, red a loss" in text_of(page)


def test_the_page_lists_recent_rolling_figures(viewer_client, run):
    page = page_of(viewer_client, run)
    rolling = backtest_tearsheet(run)["rolling"]
    text = text_of(page)
    assert "Rolling 6-month Sharpe and volatility" in text
    last_day = rolling["dates"][-1]
    assert f"{last_day} " in text
    assert f"{rolling['volatility_pct'][-1]:,.1f} %" in text
