"""Fetching prices: ask the configured provider, keep recent years, store in one go."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import pandas as pd
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.market import normalise_ticker
from core.models import Job
from core.selectors import bars_stored_range, symbol_find
from core.services import (
    Requester,
    job_enqueue,
    prices_upsert,
    symbol_get_or_create,
    symbol_mark_fetched,
)
from ingestion.providers.alpha_vantage import AlphaVantageProvider
from ingestion.providers.base import PriceProvider
from ingestion.providers.errors import MalformedResponse
from ingestion.providers.sample import SAMPLE_NAMES, SampleProvider
from ingestion.selectors import uses_metered_provider, watchlist_refresh_plan
from ingestion.services.metering import DatabaseCallHooks

logger = logging.getLogger(__name__)

# Re-read this many days before the last stored bar, so provider corrections of
# recent days are picked up by the next fetch.
CORRECTION_WINDOW_DAYS = 10


@dataclass(frozen=True)
class FetchResult:
    symbol: str
    source: str
    received: int
    inserted: int
    updated: int
    first_date: date | None
    last_date: date | None
    output_size: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)
    deduplicated: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_date"] = self.first_date.isoformat() if self.first_date else None
        data["last_date"] = self.last_date.isoformat() if self.last_date else None
        data["notes"] = list(self.notes)
        return data


def provider_from_settings() -> PriceProvider:
    """The configured provider: Alpha Vantage with a key, else offline sample data."""
    if not uses_metered_provider():
        return SampleProvider()
    return AlphaVantageProvider(
        api_key=settings.ALPHA_VANTAGE_API_KEY,
        base_url=settings.ALPHA_VANTAGE_BASE_URL,
        plan=settings.ALPHA_VANTAGE_PLAN,
        hooks=DatabaseCallHooks(
            provider=AlphaVantageProvider.name, api_key=settings.ALPHA_VANTAGE_API_KEY
        ),
        read_timeout=settings.ALPHA_VANTAGE_TIMEOUT,
        max_retries=settings.ALPHA_VANTAGE_MAX_RETRIES,
        backoff_factor=settings.ALPHA_VANTAGE_BACKOFF,
    )


@contextlib.contextmanager
def _symbol_fetch_lock(ticker: str) -> Iterator[None]:
    """Serialise fetches of one symbol across processes (PostgreSQL advisory lock).

    SQLite has no such lock; its IMMEDIATE transactions already serialise the
    writes, and it serves only the single-user local install.
    """
    if connection.vendor != "postgresql":
        yield
        return
    lock_key = int.from_bytes(
        hashlib.sha256(f"fetch:{ticker}".encode()).digest()[:8], "big"
    )
    lock_key -= 1 << 63 if lock_key >= 1 << 63 else 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key])


def keep_recent_years(bars: pd.DataFrame, years: int) -> pd.DataFrame:
    """Bars within `years` of the newest bar in the frame."""
    if bars.empty:
        return bars
    newest = bars["date"].max()
    cutoff = (pd.Timestamp(newest) - pd.DateOffset(years=years)).date()
    return bars[bars["date"] >= cutoff].reset_index(drop=True)


def prices_fetch(
    *, ticker: str, provider: PriceProvider | None = None, since: date | None = None
) -> FetchResult:
    """Fetch one symbol's daily bars and store them in one transaction.

    A failed fetch writes nothing: the symbol itself is created only with its bars.
    A fetch that waited while another fetched the same symbol returns that result
    instead of calling the provider again.
    """
    ticker = normalise_ticker(ticker)
    provider = provider or provider_from_settings()
    waited_since = timezone.now()
    with _symbol_fetch_lock(ticker):
        symbol = symbol_find(ticker)
        if symbol and symbol.last_fetched_at and symbol.last_fetched_at >= waited_since:
            first, last = bars_stored_range(symbol)
            return FetchResult(
                symbol=ticker,
                source=provider.name,
                received=0,
                inserted=0,
                updated=0,
                first_date=first,
                last_date=last,
                notes=(
                    "Another fetch of this symbol finished just now; its data is used.",
                ),
                deduplicated=True,
            )
        if since is None and symbol is not None:
            _, last = bars_stored_range(symbol)
            if last is not None:
                since = last - timedelta(days=CORRECTION_WINDOW_DAYS)
        fetched = provider.fetch_daily(ticker, since=since)
        bars = keep_recent_years(fetched.bars, settings.PRICE_HISTORY_YEARS)
        try:
            with transaction.atomic():
                name = (
                    SAMPLE_NAMES.get(ticker, "") if fetched.source == "sample" else ""
                )
                symbol = symbol_get_or_create(ticker=ticker, name=name)
                inserted, updated = prices_upsert(
                    symbol=symbol, bars=bars, source=fetched.source
                )
                symbol_mark_fetched(symbol=symbol)
        except IntegrityError as exc:
            raise MalformedResponse(
                f"The bars for {ticker} break the price rules (low <= open, close <= "
                "high, prices > 0); nothing was stored.",
            ) from exc
    logger.info(
        "Fetched %s from %s: %d received, %d inserted, %d updated",
        ticker,
        fetched.source,
        len(bars),
        inserted,
        updated,
    )
    return FetchResult(
        symbol=ticker,
        source=fetched.source,
        received=len(bars),
        inserted=inserted,
        updated=updated,
        first_date=bars["date"].min() if not bars.empty else None,
        last_date=bars["date"].max() if not bars.empty else None,
        output_size=fetched.output_size,
        notes=fetched.notes,
    )


def watchlist_refresh_enqueue(*, user: Requester = None) -> list[Job]:
    """Queue a fetch for each watchlist symbol today's budget allows; the rest wait."""
    plan = watchlist_refresh_plan()
    if plan.waiting:
        logger.info(
            "Watchlist refresh: %d symbols wait for the next day's provider budget",
            len(plan.waiting),
        )
    return [
        job_enqueue(kind=Job.Kind.FETCH, symbol=symbol, user=user)
        for symbol in plan.to_fetch
    ]
