"""core.model_rows: raw SQL rows as the instances the ORM would read."""

from __future__ import annotations

import pytest
from django.db import connection

from backtesting.models import BacktestRun
from backtesting.services import backtest_run_create
from core.model_rows import columns_of, rows_as
from core.models import Symbol
from tests.backtesting.test_backtest_reuse import PARAMS, wave_symbol

pytestmark = pytest.mark.django_db


def _same_fields(found, expected) -> None:
    for field in type(expected)._meta.concrete_fields:
        value = getattr(found, field.attname)
        assert value == getattr(expected, field.attname), field.name
        assert type(value) is type(getattr(expected, field.attname)), field.name


def test_rows_read_as_the_orm_reads_them_with_the_columns_after():
    wave_symbol("ROWS")
    run = backtest_run_create(ticker="ROWS", params=PARAMS)
    table = connection.ops.quote_name(BacktestRun._meta.db_table)

    [(found, extra)] = rows_as(
        BacktestRun,
        f"SELECT {columns_of(BacktestRun)}, 7 FROM {table} WHERE id = %s",  # noqa: S608
        [run.pk],
    )

    expected = BacktestRun.objects.get(pk=run.pk)
    _same_fields(found, expected)  # dates, decimals, JSON, bytes, datetimes
    assert bytes(found.equity_curve) == bytes(expected.equity_curve)
    assert extra == (7,)
    assert not found._state.adding and found._state.db == "default"


def test_qualified_columns_and_no_rows():
    symbol = wave_symbol("QUAL")
    table = connection.ops.quote_name(Symbol._meta.db_table)
    sql = f"SELECT {columns_of(Symbol, 's')} FROM {table} s WHERE s.ticker = %s"  # noqa: S608

    [(found, extra)] = rows_as(Symbol, sql, ["QUAL"])

    _same_fields(found, Symbol.objects.get(pk=symbol.pk))
    assert extra == ()
    assert rows_as(Symbol, sql, ["NONE"]) == []
