"""The equity curve is stored packed (backtesting.equity_series); migration 0007 packs
the JSON curves stored before it, and unpacks them again when reversed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from backtesting.equity_series import pack, unpack
from backtesting.models import BacktestRun
from backtesting.params import BacktestParams
from backtesting.selectors import equity_points, run_curve
from backtesting.services import backtest_run_create
from tests.factories import make_bars, make_symbol, price_closes

START = date(2023, 1, 2)
PARAMS = BacktestParams(initial_investment=Decimal(10_000), fast=20, slow=50)


def _run(ticker: str) -> BacktestRun:
    symbol = make_symbol(ticker)
    make_bars(symbol, start=START, closes=price_closes(300, wave=20, wave_period=25))
    return backtest_run_create(ticker=ticker, params=PARAMS)


def test_pack_and_unpack_give_back_the_curves_in_cents():
    dates = np.array(["2024-01-02", "2024-01-03", "2024-01-08"], dtype="datetime64[D]")
    equity = np.array([10_000.0, 10_012.344, 9_990.5])
    hold = np.array([10_000.0, 10_001.0, 9_999.999])

    series = unpack(pack(dates, equity, hold))

    assert series.day_offsets.tolist() == [0, 1, 6]
    assert series.dates(dates[0]).tolist() == dates.tolist()
    assert series.equity.tolist() == [10_000.0, 10_012.34, 9_990.5]
    assert series.buy_hold.tolist() == [10_000.0, 10_001.0, 10_000.0]
    with pytest.raises(ValueError, match="whole number of bars"):
        unpack(b"\x00" * 21)


@pytest.mark.django_db
def test_a_run_reads_back_one_point_per_bar_from_its_first_day():
    run = BacktestRun.objects.get(pk=_run("CURV").pk)

    dates, equity = run_curve(run)
    points = equity_points(run)

    assert len(points) == len(equity) == run.bar_count == 300
    assert points[0] == {"date": "2023-01-02", "equity": 10_000.0, "buy_hold": 10_000.0}
    assert dates[-1].item() == run.end_date
    assert [p["equity"] for p in points] == equity.tolist()


@pytest.mark.django_db(transaction=True)
def test_the_migration_packs_the_json_curves_and_unpacks_them_when_reversed():
    run = _run("MIGR")
    before = equity_points(BacktestRun.objects.get(pk=run.pk))

    call_command("migrate", "backtesting", "0006_research", verbosity=0)
    try:
        state = MigrationExecutor(connection).loader.project_state(
            ("backtesting", "0006_research")
        )
        old_run = state.apps.get_model("backtesting", "BacktestRun")
        curve = old_run.objects.get(pk=run.pk).equity_curve
        assert curve["start"] == "2023-01-02"
        assert len(curve["day_offsets"]) == len(curve["equity"]) == 300
        assert curve["equity"] == [p["equity"] for p in before]
        assert curve["buy_hold"] == [p["buy_hold"] for p in before]
    finally:
        call_command("migrate", "backtesting", verbosity=0)

    assert equity_points(BacktestRun.objects.get(pk=run.pk)) == before


@pytest.mark.django_db
def test_a_curve_is_stored_uncompressed_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the column's storage is PostgreSQL's (migration 0008)")
    run = _run("RAWC")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_column_size(equity_curve), octet_length(equity_curve) "
            "FROM backtesting_backtestrun WHERE id = %s",
            [run.pk],
        )
        stored, length = cursor.fetchone()

    # 300 bars of 20 bytes: out of line, byte for byte (pglz shrank it before).
    assert length == 300 * 20
    assert stored == length
