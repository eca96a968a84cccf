"""The only writers of price data and provider usage: fetch, upsert, meter, enqueue."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pandas as pd
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from core.api.validation import normalise_ticker
from core.models import Job, PriceBar, Symbol
from core.services import job_create, job_set_task_id
from ingestion.models import ProviderAccount, ProviderDailyUsage
from ingestion.providers.alpha_vantage import (
    AlphaVantageProvider,
    seconds_until_next_utc_midnight,
)
from ingestion.providers.base import PriceProvider
from ingestion.providers.errors import MalformedResponse, RateLimited
from ingestion.providers.sample import SAMPLE_NAMES, SampleProvider
from ingestion.selectors import uses_metered_provider, watchlist_refresh_plan

logger = logging.getLogger(__name__)

_PRICE_STEP = Decimal("0.0001")
# Re-read this many days before the last stored bar, so provider corrections of
# recent days are picked up by the next fetch.
CORRECTION_WINDOW_DAYS = 10
FETCH_TASK = "ingestion.tasks.fetch_prices_task"


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


# --- Provider metering -------------------------------------------------------------


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _utc_today() -> date:
    return datetime.now(tz=UTC).date()


def seconds_until_utc_midnight(now: datetime | None = None) -> int:
    now = now or datetime.now(tz=UTC)
    midnight = datetime.combine(
        now.date() + timedelta(days=1), datetime.min.time(), UTC
    )
    return max(60, int((midnight - now).total_seconds()) + 1)


def _account(provider: str, fingerprint: str) -> ProviderAccount:
    account, _ = ProviderAccount.objects.get_or_create(
        provider=provider, key_fingerprint=fingerprint
    )
    return account


@transaction.atomic
def provider_call_reserve(
    *, provider: str, fingerprint: str, daily_limit: int, min_interval: float
) -> datetime:
    """Count one provider call against today's budget and space it from the last one.

    The account row is locked while waiting, so calls from every process and
    worker queue behind each other. Returns the moment the call was cleared to go.
    """
    account_id = _account(provider, fingerprint).pk
    account = ProviderAccount.objects.select_for_update().get(pk=account_id)
    usage, _ = ProviderDailyUsage.objects.get_or_create(
        account=account, day=_utc_today()
    )
    if usage.calls >= daily_limit:
        raise RateLimited(
            f"The daily budget of {daily_limit} provider calls is used up; "
            "fetches resume after midnight UTC.",
            code="daily_budget_exhausted",
            details={
                "limit": "budget",
                "calls_today": usage.calls,
                "daily_limit": daily_limit,
            },
            retry_after=seconds_until_next_utc_midnight(datetime.now(tz=UTC)),
        )
    if account.last_call_at is not None and min_interval > 0:
        wait = min_interval - (timezone.now() - account.last_call_at).total_seconds()
        if wait > 0:
            time.sleep(wait)
    account.last_call_at = timezone.now()
    account.save(update_fields=["last_call_at"])
    usage.calls += 1
    usage.save(update_fields=["calls"])
    return account.last_call_at


def provider_plan_record(*, provider: str, fingerprint: str, plan: str) -> None:
    ProviderAccount.objects.filter(pk=_account(provider, fingerprint).pk).update(
        detected_plan=plan, plan_detected_at=timezone.now()
    )


class DatabaseCallHooks:
    """Meters provider calls and remembers a key's plan in the database."""

    def __init__(self, *, provider: str, api_key: str) -> None:
        self.provider = provider
        self.fingerprint = key_fingerprint(api_key)

    def before_call(self) -> None:
        provider_call_reserve(
            provider=self.provider,
            fingerprint=self.fingerprint,
            daily_limit=settings.ALPHA_VANTAGE_DAILY_LIMIT,
            min_interval=settings.ALPHA_VANTAGE_MIN_INTERVAL,
        )

    def known_plan(self) -> str | None:
        plan = (
            ProviderAccount.objects.filter(
                provider=self.provider, key_fingerprint=self.fingerprint
            )
            .values_list("detected_plan", flat=True)
            .first()
        )
        return plan or None

    def plan_detected(self, plan: str) -> None:
        provider_plan_record(
            provider=self.provider, fingerprint=self.fingerprint, plan=plan
        )


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


# --- Fetch and upsert --------------------------------------------------------------


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


def _bar_values(row: Any) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:
    return (
        Decimal(row.open).quantize(_PRICE_STEP, rounding=ROUND_HALF_EVEN),
        Decimal(row.high).quantize(_PRICE_STEP, rounding=ROUND_HALF_EVEN),
        Decimal(row.low).quantize(_PRICE_STEP, rounding=ROUND_HALF_EVEN),
        Decimal(row.close).quantize(_PRICE_STEP, rounding=ROUND_HALF_EVEN),
        int(row.volume),
    )


def prices_upsert(
    *, symbol: Symbol, bars: pd.DataFrame, source: str
) -> tuple[int, int]:
    """Insert new days and update changed ones; returns (inserted, updated).

    Unchanged days are not written at all, so a re-fetch of the same data costs one
    read and reports 0 inserted, 0 updated. The write is INSERT ... ON CONFLICT
    DO UPDATE, so a bar that appeared meanwhile is updated instead of failing.
    """
    if bars.empty:
        return 0, 0
    existing = {
        bar.date: ((bar.open, bar.high, bar.low, bar.close, bar.volume), bar.source)
        for bar in PriceBar.objects.filter(
            symbol=symbol, date__gte=bars["date"].min(), date__lte=bars["date"].max()
        )
    }
    to_write: list[PriceBar] = []
    inserted = updated = 0
    for row in bars.itertuples(index=False):
        values = _bar_values(row)
        before = existing.get(row.date)
        if before is None:
            inserted += 1
        elif before != (values, source):
            updated += 1
        else:
            continue
        opened, high, low, close, volume = values
        to_write.append(
            PriceBar(
                symbol=symbol,
                date=row.date,
                open=opened,
                high=high,
                low=low,
                close=close,
                volume=volume,
                source=source,
            )
        )
    PriceBar.objects.bulk_create(
        to_write,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["symbol", "date"],
        update_fields=["open", "high", "low", "close", "volume", "source"],
    )
    return inserted, updated


def _stored_range(symbol: Symbol | None) -> tuple[date | None, date | None]:
    if symbol is None:
        return None, None
    dates = symbol.bars.order_by("date").values_list("date", flat=True)
    return dates.first(), dates.last()


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
        symbol = Symbol.objects.filter(ticker=ticker).first()
        if symbol and symbol.last_fetched_at and symbol.last_fetched_at >= waited_since:
            first, last = _stored_range(symbol)
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
            _, last = _stored_range(symbol)
            if last is not None:
                since = last - timedelta(days=CORRECTION_WINDOW_DAYS)
        fetched = provider.fetch_daily(ticker, since=since)
        bars = keep_recent_years(fetched.bars, settings.PRICE_HISTORY_YEARS)
        try:
            with transaction.atomic():
                name = (
                    SAMPLE_NAMES.get(ticker, "") if fetched.source == "sample" else ""
                )
                symbol, _ = Symbol.objects.get_or_create(
                    ticker=ticker, defaults={"name": name}
                )
                inserted, updated = prices_upsert(
                    symbol=symbol, bars=bars, source=fetched.source
                )
                symbol.last_fetched_at = timezone.now()
                symbol.save(update_fields=["last_fetched_at"])
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


# --- Background fetches ------------------------------------------------------------


def _enqueue_fetch(job_id: int) -> None:
    task_id = async_task(
        FETCH_TASK, job_id, task_name=f"fetch-job-{job_id}", group="fetch"
    )
    job_set_task_id(job_id=job_id, task_id=str(task_id))


def fetch_job_enqueue(*, ticker: str, user: AbstractBaseUser | None = None) -> Job:
    """Create a queued fetch Job and hand it to Django-Q2 once the Job is committed."""
    job = job_create(
        kind=Job.Kind.FETCH,
        ticker=ticker,
        symbol=Symbol.objects.filter(ticker=ticker).first(),
        created_by=user,
    )
    transaction.on_commit(lambda: _enqueue_fetch(job.pk))
    return job


def watchlist_refresh_enqueue(*, user: AbstractBaseUser | None = None) -> list[Job]:
    """Queue a fetch for each watchlist symbol today's budget allows; the rest wait."""
    plan = watchlist_refresh_plan()
    if plan.waiting:
        logger.info(
            "Watchlist refresh: %d symbols wait for the next day's provider budget",
            len(plan.waiting),
        )
    return [
        fetch_job_enqueue(ticker=symbol.ticker, user=user) for symbol in plan.to_fetch
    ]


REFRESH_SCHEDULE_NAME = "Nightly watchlist refresh"
REFRESH_TASK = "ingestion.tasks.refresh_watchlist_task"
# 22:30 UTC is after the US close (16:00 New York) in summer and winter time.
REFRESH_AT = (22, 30)


SWEEP_SCHEDULE_NAME = "Sweep stuck jobs"
SWEEP_TASK = "core.tasks.sweep_stuck_jobs_task"


def schedules_setup(*, now: datetime | None = None) -> Schedule:
    """Create or update the nightly refresh (returned) and the stuck-job sweeper.

    Running it again changes nothing.
    """
    now = now or datetime.now(tz=UTC)
    first_run = now.replace(
        hour=REFRESH_AT[0], minute=REFRESH_AT[1], second=0, microsecond=0
    )
    if first_run <= now:
        first_run += timedelta(days=1)
    Schedule.objects.update_or_create(
        name=SWEEP_SCHEDULE_NAME,
        defaults={"func": SWEEP_TASK, "schedule_type": Schedule.MINUTES, "minutes": 10},
        create_defaults={
            "func": SWEEP_TASK,
            "schedule_type": Schedule.MINUTES,
            "minutes": 10,
            "repeats": -1,
            "next_run": now,
        },
    )
    schedule, created = Schedule.objects.get_or_create(
        name=REFRESH_SCHEDULE_NAME,
        defaults={
            "func": REFRESH_TASK,
            "schedule_type": Schedule.DAILY,
            "next_run": first_run,
            "repeats": -1,
        },
    )
    if not created and (schedule.func, schedule.schedule_type) != (
        REFRESH_TASK,
        Schedule.DAILY,
    ):
        schedule.func, schedule.schedule_type = REFRESH_TASK, Schedule.DAILY
        schedule.save(update_fields=["func", "schedule_type"])
    return schedule
