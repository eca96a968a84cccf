"""The stored run of a backtest's inputs, read with the symbols when the bars can be
foreseen.

A run's inputs (BACKTEST_INPUTS) are the request's parameters and four figures of
its bars: the actions digest, the first and last dates and the count. The bars are
known only once the Symbol is read (its data_version keys the kept reads), so the
look-up was a second query after the Symbol's. This process remembers the bar
figures it last found for each (ticker, adjust, start, end) and reads the Symbols
and the run stored for those figures in one query. The caller then works out the
figures from the bars as always; where they are the ones remembered, that query was
the look-up for these very inputs. Where they differ (new bars, other actions, or
nothing remembered yet), stored_run looks up again, as before.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django.db import connection

from backtesting.models import BACKTEST_INPUTS, BacktestRun
from core.model_rows import columns_of, instance_from, rows_as
from core.models import Symbol

# The inputs that come from the bars rather than from the request.
BAR_INPUTS = ("actions_digest", "start_date", "end_date", "bar_count")
_REMEMBERED = 1024  # (ticker, adjust, start, end) keys; then forgotten all at once

type RangeKey = tuple[str, str, Any, Any]  # ticker, adjust, start, end

# The columns of the model's unique constraint (BACKTEST_INPUTS), in field order.
_INPUT_FIELDS = [
    field
    for field in BacktestRun._meta.concrete_fields
    if field.name in BACKTEST_INPUTS
]
_bar_inputs_seen: dict[RangeKey, dict[str, Any]] = {}


def bar_inputs_expected(key: RangeKey) -> dict[str, Any] | None:
    """The bar figures (BAR_INPUTS) last found for this range in this process, or
    None. Shared: read it, do not change it."""
    return _bar_inputs_seen.get(key)


def bar_inputs_found(key: RangeKey, inputs: dict[str, Any]) -> None:
    """Remember the bar figures of `inputs` for the next request on this range."""
    if len(_bar_inputs_seen) >= _REMEMBERED and key not in _bar_inputs_seen:
        _bar_inputs_seen.clear()
    _bar_inputs_seen[key] = {name: inputs[name] for name in BAR_INPUTS}


# The run's symbol, which the combined read joins rather than takes as a value.
_SYMBOL_FIELD = BacktestRun._meta.get_field("symbol")
_OTHER_FIELDS = [field for field in _INPUT_FIELDS if field is not _SYMBOL_FIELD]


def _prepared(inputs: dict[str, Any], fields: list[Any]) -> list[Any]:
    """The inputs' values as the fields write them (a filter's values)."""
    return [
        field.get_db_prep_value(
            inputs[field.name].pk if field.is_relation else inputs[field.name],
            connection,
        )
        for field in fields
    ]


def stored_run(inputs: dict[str, Any]) -> BacktestRun | None:
    """The run stored for these inputs (backtest_inputs_unique), or None.

    Raw SQL (core.model_rows), with the values prepared by the model's fields as a
    filter would: the ORM took longer to compile this ten-column filter than the
    database to answer.
    """
    found = rows_as(BacktestRun, _stored_run_sql(), _prepared(inputs, _INPUT_FIELDS))
    return found[0][0] if found else None


def symbols_with_run(
    tickers: Iterable[str], ticker: str, inputs: dict[str, Any]
) -> tuple[dict[str, Symbol | None], BacktestRun | None]:
    """core.selectors.symbols_found of `tickers`, and the run stored for `inputs`
    (every input but the symbol, which is ticker's), in one query."""
    wanted = sorted(set(tickers) | {ticker})
    values = _prepared(inputs, _OTHER_FIELDS)
    places = ", ".join(["%s"] * len(wanted))
    rows = rows_as(Symbol, _symbols_with_run_sql(places), [ticker, *values, *wanted])
    stored = {symbol.ticker: symbol for symbol, _ in rows}
    run = next(
        (
            instance_from(BacktestRun, extra)
            for symbol, extra in rows
            if symbol.ticker == ticker and extra[0] is not None
        ),
        None,
    )
    return {name: stored.get(name) for name in wanted}, run


@functools.cache
def _stored_run_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(BacktestRun._meta.db_table)
    where = " AND ".join(f"{quote(field.column)} = %s" for field in _INPUT_FIELDS)
    return f"SELECT {columns_of(BacktestRun)} FROM {table} WHERE {where}"  # noqa: S608 - names from the model


@functools.cache
def _symbols_with_run_sql(places: str) -> str:
    quote = connection.ops.quote_name
    symbol, run = quote("s"), quote("r")
    ticker = f"{symbol}.{quote(Symbol._meta.get_field('ticker').column)}"
    matched = " AND ".join(
        [
            f"{ticker} = %s",
            f"{run}.{quote(_SYMBOL_FIELD.column)} = {symbol}.{quote(Symbol._meta.pk.column)}",
            *(f"{run}.{quote(field.column)} = %s" for field in _OTHER_FIELDS),
        ]
    )
    symbols, runs = quote(Symbol._meta.db_table), quote(BacktestRun._meta.db_table)
    return f"""
        SELECT {columns_of(Symbol, "s")}, {columns_of(BacktestRun, "r")}
        FROM {symbols} {symbol} LEFT JOIN {runs} {run} ON {matched}
        WHERE {ticker} IN ({places})
    """  # noqa: S608 - names from the models
