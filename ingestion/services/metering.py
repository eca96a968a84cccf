"""Provider call metering: a key's learnt plan and its calls per UTC day.

The only writer of ProviderAccount and ProviderDailyUsage. Keys are known by a
hash, so the key itself is never stored.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, date, datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ingestion.models import ProviderAccount, ProviderDailyUsage
from ingestion.providers.alpha_vantage_notices import seconds_until_next_utc_midnight
from ingestion.providers.errors import RateLimited


def key_fingerprint(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()[:16]


def _utc_today() -> date:
    return datetime.now(tz=UTC).date()


def _account(provider: str, fingerprint: str) -> ProviderAccount:
    account, _ = ProviderAccount.objects.get_or_create(
        provider=provider, key_fingerprint=fingerprint
    )
    return account


@transaction.atomic
def provider_call_reserve(
    *,
    provider: str,
    fingerprint: str,
    daily_limit: int,
    min_interval: float,
    leave: int = 0,
) -> datetime:
    """Count one provider call against today's budget and space it from the last one.

    The account row is locked while waiting, so calls from every process and
    worker queue behind each other. Returns the moment the call was cleared to go.
    `leave` calls must stay unspent after this one (an optional call, such as the
    corporate actions', gives way to the price fetches still to come): checked
    under the same lock, so two workers cannot both take the last calls.
    """
    account_id = _account(provider, fingerprint).pk
    account = ProviderAccount.objects.select_for_update().get(pk=account_id)
    usage, _ = ProviderDailyUsage.objects.get_or_create(
        account=account, day=_utc_today()
    )
    if leave > 0 and usage.calls < daily_limit and usage.calls + leave >= daily_limit:
        left = daily_limit - usage.calls
        raise RateLimited(
            f"Today's provider budget has {left} of {daily_limit} calls left, kept "
            f"for the {leave} calls still to come; this optional call was not made.",
            code="daily_budget_kept",
            details={
                "limit": "budget",
                "calls_today": usage.calls,
                "daily_limit": daily_limit,
                "kept": leave,
            },
            retry_after=seconds_until_next_utc_midnight(datetime.now(tz=UTC)),
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

    def before_call(self, *, leave: int = 0) -> None:
        provider_call_reserve(
            provider=self.provider,
            fingerprint=self.fingerprint,
            daily_limit=settings.ALPHA_VANTAGE_DAILY_LIMIT,
            min_interval=settings.ALPHA_VANTAGE_MIN_INTERVAL,
            leave=leave,
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
