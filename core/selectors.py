"""Shared reads of core's models: symbols, their bars, and jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse

from core.errors import NotFound, UnknownSymbol
from core.market import BAR_COLUMNS
from core.models import Job, PriceBar, Symbol

# --- Symbols and their bars ----------------------------------------------------------


def symbol_find(ticker: str) -> Symbol | None:
    """The stored Symbol of a normalised ticker, or None."""
    return Symbol.objects.filter(ticker=ticker).first()


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
    bars = PriceBar.objects.filter(symbol=symbol)
    if start is not None:
        bars = bars.filter(date__gte=start)
    if end is not None:
        bars = bars.filter(date__lte=end)
    rows = bars.order_by("date").values_list(*BAR_COLUMNS)
    return pd.DataFrame.from_records(list(rows), columns=list(BAR_COLUMNS))


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


@dataclass(frozen=True)
class Coverage:
    first_date: date | None
    last_date: date | None
    bar_count: int
    missing_weekdays: int


def symbol_coverage(symbol: Symbol) -> Coverage:
    """First and last stored day, bar count, and weekdays between them with no bar.

    Exchange holidays count as missing weekdays; the figure is a hint for
    backfilling, not an exact count of lost sessions.
    """
    dates = list(
        PriceBar.objects.filter(symbol=symbol)
        .order_by("date")
        .values_list("date", flat=True)
    )
    if not dates:
        return Coverage(None, None, 0, 0)
    weekdays = int(np.busday_count(dates[0], dates[-1])) + 1
    return Coverage(dates[0], dates[-1], len(dates), max(0, weekdays - len(dates)))


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
