"""backtesting.sweeps without a database: ranges, the split, held-out runs that start
flat, walk-forward windows, the significance test and the verdict on known series."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from backtesting.engine import (
    crossover_events,
    prepare_bars,
    run_prepared,
)
from backtesting.sweeps import (
    SweepParams,
    WindowRange,
    held_out_run,
    in_sample_size,
    newey_west_test,
    parse_range,
    price_slice,
    rank_pairs,
    sweep_analysis,
    walk_forward_windows,
    window_figures,
)
from core.errors import InvalidInput

GRID = SweepParams(initial_investment=Decimal(10_000)).pairs()  # 5:70:5 x 20:240:20


def frame(closes: np.ndarray) -> pd.DataFrame:
    days = pd.bdate_range("2015-01-01", periods=len(closes)).date
    return pd.DataFrame({"date": days, "open": closes, "close": closes})


def random_walk(seed: int, bars: int = 2000) -> np.ndarray:
    """A geometric random walk without drift: no rule can have an edge on it."""
    rng = np.random.default_rng(seed)
    return np.round(100 * np.exp(np.cumsum(rng.normal(0.0, 0.012, bars))), 4)


def trending(seed: int, bars: int = 2000) -> np.ndarray:
    """Persistent up and down trends of 30 to 90 days: fast crossovers ride them,
    50/200 turns too late."""
    rng = np.random.default_rng(seed)
    returns: list[float] = []
    up = True
    while len(returns) < bars:
        length = int(rng.integers(30, 90))
        returns.extend(rng.normal(0.004 if up else -0.004, 0.01, length))
        up = not up
    return np.round(100 * np.exp(np.cumsum(returns[:bars])), 4)


# --- ranges and parameters ---------------------------------------------------------


def test_a_range_is_inclusive_and_a_single_window_is_allowed():
    default = WindowRange(5, 70, 5)
    assert parse_range("5:70:5", name="fast", default=default).values()[-1] == 70
    assert parse_range("20:240:20", name="slow", default=default).values() == list(
        range(20, 241, 20)
    )
    assert parse_range("50", name="fast", default=default).values() == [50]
    assert parse_range(None, name="fast", default=default) is default


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("5-70-5", "start:stop:step"),
        ("5:70", "start:stop:step"),
        ("a:b:c", "start:stop:step"),
        ("5:70:0", "step must be at least 1"),
        ("70:5:5", "start must not be above stop"),
        ("1:70:5", "from 2 to 400"),
        ("5:401:5", "from 2 to 400"),
        ("\u0665:70:5", "start:stop:step"),
    ],
)
def test_a_bad_range_names_the_parameter(raw, words):
    with pytest.raises(InvalidInput) as caught:
        parse_range(raw, name="slow", default=WindowRange(20, 240, 20))
    assert caught.value.details == {"parameter": "slow"}
    assert words in caught.value.message


def test_the_grid_keeps_pairs_with_fast_below_slow_only():
    params = SweepParams(
        initial_investment=Decimal(1000),
        fast=WindowRange(10, 30, 10),
        slow=WindowRange(20, 30, 10),
    )
    assert params.pairs() == [(10, 20), (10, 30), (20, 30)]
    assert len(GRID) == 147


def test_more_than_400_pairs_is_refused_with_the_count():
    with pytest.raises(InvalidInput) as caught:
        SweepParams(
            initial_investment=Decimal(1000),
            fast=WindowRange(2, 100, 1),
            slow=WindowRange(101, 110, 1),
        )
    assert "990 pairs" in caught.value.message
    assert "at most 400" in caught.value.message


@pytest.mark.parametrize("oos", [0.05, 0.55, 1.0])
def test_oos_out_of_bounds_is_refused(oos):
    with pytest.raises(InvalidInput) as caught:
        SweepParams(initial_investment=Decimal(1000), oos=oos)
    assert caught.value.details == {"parameter": "oos"}


def test_parameters_survive_a_job_round_trip():
    params = SweepParams(
        initial_investment=Decimal("2500.50"),
        fast=WindowRange(5, 25, 5),
        slow=WindowRange(30, 90, 30),
        start=date(2024, 1, 1),
        commission=Decimal("0.001"),
        adjust="total",
        oos=0.25,
        benchmark=None,
    )
    assert SweepParams.from_json(params.as_json()) == params


# --- the split and the held-out run ------------------------------------------------


def test_the_first_one_minus_oos_of_the_bars_are_in_sample():
    assert in_sample_size(2000, 0.3) == 1400
    assert in_sample_size(520, 0.3) == 364


def test_a_held_out_run_starts_flat_at_the_split_and_trades_only_after_it():
    prices = prepare_bars(frame(trending(1, 800)))
    split = 500
    run = held_out_run(
        prices,
        fast=10,
        slow=40,
        split=split,
        stop=799,
        initial_investment=10_000.0,
        commission=0.0,
    )
    assert run is not None
    assert run.dates[0] == prices.dates[split]
    assert run.equity[0] == 10_000.0  # all cash at the close of the split day
    assert len(run.equity) == 800 - split
    assert run.metrics.trades > 0
    # The first fill is at an open after the split: equity stays flat until then.
    days, _ = crossover_events(prices, 10, 40)
    first_signal = int(days[days >= split][0])
    flat_until = first_signal - split + 1
    assert np.all(run.equity[:flat_until] == 10_000.0)


def test_a_held_out_run_uses_no_bar_after_each_signal():
    """Changing the held-out bars after a day cannot change the curve up to it."""
    closes = trending(2, 800)
    changed = closes.copy()
    changed[700:] *= 0.5
    runs = [
        held_out_run(
            prepare_bars(frame(series)),
            fast=10,
            slow=40,
            split=500,
            stop=799,
            initial_investment=10_000.0,
            commission=0.0,
        )
        for series in (closes, changed)
    ]
    assert runs[0] is not None and runs[1] is not None
    np.testing.assert_array_equal(runs[0].equity[:200], runs[1].equity[:200])


def test_a_held_out_run_needs_slow_bars_before_the_split():
    prices = prepare_bars(frame(random_walk(0, 400)))
    assert (
        held_out_run(
            prices,
            fast=50,
            slow=200,
            split=150,
            stop=399,
            initial_investment=1.0,
            commission=0.0,
        )
        is None
    )


def test_the_best_pair_does_not_depend_on_held_out_bars():
    closes = random_walk(3, 1000)
    changed = closes.copy()
    changed[800:] = changed[800:][::-1]
    bests = [
        sweep_analysis(
            prepare_bars(frame(series)),
            GRID,
            initial_investment=10_000.0,
            commission=0.0,
            oos=0.2,
        ).best
        for series in (closes, changed)
    ]
    assert bests[0] == bests[1]


# --- ranking ---------------------------------------------------------------------


def test_ranking_is_by_sharpe_then_return_and_a_missing_sharpe_goes_last():
    figures = {
        (5, 20): {"sharpe": 1.0, "total_return_pct": 5.0},
        (10, 20): {"sharpe": 1.0, "total_return_pct": 9.0},
        (15, 20): {"sharpe": None, "total_return_pct": 0.0},
        (5, 40): {"sharpe": 2.0, "total_return_pct": -1.0},
    }
    assert rank_pairs(figures) == [(5, 40), (10, 20), (5, 20), (15, 20)]


def test_walk_forward_ranks_with_the_engines_own_figures():
    """The quick in-window figures equal a fresh run_prepared on the window."""
    prices = prepare_bars(frame(random_walk(4, 900)))
    pairs = [(5, 20), (10, 60), (30, 120), (50, 200)]
    events = {pair: crossover_events(prices, *pair) for pair in pairs}
    figures = window_figures(
        prices,
        events,
        first=200,
        last=703,
        initial_investment=10_000.0,
        commission=0.001,
    )
    window = price_slice(prices, 200, 703)
    for fast, slow in pairs:
        metrics = run_prepared(
            window,
            fast=fast,
            slow=slow,
            initial_investment=10_000.0,
            commission=0.001,
        ).metrics
        assert figures[(fast, slow)] == {
            "sharpe": metrics.sharpe,
            "total_return_pct": metrics.total_return_pct,
        }


def test_walk_forward_windows_are_two_years_and_six_months_or_proportional():
    assert walk_forward_windows(2000) == (504, 126, 11)
    assert walk_forward_windows(520) == (296, 74, 3)
    assert walk_forward_windows(100) is None


def test_the_full_period_rows_are_the_engines_own_metrics():
    prices = prepare_bars(frame(random_walk(5, 700)))
    outcome = sweep_analysis(
        prices, GRID, initial_investment=10_000.0, commission=0.0, oos=0.3
    )
    assert len(outcome.rows) == 147
    for row in outcome.rows[::20]:
        metrics = run_prepared(
            prices, fast=row["fast"], slow=row["slow"], initial_investment=10_000.0
        ).metrics.as_dict()
        assert {key: row[key] for key in metrics} == metrics


def test_pairs_without_enough_bars_get_an_error_row():
    prices = prepare_bars(frame(random_walk(6, 150)))
    outcome = sweep_analysis(
        prices,
        [(5, 20), (20, 240)],
        initial_investment=1000.0,
        commission=0.0,
        oos=0.3,
    )
    short, long = outcome.rows
    assert short["error"] is None and short["in_sample"] is not None
    assert "242 daily bars are needed" in long["error"]
    assert long["in_sample"] is None and long["rank"] is None


# --- the significance test and the verdict ---------------------------------------


def test_newey_west_finds_a_real_difference_and_not_noise():
    rng = np.random.default_rng(0)
    noise = rng.normal(0.0, 0.01, 600)
    assert newey_west_test(noise)["p_value"] > 0.05
    shifted = newey_west_test(noise + 0.004)
    assert shifted["p_value"] < 0.001 and shifted["t_stat"] > 0
    assert shifted["lags"] == 5
    assert newey_west_test(np.zeros(100))["p_value"] is None


@pytest.mark.parametrize("seed", range(10))
def test_no_edge_is_claimed_on_a_random_walk(seed):
    outcome = sweep_analysis(
        prepare_bars(frame(random_walk(seed))),
        GRID,
        initial_investment=10_000.0,
        commission=0.0,
        oos=0.3,
    )
    verdict = outcome.result["verdict"]
    assert verdict["edge"] is False
    assert "no evidence of an edge" in verdict["text"]
    assert outcome.result["walk_forward"]["available"]
    assert len(outcome.result["walk_forward"]["windows"]) == 11


@pytest.mark.parametrize("seed", range(3))
def test_a_persistent_trend_structure_is_found_and_called_an_edge(seed):
    outcome = sweep_analysis(
        prepare_bars(frame(trending(seed))),
        GRID,
        initial_investment=10_000.0,
        commission=0.0,
        oos=0.3,
    )
    result = outcome.result
    verdict = result["verdict"]
    assert verdict["beat_default"] is True
    assert verdict["p_value"] < 0.05
    assert verdict["walk_forward_agrees"] is True
    assert verdict["edge"] is True
    assert "evidence of an edge over the default" in verdict["text"]
    best = result["out_of_sample"]["best"]
    default = result["out_of_sample"]["default"]
    assert best["total_return_pct"] > default["total_return_pct"]
    assert (default["fast"], default["slow"]) == (50, 200)


def test_the_verdict_says_when_the_default_cannot_run():
    prices = prepare_bars(frame(random_walk(7, 260)))
    outcome = sweep_analysis(
        prices,
        [(5, 20), (10, 40)],
        initial_investment=1000.0,
        commission=0.0,
        oos=0.3,
    )
    verdict = outcome.result["verdict"]
    assert verdict["beat_default"] is None and verdict["edge"] is False
    assert "could not run" in verdict["text"]


def test_the_held_out_part_is_reported_with_its_dates():
    prices = prepare_bars(frame(random_walk(8, 1000)))
    result = sweep_analysis(
        prices, GRID, initial_investment=10_000.0, commission=0.0, oos=0.3
    ).result["out_of_sample"]
    first = date(2015, 1, 1)
    assert result["in_sample"]["start"] == str(first)
    assert result["in_sample"]["bars"] == 700
    assert result["held_out"]["bars"] == 300
    split = date.fromisoformat(result["split_date"])
    assert date.fromisoformat(result["held_out"]["start"]) > split
    assert split - first > timedelta(days=900)
    assert result["best"]["in_sample"]["sharpe"] is not None
