"""Shared reads of ingestion: provider usage today, the watchlist refresh plan and
the fetches still waiting for a provider call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import F, Q, Sum

from core.models import Job, Symbol
from ingestion.models import ProviderDailyUsage


def provider_calls_today() -> tuple[int, int]:
    """(calls used today UTC across all keys, the daily limit of one key)."""
    today = datetime.now(tz=UTC).date()
    used = ProviderDailyUsage.objects.filter(day=today).aggregate(total=Sum("calls"))[
        "total"
    ]
    return used or 0, settings.ALPHA_VANTAGE_DAILY_LIMIT


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


def fetches_waiting(*, other_than: str) -> int:
    """Fetch Jobs queued or running for tickers other than `other_than`: each still
    needs at least one provider call today (its prices)."""
    return (
        Job.objects.filter(
            kind=Job.Kind.FETCH, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]
        )
        .exclude(ticker=other_than)
        .count()
    )


def uses_metered_provider() -> bool:
    """Whether fetches go to Alpha Vantage (budgeted) rather than offline samples."""
    choice = settings.PRICE_PROVIDER
    return choice == "alpha_vantage" or (
        choice == "auto" and bool(settings.ALPHA_VANTAGE_API_KEY)
    )
