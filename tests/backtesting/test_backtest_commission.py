"""A commission is stored as asked or refused: never rounded away to 0."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backtesting.models import BacktestRun
from backtesting.params import BacktestParams, check_commission
from core.errors import InvalidInput
from tests.factories import make_bars, make_symbol, price_closes


@pytest.fixture
def wavy(db):
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(
        symbol,
        start=date(2023, 1, 2),
        closes=price_closes(120, wave=20, wave_period=25, trend=0.05),
    )
    return symbol


@pytest.mark.parametrize(
    "value", [Decimal(0), Decimal("0.00001"), Decimal("0.00100"), Decimal("0.05")]
)
def test_the_rule_accepts_what_a_run_can_store(value):
    check_commission(value)
    assert BacktestParams(initial_investment=Decimal(1000), commission=value)


@pytest.mark.parametrize(
    "value",
    [
        Decimal("0.000001"),
        Decimal("0.000010"),
        Decimal("1E-6"),
        Decimal("NaN"),
        Decimal("Infinity"),
        Decimal("-0.001"),
        Decimal("0.0501"),
    ],
)
def test_the_rule_refuses_more_decimals_than_stored_and_values_out_of_range(value):
    with pytest.raises(InvalidInput) as info:
        BacktestParams(initial_investment=Decimal(1000), commission=value)
    assert info.value.details == {"parameter": "commission"}
    assert (
        f"at most {BacktestParams.COMMISSION_DECIMALS} decimals" in info.value.message
    )


@pytest.mark.parametrize(
    "raw",
    ["0.000001", "0.0000049", "0.000010", "1e-3", "1E-5", "NaN", "Infinity", "-0"],
)
def test_the_endpoint_answers_400_and_runs_nothing(token_client, wavy, raw):
    response = token_client.get(
        "/backtest/WAVE/1000/", {"fast": "5", "slow": "20", "commission": raw}
    )

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["details"] == {"parameter": "commission"}
    assert "at most 5 decimals" in error["message"]
    assert not BacktestRun.objects.exists()


def test_the_smallest_commission_allowed_is_stored_as_given(token_client, wavy):
    response = token_client.get(
        "/backtest/WAVE/1000/", {"fast": "5", "slow": "20", "commission": "0.00001"}
    )

    assert response.status_code == 200, response.content
    run = BacktestRun.objects.get()
    assert run.commission == Decimal("0.00001")
    assert response.json()["parameters"]["commission"] == pytest.approx(0.00001)
