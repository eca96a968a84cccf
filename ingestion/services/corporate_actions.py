"""A symbol's splits and dividends, refreshed with its prices at most once a day.

The fetch (ingestion.services.fetch) calls `corporate_actions_refresh` after the
prices are stored: its failures become a note and never fail the price fetch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.db import DatabaseError
from django.utils import timezone

from core.models import Symbol
from core.selectors import corporate_actions, symbol_get
from core.services import corporate_actions_store, symbol_mark_actions_fetched
from ingestion.providers.base import ActionsProvider, PriceProvider
from ingestion.providers.errors import ProviderError, ProviderTimeout, RateLimited
from ingestion.selectors import fetches_waiting, uses_metered_provider

logger = logging.getLogger(__name__)

# What the outcome's status says (docs/openapi.yaml, FetchResult.corporate_actions).
STORED = "stored"  # asked now; the answer is stored
NOT_DUE = "not_due"  # asked earlier today already
SKIPPED = "skipped"  # not asked now: the budget or the request's time ran short
FAILED = "failed"  # asked now; the provider failed, nothing stored
NOT_OFFERED = "not_offered"  # the provider lists no corporate actions

_LISTED_SPLITS = 5


@dataclass(frozen=True)
class ActionsOutcome:
    """What the corporate-actions step of a fetch did, for the fetch's answer."""

    status: str
    received: int = 0
    inserted: int = 0
    updated: int = 0
    fetched_at: datetime | None = None
    available: bool | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "received": self.received,
            "inserted": self.inserted,
            "updated": self.updated,
            "fetched_at": self.fetched_at.isoformat() if self.fetched_at else None,
            "available": self.available,
        }


def actions_due(symbol: Symbol, *, now: datetime) -> bool:
    """Whether the provider was not yet asked for the symbol's actions this UTC day."""
    fetched_at = symbol.actions_fetched_at
    return fetched_at is None or fetched_at.astimezone(UTC).date() < (
        now.astimezone(UTC).date()
    )


def corporate_actions_refresh(
    *, ticker: str, provider: PriceProvider, now: datetime | None = None
) -> ActionsOutcome:
    """Ask the provider for the symbol's splits and dividends if due, and store them.

    At most once a UTC day per symbol, asked or failed alike (a failure is not
    retried the same day: each try costs calls of a small budget). The calls give
    way to the price fetches still waiting (`fetches_waiting`): when the day's
    budget cannot hold both, the actions are skipped, not the prices. A failed call
    stores nothing and marks the symbol's actions unavailable (actions_available
    False), which the suspected-split check reads.
    """
    now = now or timezone.now()
    symbol = symbol_get(ticker)
    if not isinstance(provider, ActionsProvider):
        return _state(NOT_OFFERED, symbol)
    if not actions_due(symbol, now=now):
        return _state(NOT_DUE, symbol)
    leave = fetches_waiting(other_than=ticker) if uses_metered_provider() else 0
    try:
        answer = provider.fetch_actions(ticker, leave_calls=leave)
    except ProviderError as exc:
        if _not_asked(exc):
            return _state(SKIPPED, symbol, note=_skipped_note(ticker, exc))
        return _failed(symbol, exc.message)
    before = {(a.kind, a.day): a.value for a in corporate_actions(symbol)}
    try:
        written = corporate_actions_store(
            symbol=symbol, actions=answer.actions, source=answer.source
        )
    except DatabaseError:
        logger.exception("Storing the corporate actions of %s failed", ticker)
        symbol.refresh_from_db()
        return _failed(symbol, "they could not be stored")
    after = {(a.kind, a.day): a.value for a in corporate_actions(symbol)}
    notes = [*answer.notes, *_split_notes(ticker, before, after)]
    if written.kept:
        notes.append(
            f"{_plural(written.kept, 'action')} of {ticker} recorded by staff "
            f"(import or confirmed) differ from {answer.source}'s; staff's are kept."
        )
    return ActionsOutcome(
        status=STORED,
        received=len(answer.actions),
        inserted=written.inserted,
        updated=written.updated,
        fetched_at=symbol.actions_fetched_at,
        available=symbol.actions_available,
        notes=tuple(notes),
    )


def _state(status: str, symbol: Symbol, *, note: str | None = None) -> ActionsOutcome:
    return ActionsOutcome(
        status=status,
        fetched_at=symbol.actions_fetched_at,
        available=symbol.actions_available,
        notes=(note,) if note else (),
    )


def _not_asked(exc: ProviderError) -> bool:
    """Our own refusals: the budget kept for prices, or the request's time ran out."""
    if isinstance(exc, RateLimited) and exc.details.get("limit") == "budget":
        return True
    return isinstance(exc, ProviderTimeout) and exc.details.get("reason") == "deadline"


def _skipped_note(ticker: str, exc: ProviderError) -> str:
    if isinstance(exc, RateLimited):
        why = (
            "today's provider budget is kept for price fetches "
            f"({exc.details.get('calls_today', '?')} of "
            f"{exc.details.get('daily_limit', '?')} calls used)"
        )
    else:
        why = "this request's time ran out"
    return (
        f"The splits and dividends of {ticker} were not asked for: {why}. The "
        "prices are stored; the next fetch asks for them."
    )


def _failed(symbol: Symbol, reason: str) -> ActionsOutcome:
    symbol_mark_actions_fetched(symbol=symbol, available=False)
    return ActionsOutcome(
        status=FAILED,
        fetched_at=symbol.actions_fetched_at,
        available=False,
        notes=(
            f"The splits and dividends of {symbol.ticker} could not be fetched "
            f"({reason.rstrip('.')}); nothing of them was stored. The prices are "
            "stored; until tomorrow's fetch, jumps like a split are only suspected.",
        ),
    )


def _split_notes(
    ticker: str,
    before: dict[tuple[str, date], Decimal],
    after: dict[tuple[str, date], Decimal],
) -> list[str]:
    """A sentence for splits stored new or changed: they change every split-adjusted
    price before them."""
    changed = sorted(
        (day, value)
        for (kind, day), value in after.items()
        if kind == "split" and before.get((kind, day)) != value
    )
    if not changed:
        return []
    listed = ", ".join(
        f"{day.isoformat()} (factor {value.normalize()})"
        for day, value in changed[-_LISTED_SPLITS:]
    )
    more = len(changed) - _LISTED_SPLITS
    if more > 0:
        listed += f" and {more} earlier"
    return [
        f"Splits of {ticker} recorded: {listed}; split-adjusted prices before each "
        "are divided by its factor."
    ]


def _plural(count: int, word: str) -> str:
    return f"1 {word}" if count == 1 else f"{count} {word}s"
