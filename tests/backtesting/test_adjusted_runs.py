"""Backtests on adjusted prices: a recorded split changes nothing but the bars' scale."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from backtesting.models import BacktestRun
from core.models import PriceBar
from tests.split_series import (
    SPLIT_DAY,
    SPLIT_FACTOR,
    plain_symbol,
    record_action,
    split_symbol,
)

pytestmark = pytest.mark.django_db

URL = "/backtest/{}/10000/"  # the default SMA 50/200


def backtest(client, ticker: str, query: str = "") -> dict:
    response = client.get(URL.format(ticker) + query)
    assert response.status_code == 200, response.content
    return response.json()


def trade_rows(body: dict) -> list[tuple]:
    return [
        (
            t["entry_date"],
            t["entry_price"],
            t["exit_date"],
            t["exit_price"],
            t["shares"],
            t["pnl"],
        )
        for t in body["trades"]
    ]


def spanning_the_split(body: dict) -> list[dict]:
    day = SPLIT_DAY.isoformat()
    return [t for t in body["trades"] if t["entry_date"] < day <= t["exit_date"]]


def test_a_recorded_split_gives_the_trades_and_return_of_the_series_without_it(
    token_client,
):
    plain_symbol()
    split_symbol()

    without = backtest(token_client, "PLAIN")
    adjusted = backtest(token_client, "SPLT")

    assert len(spanning_the_split(without)) == 1  # the split falls inside a trade
    assert trade_rows(adjusted) == trade_rows(without)
    assert adjusted["metrics"] == without["metrics"]
    assert adjusted["metrics"]["total_return_pct"] > 30
    assert adjusted["adjustment"] == {
        "mode": "splits",
        "actions": [
            {
                "kind": "split",
                "date": SPLIT_DAY.isoformat(),
                "factor": "4",
                "price_factor": "0.25",
            }
        ],
    }
    assert adjusted["warnings"] == []
    run = BacktestRun.objects.get(pk=adjusted["id"])
    assert (run.adjust, run.adjustment) == ("splits", adjusted["adjustment"])
    # The stored bars stay as traded.
    before = PriceBar.objects.get(symbol__ticker="SPLT", date=SPLIT_DAY - timedelta(1))
    plain_before = PriceBar.objects.get(symbol__ticker="PLAIN", date=before.date)
    assert before.close == plain_before.close * SPLIT_FACTOR


def test_adjust_none_reproduces_the_as_traded_result_and_warns(token_client):
    split_symbol()
    split_symbol("JUMP", recorded=False)

    traded = backtest(token_client, "SPLT", "?adjust=none")
    unexplained = backtest(token_client, "JUMP")

    # With no split recorded, split-adjusting changes nothing: both read the bars
    # as traded, and both lose most of the money on the phantom fall.
    assert trade_rows(traded) == trade_rows(unexplained)
    assert traded["metrics"]["total_return_pct"] < -60
    [phantom] = spanning_the_split(traded)
    assert phantom["return_pct"] < -60
    assert traded["adjustment"] == {"mode": "none", "actions": []}
    assert traded["warnings"] == [
        f"Prices are as traded (adjust=none): the 4:1 split of SPLT on "
        f"{SPLIT_DAY.isoformat()} shows as a jump."
    ]
    # A jump like a split with none recorded is said in words too.
    [suspected] = unexplained["warnings"]
    assert "JUMP" in suspected and SPLIT_DAY.isoformat() in suspected
    assert BacktestRun.objects.get(pk=traded["id"]).adjust == "none"


def test_a_stored_split_adjusted_run_is_not_reused_for_adjust_none(token_client):
    split_symbol()

    adjusted = backtest(token_client, "SPLT")
    traded = backtest(token_client, "SPLT", "?adjust=none")
    again = backtest(token_client, "SPLT", "?adjust=NONE")
    default_again = backtest(token_client, "SPLT", "?adjust=splits")

    assert traded["id"] != adjusted["id"]
    assert again["id"] == traded["id"]
    assert default_again["id"] == adjusted["id"]
    assert sorted(BacktestRun.objects.values_list("adjust", flat=True)) == [
        "none",
        "splits",
    ]


def test_a_split_recorded_after_a_run_makes_the_same_request_a_new_run(token_client):
    symbol = split_symbol("LATE", recorded=False)
    before = backtest(token_client, "LATE")
    record_action(symbol, kind="split", day=SPLIT_DAY, split_factor=Decimal(4))

    after = backtest(token_client, "LATE")

    assert after["id"] != before["id"]
    assert before["adjustment"]["actions"] == []
    assert [a["date"] for a in after["adjustment"]["actions"]] == [
        SPLIT_DAY.isoformat()
    ]
    assert (
        after["metrics"]["total_return_pct"]
        > 30
        > before["metrics"]["total_return_pct"]
    )
    assert BacktestRun.objects.count() == 2


def test_adjust_total_differs_from_splits_when_a_dividend_is_recorded(token_client):
    symbol = split_symbol()
    plain = backtest(token_client, "SPLT")
    [trade] = spanning_the_split(plain)
    ex_date = SPLIT_DAY + timedelta(days=28)  # four weeks on, inside the same trade
    assert trade["exit_date"] > ex_date.isoformat()
    close_before = (
        PriceBar.objects.filter(symbol=symbol, date__lt=ex_date).order_by("-date")[0]
    ).close
    record_action(symbol, kind="dividend", day=ex_date, dividend_amount=Decimal("2.50"))

    splits = backtest(token_client, "SPLT")
    total = backtest(token_client, "SPLT", "?adjust=total")

    assert splits["id"] == plain["id"]  # a dividend does not change split-adjusting
    assert [a["kind"] for a in splits["adjustment"]["actions"]] == ["split"]
    assert total["adjustment"]["mode"] == "total"
    split, dividend = total["adjustment"]["actions"]
    assert split["kind"] == "split"
    assert dividend == {
        "kind": "dividend",
        "date": ex_date.isoformat(),
        "amount": "2.5",
        "price_factor": str((1 - Decimal("2.50") / close_before).normalize()),
    }
    # Reinvested, the dividend adds to both the strategy and buy and hold.
    assert total["metrics"]["total_return_pct"] > splits["metrics"]["total_return_pct"]
    assert (
        total["metrics"]["buy_hold_return_pct"]
        > splits["metrics"]["buy_hold_return_pct"]
    )
    assert BacktestRun.objects.get(pk=total["id"]).adjust == "total"


@pytest.mark.parametrize(
    "value", ["dividends", "split", "raw", "none,total", "\uff4eone"]
)
def test_an_invalid_adjust_is_400_and_stores_nothing(token_client, value):
    split_symbol()

    response = token_client.get(URL.format("SPLT"), {"adjust": value})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["details"] == {"parameter": "adjust"}
    assert "splits, total, none" in error["message"]
    assert not BacktestRun.objects.exists()


def test_a_queued_backtest_keeps_its_adjustment(django_capture_on_commit_callbacks):
    from backtesting.params import BacktestParams
    from core.models import Job
    from core.services import job_enqueue

    symbol = split_symbol()
    params = BacktestParams(initial_investment=Decimal(10_000), adjust="none")
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.BACKTEST, symbol=symbol, parameters=params.as_json()
        )

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert BacktestRun.objects.get(pk=job.result["run"]).adjust == "none"
