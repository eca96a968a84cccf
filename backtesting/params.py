"""What a backtest may be asked for: bounds, defaults and the checked parameters.

The model, services, endpoint, admin form, engine and report all read these rules
from here, so they cannot drift apart. No Django import: the engine uses it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

from core.adjustment import ADJUST_MODES, DEFAULT_ADJUST
from core.errors import InvalidInput
from core.market import normalise_ticker

# parse_benchmark's answer for "no choice made": SPY when it is stored and is not
# the run's own symbol (backtesting.selectors.benchmark_for).
DEFAULT_BENCHMARK = "default"


@dataclass(frozen=True)
class BacktestParams:
    """What staff or a program asks for; checked before any work is done."""

    MIN_WINDOW: ClassVar[int] = 2
    MAX_WINDOW: ClassVar[int] = 400
    DEFAULT_FAST: ClassVar[int] = 50
    DEFAULT_SLOW: ClassVar[int] = 200
    DEFAULT_INVESTMENT: ClassVar[Decimal] = Decimal(10_000)
    MIN_INVESTMENT: ClassVar[Decimal] = Decimal("0.01")
    MAX_INVESTMENT: ClassVar[Decimal] = Decimal("1e12")
    INVESTMENT_DECIMALS: ClassVar[int] = 2
    MAX_COMMISSION: ClassVar[Decimal] = Decimal("0.05")
    COMMISSION_DECIMALS: ClassVar[int] = 5

    initial_investment: Decimal
    fast: int = DEFAULT_FAST
    slow: int = DEFAULT_SLOW
    start: date | None = None
    end: date | None = None
    commission: Decimal = Decimal(0)
    # Which price series the run reads (core.adjustment): split-adjusted by default.
    adjust: str = DEFAULT_ADJUST

    def __post_init__(self) -> None:
        check_windows(self.fast, self.slow)
        check_commission(self.commission)
        check_adjust(self.adjust)
        if self.start and self.end and self.start >= self.end:
            raise InvalidInput(
                f"start ({self.start}) must be before end ({self.end}).",
                code="invalid_parameter",
                details={"parameter": "start/end"},
            )

    def as_json(self) -> dict[str, Any]:
        return {
            "initial_investment": str(self.initial_investment),
            "fast": self.fast,
            "slow": self.slow,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "commission": str(self.commission),
            "adjust": self.adjust,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BacktestParams:
        return cls(
            initial_investment=Decimal(data["initial_investment"]),
            fast=int(data["fast"]),
            slow=int(data["slow"]),
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            commission=Decimal(data.get("commission") or 0),
            # Jobs queued before adjustment existed carry no mode: the default.
            adjust=data.get("adjust") or DEFAULT_ADJUST,
        )


def check_windows(fast: int, slow: int) -> None:
    """The one window rule: MIN_WINDOW <= fast < slow <= MAX_WINDOW."""
    low, high = BacktestParams.MIN_WINDOW, BacktestParams.MAX_WINDOW
    if not low <= fast < slow <= high:
        raise InvalidInput(
            f"Windows must satisfy {low} <= fast < slow <= {high}; got fast={fast}, "
            f"slow={slow}.",
            code="invalid_parameter",
            details={"parameter": "fast/slow"},
        )


def check_commission(commission: Decimal) -> None:
    """The one commission rule: 0 to MAX_COMMISSION, at most COMMISSION_DECIMALS decimals.

    More decimals are refused, not rounded: BacktestRun would store 0.000001 as 0.
    """
    value = Decimal(commission)
    high = BacktestParams.MAX_COMMISSION
    places = BacktestParams.COMMISSION_DECIMALS
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or not 0 <= value <= high or -exponent > places:
        raise InvalidInput(
            f"commission must be a fraction from 0 to {high} with at most {places} "
            f"decimals; got {str(commission)[:30]}.",
            code="invalid_parameter",
            details={"parameter": "commission"},
        )


def check_adjust(adjust: str) -> str:
    """The one adjustment rule of backtests and reports: one of ADJUST_MODES."""
    if adjust not in ADJUST_MODES:
        modes = ", ".join(ADJUST_MODES)
        raise InvalidInput(
            f"adjust must be one of {modes}; got {str(adjust)[:20]!r}.",
            code="invalid_parameter",
            details={"parameter": "adjust"},
        )
    return adjust


def parse_adjust(params: Mapping[str, str]) -> str:
    """The `adjust` query parameter: absent or empty is the default, case ignored."""
    raw = params.get("adjust")
    if raw is None or not raw.strip():
        return DEFAULT_ADJUST
    return check_adjust(raw.strip().lower() if raw.isascii() else raw)


def parse_benchmark(params: Mapping[str, str]) -> str | None:
    """The `benchmark` query parameter: absent, empty or "default" is
    DEFAULT_BENCHMARK, "none" is None (no benchmark), else a normalised ticker."""
    raw = (params.get("benchmark") or "").strip()
    if raw.isascii() and raw.lower() in ("", DEFAULT_BENCHMARK):
        return DEFAULT_BENCHMARK
    if raw.isascii() and raw.lower() == "none":
        return None
    return normalise_ticker(raw)


DEFAULT_BACKTEST = BacktestParams(initial_investment=BacktestParams.DEFAULT_INVESTMENT)
