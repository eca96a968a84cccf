"""/backtest/<symbol>/<initial_investment>/: validation, stored runs, the JSON shape."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from backtesting.models import BacktestRun, Trade
from core.models import PriceBar
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


@pytest.fixture
def wavy():
    """300 weekday bars of a slow wave: the 20/50 averages cross several times."""
    symbol = make_symbol("WAVE", name="Wave Corp")
    closes = price_closes(300, wave=20, wave_period=25, trend=0.05)
    make_bars(symbol, start=date(2023, 1, 2), closes=closes)
    return symbol


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_runs_and_stores_a_backtest(token_client, wavy):
    response = token_client.get("/backtest/wave/10000/?fast=20&slow=50")

    assert response.status_code == 200
    body = response.json()
    run = BacktestRun.objects.get()
    assert body["id"] == run.pk
    assert body["symbol"] == "WAVE"
    assert body["parameters"] == {
        "strategy": "sma_crossover",
        "fast": 20,
        "slow": 50,
        "initial_investment": "10000.00",
        "commission": 0.0,
    }
    assert body["data"] == {
        "start": "2023-01-02",
        "end": str(run.end_date),
        "bars": 300,
    }
    metrics = body["metrics"]
    assert metrics["trades"] == len(body["trades"]) == Trade.objects.count() > 0
    for key in (
        "final_equity",
        "total_return_pct",
        "buy_hold_return_pct",
        "cagr_pct",
        "max_drawdown_pct",
        "max_drawdown_days",
        "win_rate_pct",
        "profit_factor",
        "exposure_pct",
        "volatility_pct",
        "sharpe",
        "sortino",
    ):
        assert key in metrics
    assert float(run.final_equity) == pytest.approx(metrics["final_equity"], abs=0.01)
    first = body["trades"][0]
    assert date.fromisoformat(first["entry_date"]) < date.fromisoformat(
        first["exit_date"]
    )
    assert "equity" not in body
    assert "Infinity" not in response.content.decode()


def test_include_equity_adds_the_daily_curve(token_client, wavy):
    body = token_client.get(
        "/backtest/WAVE/10000/?fast=20&slow=50&include=equity"
    ).json()
    curve = body["equity"]
    assert len(curve) == 300
    assert curve[0] == {"date": "2023-01-02", "equity": 10000.0, "buy_hold": 10000.0}
    assert curve[-1]["equity"] == pytest.approx(
        body["metrics"]["final_equity"], abs=0.01
    )


def test_runs_are_never_overwritten(token_client, wavy):
    # The same request twice is one run (tests/backtesting/test_backtest_reuse.py).
    token_client.get("/backtest/WAVE/10000/?fast=20&slow=50")
    token_client.get("/backtest/WAVE/10000/?fast=20&slow=50")
    token_client.get("/backtest/WAVE/5000/?fast=10&slow=30&commission=0.001")
    assert BacktestRun.objects.count() == 2
    runs = list(BacktestRun.objects.order_by("id"))
    assert (runs[0].initial_investment, runs[0].fast) == (10000, 20)
    assert runs[1].initial_investment == 5000


def test_the_date_range_limits_the_bars(token_client, wavy):
    body = token_client.get(
        "/backtest/WAVE/1000/?fast=5&slow=20&start=2023-03-01&end=2023-09-29"
    ).json()
    assert body["data"]["start"] == "2023-03-01"
    assert body["data"]["end"] == "2023-09-29"


@pytest.mark.parametrize(
    "amount",
    ["0", "-5", "abc", "1e400", "NaN", "1.234", "1000000000001", "inf", "0.00", " "],
)
def test_bad_investments_are_400(token_client, wavy, amount):
    error = error_of(token_client.get(f"/backtest/WAVE/{amount}/"), 400)
    assert error["details"]["parameter"] == "initial_investment"
    assert not BacktestRun.objects.exists()


@pytest.mark.parametrize(
    "query",
    [
        "fast=1&slow=50",
        "fast=50&slow=50",
        "fast=60&slow=50",
        "fast=20&slow=401",
        "fast=x",
        "start=2024-13-01",
        "start=2023-06-01&end=2023-05-01",
        "start=2023-06-01&end=2023-06-01",
        "commission=0.06",
        "commission=-0.01",
        "commission=NaN",
    ],
)
def test_bad_parameters_are_400(token_client, wavy, query):
    error_of(token_client.get(f"/backtest/WAVE/1000/?{query}"), 400)
    assert not BacktestRun.objects.exists()


def test_an_unknown_symbol_is_404(token_client):
    assert (
        error_of(token_client.get("/backtest/NOPE/1000/"), 404)["code"]
        == "unknown_symbol"
    )


def test_a_symbol_without_bars_in_range_is_404(token_client, wavy):
    make_symbol("EMPTY")
    assert error_of(token_client.get("/backtest/EMPTY/1000/"), 404)["code"] == "no_data"
    error = error_of(token_client.get("/backtest/WAVE/1000/?start=2030-01-01"), 404)
    assert error["code"] == "no_data"


def test_too_few_bars_is_422_saying_how_many_are_needed(token_client, wavy):
    error = error_of(token_client.get("/backtest/WAVE/1000/?fast=50&slow=299"), 422)
    assert error["details"] == {"needed": 301, "available": 300}
    assert "301" in error["message"]


def test_anonymous_is_401_and_staff_may_open_it_as_a_link(staff_user, wavy):
    assert Client().get("/backtest/WAVE/1000/").status_code == 401
    client = Client()
    client.force_login(staff_user)
    response = client.get("/backtest/WAVE/1000/?fast=20&slow=50")
    assert response.status_code == 200
    assert BacktestRun.objects.get().created_by == staff_user


def test_bars_are_read_not_changed(token_client, wavy):
    before = list(PriceBar.objects.values_list("date", "close"))
    token_client.get("/backtest/WAVE/1000/?fast=20&slow=50")
    assert list(PriceBar.objects.values_list("date", "close")) == before
    json.dumps(BacktestRun.objects.get().metrics, allow_nan=False)
