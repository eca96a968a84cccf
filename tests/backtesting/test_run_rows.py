"""A new run's rows (backtesting.services.run_rows): what the ORM would store, once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from django.db import connection

from backtesting.models import BacktestRun, Trade
from backtesting.services import backtest_run_answer, backtest_run_create
from backtesting.services.run_rows import run_rows_insert
from tests.backtesting.test_backtest_reuse import PARAMS, wave_symbol

pytestmark = pytest.mark.django_db


def _copy(run: BacktestRun) -> tuple[BacktestRun, list[Trade]]:
    fields = [f for f in BacktestRun._meta.concrete_fields if not f.primary_key]
    again = BacktestRun(**{f.attname: getattr(run, f.attname) for f in fields})
    trades = [
        Trade(
            run=again,
            **{
                f.attname: getattr(trade, f.attname)
                for f in Trade._meta.concrete_fields
                if not f.primary_key and f.name != "run"
            },
        )
        for trade in run.trades.all()
    ]
    return again, trades


def test_the_stored_rows_read_back_as_the_run_and_trades_written(django_user_model):
    analyst = django_user_model.objects.create_user(username="analyst", is_staff=True)
    wave_symbol("ROWS")

    answer = backtest_run_answer(ticker="ROWS", params=PARAMS, user=analyst)
    run = answer.run

    stored = BacktestRun.objects.get(pk=run.pk)
    for field in BacktestRun._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(run, field.attname), field.name
    assert stored.created_by == analyst
    assert stored.initial_investment == Decimal("10000.00")
    assert bytes(stored.equity_curve) == bytes(run.equity_curve)
    trades = list(stored.trades.order_by("number"))
    assert [t.number for t in trades] == list(range(1, stored.trade_count + 1))
    assert stored.trade_count > 0
    # Every trade as answered (the values written) is the trade stored, id included.
    assert answer.trades is not None and len(answer.trades) == len(trades)
    for written, read in zip(answer.trades, trades, strict=True):
        for field in Trade._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(written, field.attname), (
                field.name
            )


def test_a_run_stored_already_is_not_written_again():
    wave_symbol("TWICE")
    run = backtest_run_create(ticker="TWICE", params=PARAMS)
    again, trades = _copy(run)

    assert run_rows_insert(again, trades) is False

    assert again.pk is None
    assert BacktestRun.objects.count() == 1
    assert Trade.objects.count() == run.trade_count


@pytest.mark.django_db(transaction=True)  # autocommit, as in production
def test_new_rows_get_their_ids_and_the_session_keeps_its_commit_setting():
    wave_symbol("IDS")
    run = backtest_run_create(ticker="IDS", params=PARAMS)
    again, trades = _copy(run)
    again.fast = 10  # other inputs: a new run

    assert run_rows_insert(again, trades) is True

    assert BacktestRun.objects.filter(pk=again.pk, fast=10).exists()
    assert [t.pk for t in trades] == list(
        Trade.objects.filter(run=again).order_by("number").values_list("pk", flat=True)
    )
    assert not again._state.adding
    if connection.vendor == "postgresql":
        # synchronous_commit was off for that statement's transaction only.
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"


def test_the_statement_is_prepared_once_on_its_connection():
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL prepared statement")
    wave_symbol("PREP")
    backtest_run_create(ticker="PREP", params=PARAMS)
    backtest_run_create(ticker="PREP", params=replace(PARAMS, fast=10, slow=30))

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements "
            "WHERE statement LIKE %s AND NOT from_sql",
            ['%INSERT INTO "backtesting_backtestrun"%'],
        )
        assert cursor.fetchone()[0] == 1
    assert BacktestRun.objects.count() == 2
