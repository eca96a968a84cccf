"""A backtest's parameters read from a query string: one reading for /backtest/, the
sweep's shared fields and /compare/, so their bounds and messages cannot drift."""

from __future__ import annotations

from decimal import Decimal

from django.http import QueryDict

from backtesting.params import BacktestParams, parse_adjust
from core.api.validation import parse_date, parse_decimal, parse_int, parse_money


def parse_window(query: QueryDict, name: str, *, default: int) -> int:
    return parse_int(
        query,
        name,
        default=default,
        minimum=BacktestParams.MIN_WINDOW,
        maximum=BacktestParams.MAX_WINDOW,
    )


def parse_investment(raw: str, *, name: str) -> Decimal:
    return parse_money(
        raw,
        name=name,
        maximum=BacktestParams.MAX_INVESTMENT,
        decimals=BacktestParams.INVESTMENT_DECIMALS,
    )


def parse_commission(query: QueryDict) -> Decimal:
    return parse_decimal(
        query,
        "commission",
        default=Decimal(0),
        minimum=Decimal(0),
        maximum=BacktestParams.MAX_COMMISSION,
        decimals=BacktestParams.COMMISSION_DECIMALS,
    )


def backtest_params(
    query: QueryDict, *, investment: str, investment_name: str
) -> BacktestParams:
    """fast, slow, start, end, commission and adjust from `query`; the investment from
    the path (/backtest/) or a parameter (/compare/), named in errors as `investment_name`.
    """
    return BacktestParams(
        initial_investment=parse_investment(investment, name=investment_name),
        fast=parse_window(query, "fast", default=BacktestParams.DEFAULT_FAST),
        slow=parse_window(query, "slow", default=BacktestParams.DEFAULT_SLOW),
        start=parse_date(query, "start"),
        end=parse_date(query, "end"),
        commission=parse_commission(query),
        adjust=parse_adjust(query),
    )
