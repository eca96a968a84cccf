"""Shared reads of price data: coverage per symbol and provider usage today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from django.conf import settings
from django.db.models import F, Q, Sum

from core.models import PriceBar, Symbol
from ingestion.models import ProviderDailyUsage
from ingestion.providers.base import BAR_COLUMNS


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


def provider_calls_today() -> tuple[int, int]:
    """(calls used today UTC across all keys, the daily limit of one key)."""
    today = datetime.now(tz=UTC).date()
    used = ProviderDailyUsage.objects.filter(day=today).aggregate(total=Sum("calls"))[
        "total"
    ]
    return used or 0, settings.ALPHA_VANTAGE_DAILY_LIMIT


def bars_frame(
    symbol: Symbol, *, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """The symbol's bars in [start, end] as a frame (Decimal prices), oldest first."""
    bars = PriceBar.objects.filter(symbol=symbol)
    if start is not None:
        bars = bars.filter(date__gte=start)
    if end is not None:
        bars = bars.filter(date__lte=end)
    rows = bars.order_by("date").values_list(
        "date", "open", "high", "low", "close", "volume"
    )
    return pd.DataFrame.from_records(list(rows), columns=list(BAR_COLUMNS))


@dataclass(frozen=True)
class RefreshPlan:
    """Which watchlist symbols today's remaining provider budget can refresh."""

    to_fetch: list[Symbol]
    waiting: list[Symbol]
    calls_left: int | None  # None: the provider has no daily budget (sample data)


def watchlist_refresh_plan(*, now: datetime | None = None) -> RefreshPlan:
    """Active symbols not fetched today, oldest first, cut at the calls left today.

    One call per symbol is assumed (a known free key asks compact once); a symbol
    that needs more is refused by the budget check and waits for the next day too.
    """
    now = now or datetime.now(tz=UTC)
    start_of_day = datetime.combine(now.date(), datetime.min.time(), UTC)
    due = list(
        Symbol.objects.filter(is_active=True)
        .filter(Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=start_of_day))
        .order_by(F("last_fetched_at").asc(nulls_first=True), "ticker")
    )
    if not uses_metered_provider():
        return RefreshPlan(to_fetch=due, waiting=[], calls_left=None)
    used, limit = provider_calls_today()
    left = max(0, limit - used)
    return RefreshPlan(to_fetch=due[:left], waiting=due[left:], calls_left=left)


def uses_metered_provider() -> bool:
    """Whether fetches go to Alpha Vantage (budgeted) rather than offline samples."""
    choice = settings.PRICE_PROVIDER
    return choice == "alpha_vantage" or (
        choice == "auto" and bool(settings.ALPHA_VANTAGE_API_KEY)
    )
