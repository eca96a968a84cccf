"""/backtest/'s answer from what the run service read once equals the answer built from
the stored run alone, so reading the bars, actions and trades once changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from backtesting.models import BacktestRun
from backtesting.params import BacktestParams
from backtesting.selectors import backtest_to_dict
from backtesting.services import backtest_run_answer
from core.adjustment import ADJUST_MODES
from core.data_quality import price_warnings, price_warnings_of
from core.selectors import (
    RUN_COLUMNS,
    bars_adjusted,
    bars_frame,
    bars_read,
    closes_adjusted,
)
from tests.factories import make_bars, make_symbol, price_closes
from tests.split_series import (
    DAYS,
    SPLIT_DAY,
    SPLIT_FACTOR,
    START,
    plain_symbol,
    record_action,
    split_symbol,
)

pytestmark = pytest.mark.django_db

PARAMS = BacktestParams(initial_investment=Decimal(10_000), fast=20, slow=50)


def as_sent(answer: dict) -> dict:
    """The answer as the client receives it (JsonResponse's encoder)."""
    return json.loads(json.dumps(answer, cls=DjangoJSONEncoder))


def _with_dividend(ticker: str):
    """The split series, with a dividend inside the bars and one after the last."""
    symbol = split_symbol(ticker)
    record_action(
        symbol, kind="dividend", day=DAYS[300], dividend_amount=Decimal("0.40")
    )
    record_action(
        symbol,
        kind="dividend",
        day=DAYS[-1] + timedelta(days=3),
        dividend_amount=Decimal("0.25"),
    )
    return symbol


@pytest.mark.parametrize("adjust", ADJUST_MODES)
@pytest.mark.parametrize("maker", [plain_symbol, split_symbol, _with_dividend])
def test_the_answer_of_a_new_run_is_the_answer_of_the_stored_one(maker, adjust):
    symbol = maker("ANSW")
    params = BacktestParams(
        initial_investment=Decimal(10_000), fast=20, slow=50, adjust=adjust
    )

    made = backtest_run_answer(ticker=symbol.ticker, params=params)
    fresh = backtest_to_dict(made.run, warnings=made.warnings, trades=made.trades)
    again = backtest_run_answer(ticker=symbol.ticker, params=params)
    stored = backtest_to_dict(BacktestRun.objects.get(pk=made.run.pk))

    assert made.trades and again.trades is None  # the second one was found stored
    assert as_sent(fresh) == as_sent(stored)
    assert again.warnings == made.warnings == stored["warnings"]


def test_an_unrecorded_split_is_warned_about_from_the_bars_read_once():
    split_symbol("JUMP", recorded=False)

    made = backtest_run_answer(ticker="JUMP", params=PARAMS)

    assert len(made.warnings) == 1
    assert SPLIT_DAY.isoformat() in made.warnings[0]
    assert made.warnings == backtest_to_dict(made.run)["warnings"]


def as_floats(frame):
    return frame[list(RUN_COLUMNS)].astype({"open": float, "close": float})


@pytest.mark.parametrize("adjust", ADJUST_MODES)
@pytest.mark.parametrize("maker", [plain_symbol, split_symbol, _with_dividend])
def test_bars_read_once_are_what_the_separate_reads_give(maker, adjust):
    symbol = maker("READ")
    start, end = DAYS[20], DAYS[650]

    read = bars_read(symbol, adjust=adjust, start=start, end=end)
    alone = bars_adjusted(symbol, adjust=adjust, start=start, end=end)

    # Without an action to apply, the prices are read as floats: the same values.
    if not read.adjusted.applied:
        assert read.as_traded["close"].dtype == np.float64
    assert as_floats(read.adjusted.frame).equals(as_floats(alone.frame))
    assert read.adjusted.block() == alone.block()
    assert as_floats(read.as_traded).equals(
        as_floats(bars_frame(symbol, start=start, end=end))
    )
    assert price_warnings_of(
        symbol.ticker, read.as_traded, read.actions, start=start, end=end, adjust=adjust
    ) == price_warnings(symbol, start=start, end=end, adjust=adjust)


@pytest.mark.parametrize("adjust", ADJUST_MODES)
@pytest.mark.parametrize("maker", [plain_symbol, split_symbol, _with_dividend])
def test_closes_as_floats_are_the_adjusted_closes(maker, adjust):
    symbol = maker("FLOT")
    start, end = DAYS[10], DAYS[600]

    dates, closes = closes_adjusted(symbol, adjust=adjust, start=start, end=end)
    frame = bars_adjusted(symbol, adjust=adjust, start=start, end=end).frame

    assert dates.dtype == np.dtype("datetime64[D]")
    assert dates.tolist() == list(frame["date"])
    assert closes.tolist() == [float(c) for c in frame["close"]]


def test_a_split_shows_in_the_float_closes_only_when_adjusted():
    symbol = split_symbol("SCAL")

    _, as_traded = closes_adjusted(symbol, adjust="none")
    _, adjusted = closes_adjusted(symbol, adjust="splits")

    before = DAYS.index(SPLIT_DAY) - 1
    assert as_traded[before] == pytest.approx(adjusted[before] * SPLIT_FACTOR)


def test_no_bars_in_the_range_read_as_empty():
    symbol = make_symbol("NONE")
    make_bars(symbol, start=START, closes=price_closes(30))

    dates, closes = closes_adjusted(symbol, start=START + timedelta(days=400))
    read = bars_read(symbol, start=START + timedelta(days=400))

    assert len(dates) == len(closes) == 0
    assert read.adjusted.frame.empty
    assert list(read.as_traded.columns) == list(RUN_COLUMNS)


def test_a_new_run_over_http_makes_a_bounded_number_of_queries(
    token_client, django_assert_max_num_queries
):
    plain_symbol("SPY")  # the default benchmark, stored
    split_symbol("COUNT")

    # The token and its user (one), its last use, the user's permissions (user's,
    # group's), the symbol and the benchmark's in one, the symbol's actions and
    # bars, the stored look-up, the run and its trades (on PostgreSQL one statement,
    # its own transaction; elsewhere the ORM's inserts in a transaction), the
    # benchmark's actions and closes. Originally 19, and 15 before the writes were
    # one statement.
    on_postgresql = connection.vendor == "postgresql"
    with django_assert_max_num_queries(11 if on_postgresql else 14):
        response = token_client.get("/backtest/COUNT/10000/?fast=20&slow=50")
    assert response.status_code == 200
    # Another pair on the same bars reads neither symbol's bars nor actions again
    # (kept per data version), the token's last use is this minute's already, and
    # its stored-run look-up is in the symbols' query (backtesting.run_lookup).
    with django_assert_max_num_queries(5 if on_postgresql else 8):
        response = token_client.get("/backtest/COUNT/10000/?fast=10&slow=40")

    assert response.status_code == 200
    assert response.json()["benchmark"]["available"] is True
