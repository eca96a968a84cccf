"""The PDF a reader gets: the currency wherever money is shown, a year on every date
axis, no near-empty page, 2-3 pages, and what staff can do when a model is missing."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from pypdf import PdfReader

from admin_ui.symbols import SymbolAdmin
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from core.models import Symbol
from ml.services import model_train
from reporting import charts
from reporting.charts_context import chart_svgs
from reporting.services import report_build
from tests.factories import ACME_BARS, ACME_START, make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

# A page with less text than this (charts' labels are text too) is near-empty.
MIN_PAGE_CHARACTERS = 900
YEAR = re.compile(r"\b(19|20)\d\d\b")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def modelled(acme):
    model_train(ticker="ACME")
    return acme


@pytest.fixture
def spy(db) -> Symbol:
    symbol = make_symbol("SPY", name="SPDR S&P 500 ETF")
    make_bars(
        symbol,
        start=ACME_START,
        closes=price_closes(ACME_BARS, drift=0.0003, volatility=0.009, seed=9),
    )
    return symbol


def pages(content: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(content))
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def pdf_of(client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return pages(response.content)


def assert_no_near_empty_page(texts: list[str]) -> None:
    for number, text in enumerate(texts, start=1):
        assert len(text) >= MIN_PAGE_CHARACTERS, (
            f"page {number} of {len(texts)} is near-empty ({len(text)} characters)"
        )


def date_tick_labels(svg: str) -> list[str]:
    """The x tick labels of a chart (those drawn: a shared axis draws none): the
    centred, upright texts of its one row with the most of them."""
    rows: dict[str, list[str]] = {}
    # The SVG is our own chart's, drawn a line above, not outside input.
    for text in ElementTree.fromstring(svg).iter(f"{SVG}text"):  # noqa: S314
        upright = "rotate(-90" not in text.get("transform", "")
        label = "".join(text.itertext()).strip()
        if text.get("text-anchor") == "middle" and upright and label:
            rows.setdefault(text.get("y", ""), []).append(label)
    return max(rows.values(), key=len, default=[])


# --- pages ---------------------------------------------------------------------------


def test_the_usual_report_is_two_or_three_full_pages(token_client, modelled, spy):
    texts = pdf_of(token_client, "/report/ACME/?format=pdf")
    assert 2 <= len(texts) <= 3
    assert_no_near_empty_page(texts)


def test_a_report_with_many_trades_stays_within_three_full_pages(token_client, db):
    wavy = make_symbol("WAVY", name="Wavy Ltd")
    make_bars(
        wavy,
        start=ACME_START,
        closes=price_closes(700, wave=8, wave_period=9, volatility=0.004, seed=3),
    )
    model_train(ticker="WAVY")
    run = backtest_run_create(
        ticker="WAVY", params=BacktestParams(initial_investment=10_000, fast=5, slow=20)
    )
    assert run.trade_count >= 12

    texts = pdf_of(token_client, "/report/WAVY/?format=pdf")

    assert 2 <= len(texts) <= 3
    assert_no_near_empty_page(texts)
    assert f"{run.trade_count} trades" in " ".join(texts)


def test_a_report_without_a_model_is_two_full_pages_and_says_what_to_do(
    token_client, acme
):
    texts = pdf_of(token_client, "/report/ACME/?format=pdf")
    words = " ".join(texts)

    assert 2 <= len(texts) <= 3
    assert_no_near_empty_page(texts)
    assert (
        "To train one, select ACME in Admin → Symbols and run the Train model action"
        in words
    )
    assert "manage.py" not in words and "`" not in words
    # The words name the real bulk action of the Symbols list.
    assert SymbolAdmin.train_model.short_description == "Train model"
    assert "train_model" in SymbolAdmin.actions


# --- money ---------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_money_states_its_currency_everywhere(token_client, db, currency):
    symbol = make_symbol("CUR", name="Currency Co", currency=currency)
    make_bars(
        symbol,
        start=ACME_START,
        closes=price_closes(ACME_BARS, drift=0.0004, volatility=0.013, seed=5),
    )
    model_train(ticker="CUR")
    data = token_client.get("/report/CUR/").json()

    words = " ".join(pdf_of(token_client, "/report/CUR/?format=pdf"))

    assert data["currency"] == currency
    final = data["backtest"]["kpis"][0]
    assert final["label"] == f"Final equity ({currency})"
    assert f"Money is in {currency}." in words
    assert f"Final equity ({currency})" in words  # the KPI table
    assert f"Price ({currency})" in words and f"P&L ({currency})" in words  # trades
    assert f"with drawdown ({currency})" in words  # the equity chart
    assert f"{data['forecast']['headline']['predicted']} {currency}" in words
    assert f"Forecast by day ({currency})" in words
    assert f"MAE is in {currency}" in words


# --- date axes -----------------------------------------------------------------------


def test_every_date_axis_of_the_report_shows_its_year(modelled, spy):
    built = report_build(ticker="ACME")
    svgs = chart_svgs(built.symbol, built.data)

    assert {"price", "equity", "forecast"} <= set(svgs)
    for name in ("price", "equity", "forecast"):
        labels = date_tick_labels(svgs[name])
        assert len(labels) >= 3, (name, labels)
        assert all(YEAR.search(label) for label in labels), (name, labels)


@pytest.mark.parametrize("span_days", [12, 70, 400, 3000])
def test_a_date_axis_shows_the_year_at_any_zoom(span_days):
    days = [date(2023, 11, 20) + timedelta(days=i) for i in range(span_days)]
    closes = [100 + (i % 17) for i in range(span_days)]

    svg = charts.equity_chart(days, closes, closes)

    labels = date_tick_labels(svg)
    assert len(labels) >= 3 and all(YEAR.search(label) for label in labels), labels


# --- tearsheet and benchmark in the PDF ----------------------------------------------


def test_the_pdf_shows_the_tearsheet_and_the_benchmark(token_client, modelled, spy):
    data = token_client.get("/report/ACME/").json()
    words = " ".join(pdf_of(token_client, "/report/ACME/?format=pdf"))

    tearsheet = data["backtest"]["tearsheet"]
    assert tearsheet["available"]
    labels = [figure["label"] for figure in tearsheet["figures"]]
    assert labels == [
        "Calmar ratio",
        "Daily VaR 95 %",
        "Expected shortfall 95 %",
        "Year to date",
        "Last 1 year",
        "Last 3 years",
    ]
    for figure in tearsheet["figures"]:
        assert f"{figure['label']} {figure['display']}" in words
    assert "Five worst drawdowns" in words
    for period in tearsheet["worst_drawdowns"]:
        assert (
            f"{period['start']} {period['trough']} {period['recovery_display']} "
            f"{period['depth_display']}" in words
        )
    assert "Monthly returns of the strategy (%)" in words
    for row in tearsheet["monthly"]["rows"]:
        cells = " ".join(cell["display"] for cell in row["cells"])
        assert f"{row['year']} {cells} {row['year_cell']['display']}" in words

    benchmark = data["backtest"]["benchmark"]
    assert benchmark["available"] and benchmark["ticker"] == "SPY"
    assert [f["key"] for f in benchmark["figures"]][:5] == [
        "return_pct",
        "excess_return_pct",
        "beta",
        "correlation",
        "information_ratio",
    ]
    for figure in benchmark["figures"]:
        assert f"{figure['label']} {figure['display']}" in words
    assert "Equity against buy and hold and SPY" in words
    assert "SPY (rebased)" in words  # the line's legend on the equity chart


def test_without_a_benchmark_the_pdf_says_why(token_client, modelled):
    words = " ".join(pdf_of(token_client, "/report/ACME/?format=pdf"))
    assert (
        "No benchmark (SPY): SPY is not stored; fetch its prices to compare." in words
    )
    assert "Calmar ratio" in words
