"""Fetching prices: ask the configured provider, keep recent years, store in one go."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from core.market import normalise_ticker
from core.models import Job, Symbol
from core.selectors import bars_stored_range, symbol_find
from core.services import (
    Requester,
    job_enqueue,
    prices_upsert,
    symbol_get_or_create,
    symbol_mark_fetched,
)
from core.sessions import final_daily_bars
from ingestion.providers import errors as provider_errors
from ingestion.providers.alpha_vantage import AlphaVantageProvider
from ingestion.providers.base import CallHooks, PriceProvider
from ingestion.providers.errors import MalformedResponse, ProviderError, ProviderTimeout
from ingestion.providers.sample import SAMPLE_NAMES, SampleProvider
from ingestion.selectors import uses_metered_provider, watchlist_refresh_plan
from ingestion.services.corporate_actions import corporate_actions_refresh
from ingestion.services.metering import DatabaseCallHooks

logger = logging.getLogger(__name__)

# Re-read this many days before the last stored bar, so provider corrections of
# recent days are picked up by the next fetch.
CORRECTION_WINDOW_DAYS = 10
# A symbol fetched this recently is answered from the database. Requests that a
# busy server queues (gunicorn serves a few at a time, Django-Q2 runs a few Jobs at
# a time) reach the fetch after the first one finished; daily bars do not change
# in a minute, and a free key has 25 calls a day.
REUSE_WINDOW = timedelta(seconds=60)
# How long a failed fetch's error stays readable by the fetches that waited for it.
_FAILURE_SECONDS = 600
# PostgreSQL's SQLSTATE for a lock wait cut off by lock_timeout.
_LOCK_NOT_AVAILABLE = "55P03"
_SHAREABLE_ERRORS: dict[str, type[ProviderError]] = {
    cls.__name__: cls
    for cls in vars(provider_errors).values()
    if isinstance(cls, type) and issubclass(cls, ProviderError)
}


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
    # The splits and dividends refreshed with the prices (ActionsOutcome.as_dict);
    # None when the answer is another fetch's (deduplicated).
    corporate_actions: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["first_date"] = self.first_date.isoformat() if self.first_date else None
        data["last_date"] = self.last_date.isoformat() if self.last_date else None
        data["notes"] = list(self.notes)
        return data


def provider_from_settings(*, deadline: float | None = None) -> PriceProvider:
    """The configured provider: Alpha Vantage with a key, else offline sample data.

    `deadline` (a time.monotonic() instant) bounds the whole call, the wait for a
    call slot included; None bounds only each attempt (a background Job).
    """
    if not uses_metered_provider():
        return SampleProvider()
    hooks: CallHooks = DatabaseCallHooks(
        provider=AlphaVantageProvider.name, api_key=settings.ALPHA_VANTAGE_API_KEY
    )
    if deadline is not None:
        hooks = _DeadlineCallHooks(hooks, deadline=deadline)
    return AlphaVantageProvider(
        api_key=settings.ALPHA_VANTAGE_API_KEY,
        base_url=settings.ALPHA_VANTAGE_BASE_URL,
        plan=settings.ALPHA_VANTAGE_PLAN,
        hooks=hooks,
        read_timeout=settings.ALPHA_VANTAGE_TIMEOUT,
        max_retries=settings.ALPHA_VANTAGE_MAX_RETRIES,
        backoff_factor=settings.ALPHA_VANTAGE_BACKOFF,
        deadline=deadline,
    )


@contextlib.contextmanager
def _lock_waits_cut_at(
    deadline: float | None, timeout_error: ProviderTimeout
) -> Iterator[None]:
    """Cut the database lock waits inside off at `deadline`, raising timeout_error.

    PostgreSQL's lock_timeout, set for the session and reset after. The statements
    inside must run in an atomic block, so a cut-off wait leaves no broken
    transaction behind. SQLite waits on its own busy timeout.
    """
    if deadline is None or connection.vendor != "postgresql":
        yield
        return
    left_ms = int((deadline - time.monotonic()) * 1000)
    if left_ms <= 0:
        raise timeout_error
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, false)", [f"{left_ms}ms"])
    try:
        yield
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != _LOCK_NOT_AVAILABLE:
            raise
        raise timeout_error from None
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


class _DeadlineCallHooks:
    """The metering hooks, with the wait for a call slot ending at the deadline.

    Calls from every worker queue on one database row (ingestion.services.metering);
    behind a few other fetches that wait is seconds.
    """

    def __init__(self, hooks: CallHooks, *, deadline: float) -> None:
        self.hooks = hooks
        self.deadline = deadline

    def before_call(self, *, leave: int = 0) -> None:
        timeout_error = ProviderTimeout(
            "Other fetches were ahead in the queue for Alpha Vantage calls (calls "
            "are spaced across all workers) until this fetch's deadline; nothing "
            "was stored.",
            details={"reason": "deadline", "waiting_for": "call_slot"},
        )
        with _lock_waits_cut_at(self.deadline, timeout_error):
            self.hooks.before_call(leave=leave)

    def known_plan(self) -> str | None:
        return self.hooks.known_plan()

    def plan_detected(self, plan: str) -> None:
        self.hooks.plan_detected(plan)


@contextlib.contextmanager
def _symbol_fetch_lock(ticker: str, *, deadline: float | None = None) -> Iterator[None]:
    """Serialise fetches of one symbol across processes (PostgreSQL advisory lock).

    With a deadline, waiting for the lock ends there (ProviderTimeout). SQLite has
    no such lock; its IMMEDIATE transactions already serialise the writes, and it
    serves only the single-user local install.
    """
    if connection.vendor != "postgresql":
        yield
        return
    lock_key = int.from_bytes(
        hashlib.sha256(f"fetch:{ticker}".encode()).digest()[:8], "big"
    )
    lock_key -= 1 << 63 if lock_key >= 1 << 63 else 0
    timeout_error = ProviderTimeout(
        f"Another fetch of {ticker} was still waiting for the provider at this "
        "fetch's deadline; nothing was stored by this one.",
        details={"symbol": ticker, "reason": "deadline", "waiting_for": "other_fetch"},
    )
    with (
        _lock_waits_cut_at(deadline, timeout_error),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        # A session lock: it outlives this transaction, until the unlock below.
        cursor.execute("SELECT pg_advisory_lock(%s)", [lock_key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key])


# --- one outcome for fetches that overlap -------------------------------------------
# A fetch that waited for another fetch of the same symbol answers that fetch's
# outcome instead of calling the provider again. Success is read from the database
# (Symbol.last_fetched_at moved); a failure is kept in the cache, which every web
# process and worker shares where Redis is configured (else each process has its
# own, and a waiter in another process makes its own call, as before).


def _failure_key(ticker: str) -> str:
    return f"ingestion:fetch-failure:{ticker}"


def _failure_entry(ticker: str) -> dict[str, Any] | None:
    try:
        return cache.get(_failure_key(ticker))
    except Exception:  # a cache outage must not fail the fetch itself
        logger.warning("Fetch failures cache unreadable", exc_info=True)
        return None


def _failure_seen(ticker: str) -> str | None:
    """The token of the latest recorded failure of `ticker`, if any."""
    entry = _failure_entry(ticker)
    return entry["token"] if entry else None


def _failure_record(ticker: str, error: ProviderError) -> None:
    if isinstance(error, ProviderTimeout) and not error.details.get("attempts"):
        # Its own deadline ran out before it asked the provider anything: a fetch
        # with more time (a Job) should still ask.
        return
    entry = {
        "token": uuid.uuid4().hex,
        "class": type(error).__name__,
        "message": error.message,
        "code": error.code,
        "status": error.status,
        "details": error.details,
        "retry_after": error.retry_after,
    }
    try:
        cache.set(_failure_key(ticker), entry, timeout=_FAILURE_SECONDS)
    except Exception:  # a cache outage must not hide the provider's error
        logger.warning("Fetch failures cache unwritable", exc_info=True)


def _failure_since(ticker: str, seen: str | None) -> ProviderError | None:
    """The failure of a fetch that ended after `seen` was read, rebuilt."""
    entry = _failure_entry(ticker)
    if not entry or entry["token"] == seen:
        return None
    error_class = _SHAREABLE_ERRORS.get(entry["class"], ProviderError)
    return error_class(
        entry["message"],
        code=entry["code"],
        status=entry["status"],
        details={**entry["details"], "from_other_fetch": True},
        retry_after=entry["retry_after"],
    )


def _fetched_since(
    symbol: Symbol | None, *, seen: datetime | None, not_before: datetime
) -> datetime | None:
    """When `symbol` was last fetched, if that answers this fetch: a fetch ended
    while this one waited (the stamp moved from `seen`), or not before `not_before`."""
    fetched_at = symbol.last_fetched_at if symbol else None
    if fetched_at is None:
        return None
    if fetched_at != seen or fetched_at >= not_before:
        return fetched_at
    return None


def _reused(symbol: Symbol, *, fetched_at: datetime, source: str) -> FetchResult:
    first, last = bars_stored_range(symbol)
    return FetchResult(
        symbol=symbol.ticker,
        source=source,
        received=0,
        inserted=0,
        updated=0,
        first_date=first,
        last_date=last,
        notes=(
            f"{symbol.ticker} was fetched moments ago (at "
            f"{fetched_at.astimezone(UTC):%H:%M:%S} UTC); its stored bars "
            "are answered instead of calling the provider again.",
        ),
        deduplicated=True,
    )


def keep_recent_years(bars: pd.DataFrame, years: int) -> pd.DataFrame:
    """Bars within `years` of the newest bar in the frame."""
    if bars.empty:
        return bars
    newest = bars["date"].max()
    cutoff = (pd.Timestamp(newest) - pd.DateOffset(years=years)).date()
    return bars[bars["date"] >= cutoff].reset_index(drop=True)


def prices_fetch(
    *,
    ticker: str,
    provider: PriceProvider | None = None,
    since: date | None = None,
    deadline: float | None = None,
    reuse_within: timedelta = REUSE_WINDOW,
) -> FetchResult:
    """Fetch one symbol's daily bars and store them in one transaction.

    A failed fetch writes nothing: the symbol itself is created only with its bars.
    Overlapping fetches of one symbol make one provider call: a fetch that waited
    for another answers that one's outcome (its stored bars, or its error), and a
    symbol fetched within `reuse_within` (REUSE_WINDOW) is answered from the
    database. `deadline` (a time.monotonic() instant) bounds the whole fetch, waits
    included: past it the fetch raises ProviderTimeout.
    """
    ticker = normalise_ticker(ticker)
    not_before = timezone.now() - reuse_within
    seen_failure = _failure_seen(ticker)
    known = symbol_find(ticker)
    seen_fetch = known.last_fetched_at if known else None
    provider = provider or provider_from_settings(deadline=deadline)
    fetched_at = _fetched_since(known, seen=seen_fetch, not_before=not_before)
    if known and fetched_at:
        return _reused(known, fetched_at=fetched_at, source=provider.name)
    with _symbol_fetch_lock(ticker, deadline=deadline):
        symbol = symbol_find(ticker)
        fetched_at = _fetched_since(symbol, seen=seen_fetch, not_before=not_before)
        if symbol and fetched_at:
            return _reused(symbol, fetched_at=fetched_at, source=provider.name)
        failure = _failure_since(ticker, seen_failure)
        if failure is not None:
            raise failure
        try:
            stored = _fetch_and_store(ticker, symbol, provider=provider, since=since)
        except ProviderError as exc:
            _failure_record(ticker, exc)
            raise
        # After the prices' transaction, still holding the symbol's lock: a failed
        # actions call leaves the stored prices as they are (a note says so).
        actions = corporate_actions_refresh(ticker=ticker, provider=provider)
        return replace(
            stored,
            notes=stored.notes + actions.notes,
            corporate_actions=actions.as_dict(),
        )


def _fetch_and_store(
    ticker: str, symbol: Symbol | None, *, provider: PriceProvider, since: date | None
) -> FetchResult:
    if since is None and symbol is not None:
        _, last = bars_stored_range(symbol)
        if last is not None:
            since = last - timedelta(days=CORRECTION_WINDOW_DAYS)
    fetched = provider.fetch_daily(ticker, since=since)
    now = timezone.now()
    final, held_back = final_daily_bars(fetched.bars, now)
    bars = keep_recent_years(final, settings.PRICE_HISTORY_YEARS)
    try:
        with transaction.atomic():
            name = SAMPLE_NAMES.get(ticker, "") if fetched.source == "sample" else ""
            symbol = symbol_get_or_create(ticker=ticker, name=name)
            inserted, updated = prices_upsert(
                symbol=symbol, bars=bars, source=fetched.source, now=now
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
        notes=fetched.notes + _held_back_notes(held_back),
    )


def _held_back_notes(held_back: int) -> tuple[str, ...]:
    if not held_back:
        return ()
    if held_back == 1:
        told, them = "1 bar was held back: its session had not closed yet", "it"
    else:
        told = f"{held_back:,} bars were held back: their sessions had not closed yet"
        them = "them"
    return (
        f"{told} (a daily bar is final after the New York close, 16:00); a fetch "
        f"after the close stores {them}.",
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
