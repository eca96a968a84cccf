"""Adjusted series from as-traded bars and corporate actions (core.adjustment)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
import pytest

from core.adjustment import Action, adjust, adjustment_block


def frame(closes: list[str], volumes: list[int] | None = None) -> pd.DataFrame:
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(len(closes))]
    prices = [Decimal(c) for c in closes]
    return pd.DataFrame(
        {
            "date": days,
            "open": prices,
            "high": prices,
            "low": prices,
            "close": prices,
            "volume": volumes or [100] * len(closes),
        }
    )


def test_a_split_divides_earlier_prices_and_multiplies_earlier_volumes():
    traded = frame(["400", "404", "101", "102"], [10, 10, 40, 40])
    split = Action("split", date(2024, 1, 3), Decimal(4))
    adjusted, applied = adjust(traded, [split], "splits")
    assert list(adjusted["close"]) == [
        Decimal(100),
        Decimal(101),
        Decimal(101),
        Decimal(102),
    ]
    assert list(adjusted["volume"]) == [40, 40, 40, 40]
    assert list(traded["close"]) == [
        Decimal(400),
        Decimal(404),
        Decimal(101),
        Decimal(102),
    ]
    assert adjustment_block("splits", applied) == {
        "mode": "splits",
        "actions": [
            {
                "kind": "split",
                "date": "2024-01-03",
                "factor": "4",
                "price_factor": "0.25",
            }
        ],
    }


def test_a_reverse_split_and_a_split_after_the_range_rescale_the_whole_frame():
    traded = frame(["1", "1.1"])
    later = Action("split", date(2024, 6, 1), Decimal("0.1"))  # 1-for-10
    adjusted, applied = adjust(traded, [later], "splits")
    assert list(adjusted["close"]) == [Decimal(10), Decimal(11)]
    assert [a.action for a in applied] == [later]


def test_actions_on_or_before_the_first_day_change_nothing():
    traded = frame(["10", "11"])
    early = Action("split", date(2024, 1, 1), Decimal(2))
    adjusted, applied = adjust(traded, [early], "splits")
    assert applied == [] and list(adjusted["close"]) == [Decimal(10), Decimal(11)]


def test_total_return_scales_prices_before_the_ex_date_by_one_minus_dividend_over_close():
    traded = frame(["100", "100", "98", "99"])
    dividend = Action("dividend", date(2024, 1, 3), Decimal(2))
    split_only, applied = adjust(traded, [dividend], "splits")
    assert applied == [] and split_only["close"].iloc[0] == Decimal(100)
    adjusted, applied = adjust(traded, [dividend], "total")
    assert list(adjusted["close"]) == [
        Decimal(98),
        Decimal(98),
        Decimal(98),
        Decimal(99),
    ]
    assert applied[0].as_dict()["price_factor"] == "0.98"
    assert list(adjusted["volume"]) == list(traded["volume"])


def test_total_return_of_a_dividend_after_the_range_uses_the_close_before_it():
    traded = frame(["50", "50"])
    dividend = Action("dividend", date(2024, 2, 1), Decimal(1))
    adjusted, _ = adjust(
        traded, [dividend], "total", closes_before={date(2024, 2, 1): Decimal(25)}
    )
    assert list(adjusted["close"]) == [Decimal(48), Decimal(48)]


def test_none_is_the_bars_as_traded_and_an_unknown_mode_is_refused():
    traded = frame(["400", "101"])
    split = Action("split", date(2024, 1, 2), Decimal(4))
    adjusted, applied = adjust(traded, [split], "none")
    assert adjusted is traded and applied == []
    with pytest.raises(ValueError, match="splits, total, none"):
        adjust(traded, [split], "adjusted")
