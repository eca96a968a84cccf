"""The data benchmarks/request.py runs on: GOOG's bars as backtesting.py ships them and
a SPY beside them (the default benchmark every /backtest/ answer is read against),
written straight into the stack's fresh database, and a superuser's API token."""

from __future__ import annotations

import io
from datetime import date
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import psycopg

from benchmarks.stack import Stack, StackError

BACKTEST_TICKER = "GOOG"
BENCHMARK_TICKER = "SPY"
SPY_SEED = 16  # the generated SPY's random walk


def goog_csv() -> Path:
    """GOOG.csv inside the installed backtesting.py distribution; read as a data file,
    never imported (its top-level name is our own app's)."""
    try:
        located = metadata.distribution("backtesting").locate_file(
            "backtesting/test/GOOG.csv"
        )
    except metadata.PackageNotFoundError as exc:
        raise StackError(
            "backtesting.py is not installed (requirements-dev.txt pins it)"
        ) from exc
    return Path(str(located))


def goog_bars() -> pd.DataFrame:
    """date, open, high, low, close, volume: 2,148 daily bars, 2004-08-19 to 2013-03-01."""
    frame = pd.read_csv(goog_csv(), index_col=0, parse_dates=True)
    frame.columns = [c.lower() for c in frame.columns]
    frame.insert(0, "date", frame.index.date)
    return frame.reset_index(drop=True)


def generated_spy(days: list[date]) -> pd.DataFrame:
    """A seeded random walk on GOOG's dates: the benchmark shares every date."""
    rng = np.random.default_rng(SPY_SEED)
    close = 100 * np.exp(np.cumsum(rng.normal(0.0003, 0.012, len(days))))
    opens = np.r_[close[0], close[:-1]]
    return pd.DataFrame(
        {
            "date": days,
            "open": opens.round(4),
            "high": (np.maximum(opens, close) * 1.004).round(4),
            "low": (np.minimum(opens, close) * 0.996).round(4),
            "close": close.round(4),
            "volume": 1_000_000,
        }
    )


def _store(stack: Stack, ticker: str, bars: pd.DataFrame) -> None:
    rows = io.StringIO()
    bars.assign(source="import").to_csv(rows, index=False, header=False)
    # The symbol through its writer, so every column gets its default.
    stack.manage("shell", "-c", _SYMBOL_CREATE.format(ticker=ticker))
    with stack.database() as conn:
        row = conn.execute(
            "SELECT id FROM core_symbol WHERE ticker = %s", [ticker]
        ).fetchone()
        if row is None:
            raise StackError(f"could not store the symbol {ticker}")
        with (
            conn.cursor() as cursor,
            cursor.copy(
                "COPY core_pricebar (date, open, high, low, close, volume, source, "
                "symbol_id) FROM STDIN WITH (FORMAT csv)"
            ) as copy,
        ):
            for line in rows.getvalue().splitlines():
                copy.write(f"{line},{row[0]}\n")
        conn.execute("ANALYZE core_pricebar")


_SYMBOL_CREATE = (
    "from core.services import symbol_get_or_create; "
    "symbol_get_or_create(ticker='{ticker}', name='{ticker} (benchmark data)')"
)
_FIGURES_REFRESH = (
    "from core.models import Symbol; from core.services import symbol_figures_refresh; "
    "symbol_figures_refresh(symbol_ids=Symbol.objects.values_list('pk', flat=True))"
)


def seed(stack: Stack) -> tuple[str, int]:
    """(a superuser's API token, GOOG's bar count), GOOG and SPY stored."""
    stack.manage(
        "createsuperuser", "--noinput", "--username", "bench",
        "--email", "bench@example.com",
    )  # fmt: skip
    token = stack.manage("create_api_token", "bench", "--name", "request bench").strip()
    if not token:
        raise StackError("create_api_token printed no token")
    goog = goog_bars()
    _store(stack, BACKTEST_TICKER, goog)
    _store(stack, BENCHMARK_TICKER, generated_spy(list(goog["date"])))
    # The bars went in by COPY, past the writers that keep each symbol's figures.
    stack.manage("shell", "-c", _FIGURES_REFRESH)
    return token, len(goog)


# Fixed text, the ticker a parameter: the stored runs of one ticker, then their rows.
_FORGET = (
    "DELETE FROM backtesting_trade WHERE run_id IN (SELECT r.id FROM "
    "backtesting_backtestrun r JOIN core_symbol s ON s.id = r.symbol_id "
    "WHERE s.ticker = %s)",
    "DELETE FROM backtesting_comparison_runs WHERE backtestrun_id IN (SELECT r.id "
    "FROM backtesting_backtestrun r JOIN core_symbol s ON s.id = r.symbol_id "
    "WHERE s.ticker = %s)",
    "DELETE FROM backtesting_backtestrun WHERE symbol_id = "
    "(SELECT id FROM core_symbol WHERE ticker = %s)",
)


def forget_runs(database: psycopg.Connection, ticker: str) -> None:
    """Delete the ticker's stored runs, so the next request runs the backtest again
    rather than answering the stored one (DESIGN §10).

    On a connection the caller keeps open (Stack.database()): one opened per call
    made PostgreSQL start a backend and end it beside the request timed next."""
    for statement in _FORGET:
        database.execute(statement, [ticker])
