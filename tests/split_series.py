"""A symbol whose stored bars cross a split, beside the same series without it.

The issue's measurement (a synthetic 4:1 split under SMA 50/200): the bars as traded
show a 75 % fall on the split day, so the backtest sells at a phantom loss. These
builders store that situation in the database the way a provider delivers it: bars
as traded, plus the CorporateAction that explains the jump.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from tests.factories import make_bars, make_symbol, price_closes, weekdays

if TYPE_CHECKING:
    from core.models import CorporateAction, Symbol

START = date(2024, 1, 1)
BARS = 700
# Index of the first bar at the new price: inside the first long position of the
# 50/200 crossover on CLOSES (bars 399 to 635).
SPLIT_INDEX = 429
SPLIT_FACTOR = 4
# A walk drifting up: 50/200 trades twice and ends 33 % up on the split-free series.
CLOSES = price_closes(BARS, drift=0.0008, volatility=0.013, seed=8)
DAYS = weekdays(BARS, start=START)
SPLIT_DAY = DAYS[SPLIT_INDEX]


def as_traded(closes: list[float], *, index: int, factor: float) -> list[float]:
    """The closes as a market shows them when a factor-for-1 split takes effect on
    bar `index`: earlier prices `factor` times higher (closes are in today's shares)."""
    return [round(c * factor, 4) if i < index else c for i, c in enumerate(closes)]


def record_action(
    symbol: Symbol,
    *,
    kind: str,
    day: date,
    split_factor: Decimal | None = None,
    dividend_amount: Decimal | None = None,
) -> CorporateAction:
    """Recorded through the writer a file import uses (core.services)."""
    from core.adjustment import Action
    from core.models import CorporateAction
    from core.services import corporate_actions_upsert

    value = split_factor if kind == "split" else dividend_amount
    assert value is not None
    corporate_actions_upsert(
        symbol=symbol,
        actions=[Action(kind=kind, day=day, value=value)],
        source=CorporateAction.Source.IMPORT,
    )
    return CorporateAction.objects.get(symbol=symbol, kind=kind, date=day)


def plain_symbol(ticker: str = "PLAIN") -> Symbol:
    """CLOSES stored as they are: the series without a split."""
    symbol = make_symbol(ticker, name="No split")
    make_bars(symbol, start=START, closes=CLOSES)
    return symbol


def split_symbol(ticker: str = "SPLT", *, recorded: bool = True) -> Symbol:
    """CLOSES as traded across a 4:1 split on SPLIT_DAY, with the split recorded
    (or, `recorded=False`, only the jump in the bars)."""
    symbol = make_symbol(ticker, name="Split Corp")
    traded = as_traded(CLOSES, index=SPLIT_INDEX, factor=SPLIT_FACTOR)
    make_bars(symbol, start=START, closes=traded)
    if recorded:
        record_action(
            symbol, kind="split", day=SPLIT_DAY, split_factor=Decimal(SPLIT_FACTOR)
        )
    return symbol
