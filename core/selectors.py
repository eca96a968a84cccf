"""Shared reads of core's models: symbols, their bars, and jobs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse
from psycopg.types.numeric import FloatLoader

from core.adjustment import (
    DEFAULT_ADJUST,
    NONE,
    PRICE_COLUMNS,
    SPLITS,
    TOTAL,
    Action,
    Applied,
    adjustment_block,
)
from core.adjustment import adjust as adjust_frame
from core.errors import NotFound, UnknownSymbol
from core.market import BAR_COLUMNS
from core.model_rows import columns_of, rows_as
from core.models import CorporateAction, Job, PriceBar, Symbol
from core.sessions import session_coverage

# --- Symbols and their bars ----------------------------------------------------------


def symbol_find(ticker: str) -> Symbol | None:
    """The stored Symbol of a normalised ticker, or None."""
    return Symbol.objects.filter(ticker=ticker).first()


def symbols_found(tickers: Iterable[str]) -> dict[str, Symbol | None]:
    """The stored Symbol of each normalised ticker (None if there is none), in one
    query."""
    wanted = sorted(set(tickers))
    if not wanted:
        return {}
    # Raw SQL: compiling the ORM's filter took about as long as the query, and this
    # is the first read of every backtest request.
    quote = connection.ops.quote_name
    table = quote(Symbol._meta.db_table)
    column = quote(Symbol._meta.get_field("ticker").column)
    places = ", ".join(["%s"] * len(wanted))
    sql = f"SELECT {columns_of(Symbol)} FROM {table} WHERE {column} IN ({places})"  # noqa: S608 - names from the model
    stored = {s.ticker: s for s, _ in rows_as(Symbol, sql, wanted)}
    return {ticker: stored.get(ticker) for ticker in wanted}


def symbol_get(ticker: str) -> Symbol:
    """The stored Symbol of a normalised ticker; UnknownSymbol (404) if there is none."""
    symbol = symbol_find(ticker)
    if symbol is None:
        raise UnknownSymbol(ticker)
    return symbol


def symbol_with_bars_get(ticker: str) -> Symbol:
    """Like symbol_get, and a 404 `no_data` when the symbol has no bars yet."""
    symbol = symbol_get(ticker)
    if not PriceBar.objects.filter(symbol=symbol).exists():
        raise NotFound(
            f"{ticker} has no price bars yet; fetch its prices first.",
            code="no_data",
            details={"symbol": ticker},
        )
    return symbol


def bars_frame(
    symbol: Symbol, *, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """The symbol's bars in [start, end] as a frame (Decimal prices), oldest first."""
    return _bars_columns(symbol, start, end, BAR_COLUMNS)


def _in_range(
    symbol: Symbol, start: date | None, end: date | None
) -> QuerySet[PriceBar]:
    bars = PriceBar.objects.filter(symbol=symbol)
    if start is not None:
        bars = bars.filter(date__gte=start)
    if end is not None:
        bars = bars.filter(date__lte=end)
    return bars.order_by("date")


def _bars_columns(
    symbol: Symbol,
    start: date | None,
    end: date | None,
    columns: tuple[str, ...],
    *,
    floats: bool = False,
) -> pd.DataFrame:
    rows = _all_rows(_in_range(symbol, start, end).values_list(*columns), floats=floats)
    return _frame_of(rows, columns, floats=floats)


def _all_rows(
    rows: QuerySet[Any, Any], *, floats: bool = False
) -> list[tuple[Any, ...]]:
    """A values_list's rows in one fetch on PostgreSQL, whose driver already answers
    the Python types (date, Decimal, float): the ORM's iteration costs about as much
    again, in chunks of 100 rows with converters per row. Other databases (SQLite)
    need those converters, so they iterate.

    floats: numeric columns arrive as floats on PostgreSQL (psycopg's float loader,
    for this cursor only), not as a Decimal per value, for work done in floats; other
    databases still answer Decimals, which _frame_of converts.
    """
    if connection.vendor != "postgresql":
        return list(rows)
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        if floats:
            # Parses numeric's text straight into a float, as float(Decimal(text)).
            cursor.cursor.adapters.register_loader("numeric", FloatLoader)
        cursor.execute(sql, params)
        return cursor.fetchall()


def _frame_of(
    rows: list[tuple[Any, ...]], columns: tuple[str, ...], *, floats: bool = False
) -> pd.DataFrame:
    """A frame from rows of `columns`, a column at a time: several times faster than
    DataFrame.from_records on a few thousand bars. With `floats`, the price columns
    are float64 (the nearest double to each stored 4-decimal price)."""
    values = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
    return pd.DataFrame(
        {
            name: pd.Series(column, dtype=_dtype(name, floats=floats, empty=not rows))
            for name, column in zip(columns, values, strict=True)
        }
    )


def _dtype(name: str, *, floats: bool, empty: bool) -> Any:
    if name == "volume" and not empty:
        return np.int64
    if floats and name in PRICE_COLUMNS:
        return np.float64
    return object


def _may_apply(actions: list[Action], adjust: str, start: date | None) -> bool:
    """Whether `adjust` may change bars from `start` on: an action of its kinds
    after start (core.adjustment applies only those after the first bar, and a
    dividend after the last bar, in total mode, rescales every bar)."""
    if adjust == NONE:
        return False
    kinds = {"split"} if adjust == SPLITS else {"split", "dividend"}
    return any(a.kind in kinds and (start is None or a.day > start) for a in actions)


@dataclass(frozen=True)
class AdjustedBars:
    """Bars as the work reads them, and what was done to them (core.adjustment)."""

    frame: pd.DataFrame
    mode: str
    applied: list[Applied]

    def block(self) -> dict[str, Any]:
        return adjustment_block(self.mode, self.applied)


def corporate_actions(symbol: Symbol) -> list[Action]:
    """The symbol's recorded splits and dividends, oldest first."""
    rows = (
        CorporateAction.objects.filter(symbol=symbol)
        .order_by("date", "kind")
        .values_list("kind", "date", "split_factor", "dividend_amount")
    )
    return [
        # The table's check constraint guarantees the value that goes with the kind.
        Action(
            kind=kind,
            day=day,
            value=(factor if kind == "split" else amount) or Decimal(0),
        )
        for kind, day, factor, amount in rows
    ]


def bars_adjusted(
    symbol: Symbol,
    *,
    adjust: str = DEFAULT_ADJUST,
    start: date | None = None,
    end: date | None = None,
) -> AdjustedBars:
    """The symbol's bars in [start, end], adjusted by `adjust` (splits by default)."""
    frame = bars_frame(symbol, start=start, end=end)
    if adjust == NONE or frame.empty:
        return AdjustedBars(frame, adjust, [])
    return _adjusted(symbol, frame, corporate_actions(symbol), adjust)


def _adjusted(
    symbol: Symbol, frame: pd.DataFrame, actions: list[Action], adjust: str
) -> AdjustedBars:
    if adjust == NONE or frame.empty:
        return AdjustedBars(frame, adjust, [])
    last_day = frame["date"].iloc[-1]
    later_dividends = [
        a.day for a in actions if a.kind == "dividend" and a.day > last_day
    ]
    closes_before = _closes_before(symbol, later_dividends) if adjust == TOTAL else None
    adjusted, applied = adjust_frame(
        frame, actions, adjust, closes_before=closes_before
    )
    return AdjustedBars(adjusted, adjust, applied)


# What a run (backtesting.engine) and its warnings (core.split_detection) read.
RUN_COLUMNS = ("date", "open", "close")


@dataclass(frozen=True)
class BarsRead:
    """What a backtest reads of a symbol, read once: its bars as traded, the recorded
    actions, and the bars adjusted by them (the run's series). The warnings about the
    prices (core.data_quality.price_warnings_of) come from the same two reads.

    The frames have at least RUN_COLUMNS; all of BAR_COLUMNS when an action applied.
    """

    as_traded: pd.DataFrame
    actions: list[Action]
    adjusted: AdjustedBars


# What backtests read of a symbol, kept by each process under the symbol's
# data_version, which every writer of its bars and actions changes (core.services):
# a new pair, amount or benchmark on the same bars reads no bar again, and a write
# makes a key not seen before. Shared between callers: never change what they hold.
# A 20-year adjusted read holds about 6 MB, hence few.
_READS_KEPT = 16

type _Reader[T] = Callable[[Symbol, str, date | None, date | None], T]


def kept_per_version[T](read: _Reader[T]) -> _Reader[T]:
    """read(symbol, adjust, start, end), kept per (pk, data_version, adjust, start,
    end); an unsaved symbol is read every time. `read` is given a Symbol with only
    its pk and data_version."""

    @functools.lru_cache(maxsize=_READS_KEPT)
    def kept(
        pk: int, data_version: int, adjust: str, start: date | None, end: date | None
    ) -> T:
        # The version too, so that a kept read made of other kept reads finds them.
        return read(Symbol(pk=pk, data_version=data_version), adjust, start, end)

    def read_or_kept(
        symbol: Symbol, adjust: str, start: date | None, end: date | None
    ) -> T:
        if symbol.pk is None:
            return read(symbol, adjust, start, end)
        return kept(symbol.pk, symbol.data_version, adjust, start, end)

    return read_or_kept


def bars_read(
    symbol: Symbol,
    *,
    adjust: str = DEFAULT_ADJUST,
    start: date | None = None,
    end: date | None = None,
) -> BarsRead:
    """bars_adjusted, keeping the as-traded bars and the actions it read.

    When no action can apply, the bars are read only with the columns a run and its
    warnings use (RUN_COLUMNS), with float prices, and the adjusted frame is the
    as-traded one. (The engine works in floats anyway; adjusting keeps Decimals, as
    core.adjustment computes exactly.) Kept per data_version (kept_per_version):
    the frames are shared, read-only by convention.
    """
    return _bars_read_kept(symbol, adjust, start, end)


@kept_per_version
def _bars_read_kept(
    symbol: Symbol, adjust: str, start: date | None, end: date | None
) -> BarsRead:
    actions = corporate_actions(symbol)
    if _may_apply(actions, adjust, start):
        frame = bars_frame(symbol, start=start, end=end)
        return BarsRead(frame, actions, _adjusted(symbol, frame, actions, adjust))
    frame = _bars_columns(symbol, start, end, RUN_COLUMNS, floats=True)
    return BarsRead(frame, actions, AdjustedBars(frame, adjust, []))


def closes_adjusted(
    symbol: Symbol,
    *,
    adjust: str = DEFAULT_ADJUST,
    start: date | None = None,
    end: date | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(dates as datetime64[D], closes as float64) of bars_adjusted, for work done in
    floats (a benchmark's returns).

    Without an action to apply the closes are read as floats: no Decimal per bar,
    no frame, two of six columns. With one, bars_adjusted computes them exactly,
    then they are converted. Kept per data_version like bars_read, so the arrays
    are read-only.
    """
    return _closes_kept(symbol, adjust, start, end)


@kept_per_version
def _closes_kept(
    symbol: Symbol, adjust: str, start: date | None, end: date | None
) -> tuple[np.ndarray, np.ndarray]:
    actions = corporate_actions(symbol) if adjust != NONE else []
    if _may_apply(actions, adjust, start):
        frame = _adjusted(
            symbol, bars_frame(symbol, start=start, end=end), actions, adjust
        ).frame
        days, closes = list(frame["date"]), list(frame["close"])
    else:
        rows = _all_rows(
            _in_range(symbol, start, end).values_list("date", "close"), floats=True
        )
        days = [row[0] for row in rows]
        closes = [row[1] for row in rows]
    # pandas parses date objects about ten times faster than numpy does.
    dates = pd.to_datetime(pd.Series(days, dtype=object)).to_numpy(
        dtype="datetime64[D]"
    )
    values = np.array(closes, dtype=np.float64)
    dates.flags.writeable = values.flags.writeable = False
    return dates, values


def _closes_before(symbol: Symbol, days: list[date]) -> dict[date, Decimal]:
    """For each day, the as-traded close of the last stored bar before it."""
    if not days:
        return {}
    rows = list(
        PriceBar.objects.filter(symbol=symbol, date__lt=max(days))
        .filter(date__gte=min(days) - timedelta(days=14))
        .order_by("date")
        .values_list("date", "close")
    )
    found: dict[date, Decimal] = {}
    for day in days:
        before = [close for bar_day, close in rows if bar_day < day]
        if before:
            found[day] = before[-1]
    return found


def bars_stored_range(symbol: Symbol | None) -> tuple[date | None, date | None]:
    """First and last stored day of a symbol (None, None without bars)."""
    if symbol is None:
        return None, None
    dates = symbol.bars.order_by("date").values_list("date", flat=True)
    return dates.first(), dates.last()


def closes_on(symbol_id: int, days: list[date]) -> dict[date, Decimal]:
    """The stored close of each of `days` that has a bar."""
    return dict(
        PriceBar.objects.filter(symbol=symbol_id, date__in=days).values_list(
            "date", "close"
        )
    )


def bar_sources(symbol: Symbol) -> list[str]:
    """Where the symbol's stored bars came from (PriceBar.Source values), sorted."""
    return sorted(
        set(PriceBar.objects.filter(symbol=symbol).values_list("source", flat=True))
    )


# Dates a coverage line lists before "and N more": enough to start a backfill from.
COVERAGE_DATES_SHOWN = 10


@dataclass(frozen=True)
class Coverage:
    """A symbol's stored bars counted against NYSE sessions (core.sessions), not
    weekdays: Thanksgiving is no gap, and a bar on a Saturday is flagged, not lost."""

    first_date: date | None
    last_date: date | None
    bar_count: int
    # Sessions from the range's first to its last day, and how many of them have a bar.
    expected_sessions: int
    covered_sessions: int
    missing_sessions: int
    # Oldest first, at most COVERAGE_DATES_SHOWN of them.
    missing_dates: tuple[date, ...]
    # Stored bars on days the exchange was closed: kept as stored, for staff to check.
    closed_day_bars: int
    closed_day_dates: tuple[date, ...]

    def summary(self) -> str:
        """The coverage in one line, as the admin shows it."""
        if not self.bar_count:
            return "No bars yet."
        line = (
            f"{self.bar_count:,} bars from {self.first_date} to {self.last_date}; "
            f"{self.covered_sessions:,} of {self.expected_sessions:,} NYSE sessions "
            f"covered, {self.missing_sessions:,} missing"
        )
        if self.missing_sessions:
            line += f" ({_dates_shown(self.missing_dates, self.missing_sessions)})"
        if self.closed_day_bars:
            line += (
                f"; {self.closed_day_bars:,} bar{'s' if self.closed_day_bars > 1 else ''}"
                " on days the exchange was closed, kept: "
                f"{_dates_shown(self.closed_day_dates, self.closed_day_bars)}"
            )
        return line


def _dates_shown(days: tuple[date, ...], total: int) -> str:
    shown = ", ".join(day.isoformat() for day in days)
    return shown + (f" and {total - len(days):,} more" if total > len(days) else "")


def symbol_coverage(
    symbol: Symbol, *, start: date | None = None, end: date | None = None
) -> Coverage:
    """The symbol's bars in [start, end] against the NYSE sessions of that range.

    Without start or end the range runs from the first to the last stored bar.
    """
    bars = PriceBar.objects.filter(symbol=symbol)
    if start is not None:
        bars = bars.filter(date__gte=start)
    if end is not None:
        bars = bars.filter(date__lte=end)
    dates = list(bars.order_by("date").values_list("date", flat=True))
    first = start or (dates[0] if dates else None)
    last = end or (dates[-1] if dates else None)
    if first is None or last is None:
        return Coverage(None, None, 0, 0, 0, 0, (), 0, ())
    counted = session_coverage(dates, start=first, end=last)
    return Coverage(
        first_date=dates[0] if dates else None,
        last_date=dates[-1] if dates else None,
        bar_count=len(dates),
        expected_sessions=counted.expected,
        covered_sessions=counted.covered,
        missing_sessions=len(counted.missing),
        missing_dates=counted.missing[:COVERAGE_DATES_SHOWN],
        closed_day_bars=len(counted.closed),
        closed_day_dates=counted.closed[:COVERAGE_DATES_SHOWN],
    )


# --- Jobs ----------------------------------------------------------------------------


def job_to_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "symbol": job.ticker,
        "status": job.status,
        "parameters": job.parameters,
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": {"code": job.error_code, "message": job.error} if job.error else None,
        "result": job.result or None,
        "url": reverse("job-detail", args=[job.pk]),
    }


def job_counts_since(since: datetime) -> dict[str, int]:
    """Jobs created since `since`, by status."""
    counts = (
        Job.objects.filter(created_at__gte=since)
        .values("status")
        .annotate(n=Count("id"))
    )
    return {row["status"]: row["n"] for row in counts}


def job_outcomes_by_day(days: int, *, now: datetime) -> list[dict[str, Any]]:
    """Succeeded and failed jobs per UTC day for the last `days` days, oldest first."""
    first = (now - timedelta(days=days - 1)).date()
    rows = (
        Job.objects.filter(created_at__date__gte=first, status__in=Job.FINAL_STATUSES)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
    )
    totals = {(row["day"], row["status"]): row["n"] for row in rows}
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        out.append(
            {
                "day": day,
                "succeeded": totals.get((day, Job.Status.SUCCEEDED), 0),
                "failed": totals.get((day, Job.Status.FAILED), 0),
            }
        )
    return out


def stale_symbols(*, older_than: timedelta, now: datetime) -> QuerySet[Symbol]:
    """Watchlist symbols never fetched, or not fetched for longer than `older_than`."""
    return Symbol.objects.filter(is_active=True).filter(
        Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=now - older_than)
    )
