"""What every price provider gives back, and the hooks a caller may plug in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

import pandas as pd

from core.adjustment import Action


@dataclass(frozen=True)
class ProviderResult:
    """Bars sorted by date (prices as Decimal, volume as int) and what to tell staff."""

    bars: pd.DataFrame
    source: str
    output_size: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ActionsResult:
    """A symbol's splits and dividends as the provider listed them, oldest first."""

    actions: tuple[Action, ...]
    source: str
    notes: tuple[str, ...] = field(default_factory=tuple)


class CallHooks(Protocol):
    """Lets the caller meter calls and remember what a key turned out to be.

    Kept as a protocol so providers stay free of Django: the ingestion service
    implements it on top of the database.
    """

    def before_call(self, *, leave: int = 0) -> None:
        """Called before every HTTP request; raises RateLimited to stop it.

        `leave`: calls of today's budget that must stay unspent after this one (an
        optional call gives way to the price fetches still to come).
        """

    def known_plan(self) -> str | None:
        """'free' or 'premium' if this key's plan was learnt earlier, else None."""

    def plan_detected(self, plan: str) -> None:
        """Records what the provider learnt about the key ('free' or 'premium')."""


class NoHooks:
    """Hooks that meter nothing and remember nothing (tests, one-off scripts)."""

    def __init__(self) -> None:
        self.plan: str | None = None

    def before_call(self, *, leave: int = 0) -> None:
        return None

    def known_plan(self) -> str | None:
        return self.plan

    def plan_detected(self, plan: str) -> None:
        self.plan = plan


class PriceProvider(Protocol):
    name: str

    def fetch_daily(self, symbol: str, since: date | None = None) -> ProviderResult:
        """Daily bars for symbol, oldest first; raises a ProviderError on failure."""


@runtime_checkable
class ActionsProvider(Protocol):
    """A provider that also lists a symbol's splits and dividends."""

    name: str

    def fetch_actions(self, symbol: str, *, leave_calls: int = 0) -> ActionsResult:
        """Every split and dividend of symbol up to today; raises a ProviderError.

        `leave_calls`: calls of today's budget these calls must leave unspent.
        """
