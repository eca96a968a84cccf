"""The report's tearsheet, benchmark and sweep blocks: the selectors' figures with the
texts the PDF prints, and sections that hide when their data is missing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backtesting.models import BacktestRun
from backtesting.selectors import backtest_to_dict
from backtesting.services.sweeps import sweep_create
from backtesting.sweeps import SweepParams, parse_range
from reporting.charts_context import chart_svgs
from reporting.research_text import (
    benchmark_section,
    month_colour,
    sweep_section,
    tearsheet_section,
)
from reporting.services import report_build
from tests.factories import ACME_BARS, ACME_START, make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


@pytest.fixture
def spy(db):
    symbol = make_symbol("SPY", name="SPDR S&P 500 ETF")
    make_bars(
        symbol,
        start=ACME_START,
        closes=price_closes(ACME_BARS, drift=0.0003, volatility=0.009, seed=9),
    )
    return symbol


def test_the_report_carries_the_runs_tearsheet_and_benchmark_as_the_selectors_do(
    token_client, acme, spy
):
    body = token_client.get("/report/ACME/").json()
    run = BacktestRun.objects.get(pk=body["backtest"]["run"]["id"])
    stored = backtest_to_dict(run, include_equity=True)

    tearsheet = body["backtest"]["tearsheet"]
    figures = {figure["key"]: figure["value"] for figure in tearsheet["figures"]}
    assert figures["calmar"] == stored["tearsheet"]["calmar"]
    assert figures["var_95_pct"] == stored["tearsheet"]["var_95_pct"]
    assert figures["es_95_pct"] == stored["tearsheet"]["es_95_pct"]
    assert figures["ytd_pct"] == stored["tearsheet"]["periods"]["ytd_pct"]
    # ACME has two years of bars: no three-year figure, and the note says why.
    three = next(f for f in tearsheet["figures"] if f["key"] == "three_year_pct")
    assert (three["value"], three["display"]) == (None, "—")
    assert three["note"] == "less than three years of history"
    assert [d["depth_pct"] for d in tearsheet["worst_drawdowns"]] == [
        d["depth_pct"] for d in stored["tearsheet"]["worst_drawdowns"]
    ]
    years = [row["year"] for row in tearsheet["monthly"]["rows"]]
    assert years == [2024, 2025]

    benchmark = body["backtest"]["benchmark"]
    values = {figure["key"]: figure["value"] for figure in benchmark["figures"]}
    for key in ("return_pct", "excess_return_pct", "beta", "correlation"):
        assert values[key] == stored["benchmark"][key]
    assert benchmark["equity"] == stored["benchmark"]["equity"]
    assert benchmark["equity"][0][1] == pytest.approx(float(run.initial_investment))


def test_the_equity_chart_draws_the_benchmark_line_only_when_there_is_one(acme, spy):
    with_spy = report_build(ticker="ACME")
    assert ">SPY (rebased)<" in chart_svgs(with_spy.symbol, with_spy.data)["equity"]

    spy.delete()
    without = report_build(ticker="ACME")
    assert without.data["backtest"]["benchmark"]["available"] is False
    svg = chart_svgs(without.symbol, without.data)["equity"]
    assert "rebased" not in svg and ">Buy and hold<" in svg


def test_sections_hide_without_their_data():
    assert tearsheet_section(None) == {"available": False}
    assert benchmark_section(None)["available"] is False
    refused = benchmark_section(
        {"available": False, "ticker": "SPY", "note": "SPY is not stored."}
    )
    assert refused == {
        "available": False,
        "ticker": "SPY",
        "note": "SPY is not stored.",
    }


def test_a_sweep_section_reads_a_sweep_that_could_rank_nothing():
    section = sweep_section(
        {
            "id": 3,
            "pairs": 2,
            "out_of_sample": {"available": False, "note": "No bar is left out."},
            "walk_forward": {"available": False, "note": "Too few bars."},
            "verdict": {"text": "Nothing to test out of sample."},
        },
        {"metric": "sharpe", "label": "Sharpe", "fasts": [], "slows": [], "values": []},
    )
    assert section["best"]["fast"] is None
    assert [row["available"] for row in section["out_of_sample"]["rows"]] == [
        False,
        False,
        False,
    ]
    assert section["out_of_sample"]["rows"][0]["return"]["display"] == "—"
    assert section["walk_forward"] == {
        "available": False,
        "folds": None,
        "scheme": "",
        "start": None,
        "end": None,
        "note": "Too few bars.",
        "rows": [],
    }
    assert section["verdict"]["text"] == "Nothing to test out of sample."


def test_a_sweep_with_more_cells_than_fit_is_drawn_without_numbers(acme):
    params = SweepParams(
        initial_investment=Decimal(10_000),
        fast=parse_range("5:70:5", name="fast", default=SweepParams.DEFAULT_FAST_RANGE),
        slow=parse_range(
            "20:240:20", name="slow", default=SweepParams.DEFAULT_SLOW_RANGE
        ),
    )
    sweep = sweep_create(ticker="ACME", params=params)
    built = report_build(ticker="ACME", sweep_id=sweep.pk)

    svg = chart_svgs(built.symbol, built.data)["heatmap"]

    heat = built.data["sweep"]["heatmap"]
    assert len(heat["fasts"]) * len(heat["slows"]) > 120
    assert ">Fast window<" in svg and ">Slow window<" in svg and ">Sharpe<" in svg
    best = built.data["sweep"]["best"]
    assert f"SMA {best['fast']}/{best['slow']}" in built.data["backtest"]["note"]


@pytest.mark.parametrize(
    ("value", "colour"),
    [
        (None, "#ffffff"),
        (0.0, "#ffffff"),
        (10.0, "#50a06e"),
        (50.0, "#50a06e"),  # beyond the scale: the full colour
        (-10.0, "#ca5555"),
    ],
)
def test_month_colours_grow_with_the_size_of_the_move(value, colour):
    assert month_colour(value) == colour
