"""Backtest engine timings on synthetic bars; writes the Backtest section of RESULTS.md.

No Django needed: `.venv/bin/python -m benchmarks.backtest [--no-write]` from the
repository root.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

if not __package__:  # run as `python benchmarks/backtest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from backtesting.engine import (
    parameter_grid,
    prepare_bars,
    run_backtest,
    run_prepared,
    sweep,
)
from backtesting.sweeps import sweep_analysis
from benchmarks.results import (
    Section,
    Timing,
    arguments,
    machine,
    machine_line,
    measure,
    timings_table,
)

SECTION = Section("backtest", heading="Backtest")

FIRST_DAY = date(2005, 1, 3)  # a Monday; bars run on weekdays from here
SEED = 20_240_601
FAST, SLOW = 50, 200
INITIAL_INVESTMENT = 10_000.0
SWEEP_FASTS = range(5, 71, 5)
SWEEP_SLOWS = range(20, 241, 20)
SINGLE_TARGET_S = 0.001  # one full run on 20 years of bars
SWEEP_TARGET_S = 0.100  # the 147-pair sweep on 20 years of bars


def synthetic_bars(
    n: int, *, seed: int = SEED, start_price: float = 100.0
) -> pd.DataFrame:
    """Deterministic daily bars: a geometric random walk, weekdays, 4-decimal prices.

    Columns as the price store gives them: date (datetime.date), open, high, low,
    close (floats with 4 decimals) and volume; high >= max(open, close) and
    low <= min(open, close) hold after rounding.
    """
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(FIRST_DAY, periods=n)
    vol = 0.015
    closes = start_price * np.exp(np.cumsum(rng.normal(0.0003, vol, n)))
    previous = np.concatenate(([start_price], closes[:-1]))
    opens = previous * np.exp(rng.normal(0.0, vol / 3, n))
    opens, closes = np.round(opens, 4), np.round(closes, 4)
    highs = np.maximum(opens, closes) * (1 + np.abs(rng.normal(0.0, vol / 2, n)))
    lows = np.minimum(opens, closes) * (1 - np.abs(rng.normal(0.0, vol / 2, n)))
    highs = np.maximum(np.ceil(highs * 10_000) / 10_000, np.maximum(opens, closes))
    lows = np.minimum(np.floor(lows * 10_000) / 10_000, np.minimum(opens, closes))
    volumes = rng.lognormal(mean=15.5, sigma=0.35, size=n).astype(np.int64)
    return pd.DataFrame(
        {
            "date": [d.date() for d in days],
            "open": opens,
            "high": highs,
            "low": lows,
            "close": closes,
            "volume": volumes,
        }
    )


def with_decimals(bars: pd.DataFrame) -> pd.DataFrame:
    """The same bars with Decimal prices, as PriceBar rows read from the database."""
    frame = bars.copy()
    for column in ("open", "high", "low", "close"):
        frame[column] = [Decimal(f"{v:.4f}") for v in frame[column]]
    return frame


def run_all(*, runs: int, sweep_runs: int) -> tuple[list[Timing], dict[str, object]]:
    short, long_ = synthetic_bars(504), synthetic_bars(5_040)
    middle = synthetic_bars(2_148)  # the size of the backtesting.py comparison
    long_decimal = with_decimals(long_)
    short_prices, long_prices = prepare_bars(short), prepare_bars(long_)
    pairs = parameter_grid(SWEEP_FASTS, SWEEP_SLOWS)
    warmup = max(5, runs // 10)
    kwargs = {"fast": FAST, "slow": SLOW, "initial_investment": INITIAL_INVESTMENT}

    # (label, bars, call, runs, target): each entry point at each size, then the rest.
    cases: list[tuple[str, int, Callable[[], object], int, float | None]] = [
        *(
            (
                "run_backtest (DataFrame in, every metric)",
                len(frame),
                lambda f=frame: run_backtest(f, **kwargs),
                runs,
                SINGLE_TARGET_S if frame is long_ else None,
            )
            for frame in (short, middle, long_)
        ),
        *(
            (
                "run_prepared (arrays prepared once)",
                size,
                lambda p=prices: run_prepared(p, **kwargs),
                runs,
                None,
            )
            for size, prices in ((504, short_prices), (5_040, long_prices))
        ),
        ("prepare_bars alone", 5_040, lambda: prepare_bars(long_), runs, None),
        (
            "run_backtest, Decimal prices (as from PriceBar)",
            5_040,
            lambda: run_backtest(long_decimal, **kwargs),
            runs,
            None,
        ),
        (
            f"sweep, {len(pairs)} pairs (DataFrame in, metrics table out)",
            5_040,
            lambda: sweep(long_, pairs, initial_investment=INITIAL_INVESTMENT),
            sweep_runs,
            SWEEP_TARGET_S,
        ),
        (
            f"sweep analysis, {len(pairs)} pairs (rows, in-sample ranking, held-out "
            "test, walk-forward)",
            5_040,
            lambda: sweep_analysis(
                long_prices,
                pairs,
                initial_investment=INITIAL_INVESTMENT,
                commission=0.0,
                oos=0.3,
            ),
            sweep_runs,
            None,
        ),
    ]
    timings = []
    for label, bars, fn, count, target in cases:
        median, p95 = measure(fn, runs=count, warmup=min(warmup, count))
        timings.append(Timing(label, bars, count, median, p95, target))

    reference = run_backtest(long_, **kwargs)
    facts = {
        "pairs": len(pairs),
        "trades_5040": reference.metrics.trades,
        "final_equity_5040": reference.metrics.final_equity,
        "first_close": float(long_["close"].iloc[0]),
        "last_close": float(long_["close"].iloc[-1]),
        "last_date": long_["date"].iloc[-1],
    }
    return timings, facts


def section(
    timings: list[Timing], facts: dict[str, object], info: dict[str, str]
) -> str:
    verdicts = [
        f"{t.label.split(' (')[0]} on {t.bars:,} bars: {t.against_target}"
        for t in timings
        if t.target_s is not None
    ]
    lines = [
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}",
        f"- Python {info['python']}, numpy {info['numpy']}, pandas {info['pandas']}; "
        f"OPENBLAS settings: {info['openblas']}",
        f"- Data: seeded geometric random walk, weekdays from {FIRST_DAY}, 4-decimal "
        f"float prices (close {facts['first_close']:.4f} → {facts['last_close']:.4f} "
        f"over 5,040 bars, last day {facts['last_date']}); SMA {FAST}/{SLOW}, "
        f"{INITIAL_INVESTMENT:,.0f} invested, no commission: "
        f"{facts['trades_5040']} trades, final equity {facts['final_equity_5040']:,.2f}.",
        f"- Sweep: fast 5..70 step 5 by slow 20..240 step 20, fast < slow "
        f"({facts['pairs']} pairs).",
        "- Times are wall-clock `time.perf_counter` per call after a warm-up (which "
        "also compiles the engine's kernels, or loads them from numba's cache); "
        "the 2,148-bar comparison below uses the same generator; the Peers section "
        "puts these cases beside vectorbt and a compiled loop.",
        "",
        *timings_table(timings),
        "",
        "Targets: " + "; ".join(verdicts) + ".",
    ]
    return SECTION.body(info, lines)


def main(argv: list[str] | None = None) -> int:
    parser = arguments(
        __doc__.splitlines()[0], runs=300, runs_help="repetitions per run case"
    )
    parser.add_argument("--sweep-runs", type=int, default=20, help="sweep repetitions")
    args = parser.parse_args(argv)

    info = machine()
    timings, facts = run_all(runs=args.runs, sweep_runs=args.sweep_runs)
    print(machine_line(info, f"pandas {info['pandas']}"))
    print("\n".join(timings_table(timings)))
    if not args.no_write:
        SECTION.write(section(timings, facts, info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
