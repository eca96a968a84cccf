"""/backtest/ with its benchmark and tearsheet: the `benchmark` parameter, the figures
in the answer, and the answer held to docs/openapi.yaml."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backtesting.models import BacktestRun
from tests.api.conftest import OPENAPI_PATH, OpenApiDocument
from tests.factories import make_bars, make_symbol, price_closes, weekdays
from tests.split_series import record_action

pytestmark = pytest.mark.django_db

WAVE_START = date(2023, 1, 2)


@pytest.fixture(scope="module")
def openapi() -> OpenApiDocument:
    return OpenApiDocument(OPENAPI_PATH)


@pytest.fixture
def wave():
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(
        symbol, start=WAVE_START, closes=price_closes(300, wave=20, wave_period=25)
    )
    return symbol


@pytest.fixture
def spy():
    """SPY from two months before WAVE's first bar to past its last."""
    symbol = make_symbol("SPY", name="SPDR S&P 500")
    closes = price_closes(400, start_price=400, drift=0.0003, volatility=0.01, seed=9)
    make_bars(symbol, start=date(2022, 11, 1), closes=closes)
    return symbol


def test_the_answer_compares_with_spy_by_default(openapi, token_client, wave, spy):
    response = token_client.get("/backtest/wave/10000/?fast=20&slow=50")

    body = openapi.check_response(response)
    benchmark = body["benchmark"]
    assert benchmark["available"] is True
    assert benchmark["ticker"] == "SPY"
    assert benchmark["common_days"] == body["data"]["bars"] == 300
    assert (benchmark["start"], benchmark["end"]) == (
        body["data"]["start"],
        body["data"]["end"],
    )
    # Over the same dates the strategy's return is the run's total return.
    assert benchmark["strategy_return_pct"] == pytest.approx(
        body["metrics"]["total_return_pct"], abs=1e-9
    )
    assert benchmark["excess_return_pct"] == pytest.approx(
        benchmark["strategy_return_pct"] - benchmark["return_pct"]
    )
    for figure in ("beta", "correlation", "information_ratio", "tracking_error_pct"):
        assert isinstance(benchmark[figure], float), figure
    assert "equity" not in benchmark


def test_the_answer_has_the_tearsheet_of_the_stored_curve(token_client, wave):
    body = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50").json()

    sheet = body["tearsheet"]
    assert sheet["var_95_pct"] < 0 and sheet["es_95_pct"] <= sheet["var_95_pct"]
    assert sheet["worst_drawdowns"][0]["depth_pct"] == pytest.approx(
        body["metrics"]["max_drawdown_pct"], abs=1e-6
    )
    years = [row["year"] for row in sheet["monthly_returns"]["rows"]]
    assert years == [2023, 2024]
    assert sheet["rolling"]["window"] == 126
    assert sheet["rolling"]["latest"]["date"] == body["data"]["end"]
    assert sheet["rolling"]["latest"]["volatility_pct"] > 0
    assert "dates" not in sheet["rolling"]  # the daily series only when asked for
    assert sheet["periods"]["one_year_pct"] is not None
    assert sheet["periods"]["three_year_pct"] is None
    assert "three_year_pct" in sheet["notes"]


def test_include_rolling_adds_the_rolling_figures_at_every_bar(
    openapi, token_client, wave
):
    plain = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50").json()
    response = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50&include=rolling")

    rolling = openapi.check_response(response)["tearsheet"]["rolling"]
    assert len(rolling["dates"]) == len(rolling["sharpe"]) == plain["data"]["bars"]
    assert rolling["sharpe"][:126] == [None] * 126
    # The short answer's figures are the last bar's of the series.
    assert rolling["dates"][-1] == plain["tearsheet"]["rolling"]["latest"]["date"]
    assert rolling["sharpe"][-1] == plain["tearsheet"]["rolling"]["latest"]["sharpe"]
    assert (
        rolling["volatility_pct"][-1]
        == plain["tearsheet"]["rolling"]["latest"]["volatility_pct"]
    )
    assert "equity" not in response.json()


def test_include_equity_adds_the_rebased_benchmark_curve(
    openapi, token_client, wave, spy
):
    response = token_client.get(
        "/backtest/WAVE/2500/?fast=20&slow=50&include=equity&benchmark=spy"
    )

    body = openapi.check_response(response)
    curve = body["benchmark"]["equity"]
    assert [day for day, _ in curve] == [point["date"] for point in body["equity"]]
    assert curve[0][1] == 2500.0


def test_benchmark_none_turns_it_off(openapi, token_client, wave, spy):
    response = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50&benchmark=None")

    body = openapi.check_response(response)
    assert body["benchmark"] == {
        "available": False,
        "ticker": None,
        "note": "No benchmark was asked for (benchmark=none).",
    }
    assert body["tearsheet"]["calmar"] is not None


def test_without_spy_the_default_benchmark_says_why(openapi, token_client, wave):
    response = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50")

    body = openapi.check_response(response)
    assert body["benchmark"]["available"] is False
    assert "SPY is not stored" in body["benchmark"]["note"]


def test_a_named_benchmark_is_used(token_client, wave, spy):
    qqq = make_symbol("QQQ")
    make_bars(qqq, start=WAVE_START, closes=price_closes(300, volatility=0.02))
    body = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50&benchmark=qqq")
    assert body.json()["benchmark"]["ticker"] == "QQQ"


def test_an_unknown_benchmark_is_404_and_stores_no_run(openapi, token_client, wave):
    response = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50&benchmark=ZZZ")

    body = openapi.check_response(response)
    assert response.status_code == 404
    assert body["error"]["code"] == "unknown_symbol"
    assert body["error"]["details"] == {"symbol": "ZZZ"}
    assert not BacktestRun.objects.exists()


def test_a_malformed_benchmark_is_400(openapi, token_client, wave):
    response = token_client.get("/backtest/WAVE/10000/?benchmark=not%20a%20ticker")

    body = openapi.check_response(response)
    assert response.status_code == 400
    assert body["error"]["code"] == "invalid_symbol"
    assert not BacktestRun.objects.exists()


def test_a_benchmark_without_common_dates_is_unavailable(openapi, token_client, wave):
    late = make_symbol("LATE")
    make_bars(late, start=date(2030, 1, 1), closes=price_closes(40))

    response = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50&benchmark=late")

    body = openapi.check_response(response)
    assert body["benchmark"]["available"] is False
    assert body["benchmark"]["ticker"] == "LATE"
    assert "no bars" in body["benchmark"]["note"]


def test_the_benchmark_reads_the_runs_adjustment(token_client, wave, spy):
    # A 2:1 split of SPY in the middle of WAVE's range: as traded, SPY halves.
    split_day = weekdays(150, start=WAVE_START)[-1]
    record_action(spy, kind="split", day=split_day, split_factor=Decimal(2))
    url = "/backtest/WAVE/10000/?fast=20&slow=50&adjust="

    split_adjusted = token_client.get(url + "splits").json()["benchmark"]
    as_traded = token_client.get(url + "none").json()["benchmark"]

    assert split_adjusted["return_pct"] > -30
    assert as_traded["return_pct"] == pytest.approx(
        (1 + split_adjusted["return_pct"] / 100) / 2 * 100 - 100, abs=0.05
    )
