"""The report's words for a price adjustment (core.adjustment's block), for JSON and PDF."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

TIMES = "\u00d7"  # the multiplication sign
# What each mode's prices are, as a sentence may name them.
SERIES_NAMES = {
    "splits": "split-adjusted prices",
    "total": "total-return prices (splits and dividends)",
    "none": "as-traded prices",
}
LABELS = {
    "splits": "split-adjusted (adjust=splits)",
    "total": "total return, splits and dividends (adjust=total)",
    "none": "as traded, not adjusted (adjust=none)",
}
DESCRIPTIONS = {
    "splits": (
        "Prices are split-adjusted (adjust=splits): every price before a split is "
        "divided by its factor and every volume multiplied by it, so the whole series "
        "reads in today's shares. Dividends are not added back."
    ),
    "total": (
        "Prices are total-return adjusted (adjust=total): split-adjusted, and every "
        "price before an ex-dividend date multiplied by 1 \u2212 dividend / the close "
        "before it, as if dividends were reinvested."
    ),
    "none": (
        "Prices are as traded (adjust=none): no split or dividend adjustment, so a "
        "split shows as a jump in the price."
    ),
}

NOTHING_APPLIED = {
    "splits": "No split is recorded in this range, so none was applied.",
    "total": "No split or dividend is recorded in this range, so none was applied.",
    "none": "No corporate action was applied.",
}


def _short(value: str) -> str:
    """A factor as a reader writes it: 0.25, 10, 0.333333."""
    return f"{Decimal(value):.6g}"


def _split_words(factor: str) -> str:
    ratio = Fraction(Decimal(factor)).limit_denominator(1000)
    if ratio >= 1:
        return f"{ratio.numerator}-for-{ratio.denominator} split"
    return f"{ratio.numerator}-for-{ratio.denominator} reverse split"


def action_words(action: dict[str, str]) -> str:
    """One applied action of an adjustment block, in words."""
    multiplier = _short(action["price_factor"])
    if action["kind"] == "split":
        return (
            f"{_split_words(action['factor'])} effective {action['date']} "
            f"(earlier prices {TIMES} {multiplier})"
        )
    return (
        f"dividend of {action['amount']} per share, ex-date {action['date']} "
        f"(earlier prices {TIMES} {multiplier})"
    )


def adjustment_section(block: dict[str, Any]) -> dict[str, Any]:
    """The block (mode, actions) with the texts the PDF prints."""
    mode = block.get("mode", "none")
    actions = block.get("actions", [])
    if actions:
        applied = "Applied: " + "; ".join(action_words(a) for a in actions) + "."
    else:
        applied = NOTHING_APPLIED.get(mode, "")
    return {
        **block,
        "label": LABELS.get(mode, mode),
        "description": DESCRIPTIONS.get(mode, ""),
        "applied_display": applied,
    }
