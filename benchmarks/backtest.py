"""Backtest engine timings on synthetic bars; writes the Backtest section of RESULTS.md.

Run from the repository root, no Django needed:

    .venv/bin/python -m benchmarks.backtest            # measure, print, update RESULTS.md
    .venv/bin/python -m benchmarks.backtest --no-write # measure and print only
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
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

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN_MARKER = "<!-- backtest:begin (written by benchmarks/backtest.py) -->"
END_MARKER = "<!-- backtest:end -->"
RESULTS_HEADER = """\
# Benchmarks

Each section is written by its own script under `benchmarks/`; a script replaces only
the text between its own markers, so hand-written notes outside them stay.
"""

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


@dataclass(frozen=True)
class Timing:
    label: str
    bars: int
    runs: int
    median_s: float
    p95_s: float
    target_s: float | None = None

    @property
    def verdict(self) -> str:
        if self.target_s is None:
            return ""
        limit = format_seconds(self.target_s)
        return (
            f"met (< {limit})"
            if self.median_s < self.target_s
            else f"MISSED (>= {limit})"
        )


def measure(fn: Callable[[], object], *, runs: int, warmup: int) -> tuple[float, float]:
    """(median, p95) wall time of fn in seconds, after `warmup` unrecorded calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(0.95 * len(samples)))]
    return statistics.median(samples), p95


def format_seconds(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def run_all(*, runs: int, sweep_runs: int) -> tuple[list[Timing], dict[str, object]]:
    short, long_ = synthetic_bars(504), synthetic_bars(5_040)
    middle = synthetic_bars(2_148)  # the size of the backtesting.py comparison
    long_decimal = with_decimals(long_)
    short_prices, long_prices = prepare_bars(short), prepare_bars(long_)
    pairs = parameter_grid(SWEEP_FASTS, SWEEP_SLOWS)
    warmup = max(5, runs // 10)
    kwargs = {"fast": FAST, "slow": SLOW, "initial_investment": INITIAL_INVESTMENT}

    cases: list[tuple[str, int, Callable[[], object], int, float | None]] = [
        (
            "run_backtest (DataFrame in, every metric)",
            504,
            lambda: run_backtest(short, **kwargs),
            runs,
            None,
        ),
        (
            "run_backtest (DataFrame in, every metric)",
            2_148,
            lambda: run_backtest(middle, **kwargs),
            runs,
            None,
        ),
        (
            "run_backtest (DataFrame in, every metric)",
            5_040,
            lambda: run_backtest(long_, **kwargs),
            runs,
            SINGLE_TARGET_S,
        ),
        (
            "run_prepared (arrays prepared once)",
            504,
            lambda: run_prepared(short_prices, **kwargs),
            runs,
            None,
        ),
        (
            "run_prepared (arrays prepared once)",
            5_040,
            lambda: run_prepared(long_prices, **kwargs),
            runs,
            None,
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


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        cpus = str(len(os.sched_getaffinity(0)))  # what `nproc` prints
    except AttributeError:
        cpus = str(os.cpu_count())
    blas = sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("OPENBLAS"))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "nproc": cpus,
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "openblas": ", ".join(blas) if blas else "none set",
    }


def table(timings: list[Timing]) -> list[str]:
    rows = [
        "| case | bars | runs | median | p95 | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in timings:
        rows.append(
            f"| {t.label} | {t.bars:,} | {t.runs} | {format_seconds(t.median_s)} "
            f"| {format_seconds(t.p95_s)} | {t.verdict} |"
        )
    return rows


def section(
    timings: list[Timing], facts: dict[str, object], info: dict[str, str]
) -> str:
    verdicts = [
        f"{t.label.split(' (')[0]} on {t.bars:,} bars: median "
        f"{format_seconds(t.median_s)}, target {format_seconds(t.target_s)}, "
        + ("met" if t.median_s < t.target_s else "**MISSED**")
        for t in timings
        if t.target_s is not None
    ]
    summary = "Targets: " + "; ".join(verdicts) + "."
    lines = [
        BEGIN_MARKER,
        f"Measured {info['date']} with `python -m benchmarks.backtest`.",
        "",
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
        "- Times are wall-clock `time.perf_counter` per call after a warm-up; "
        "the 2,148-bar comparison below uses the same generator.",
        "",
        *table(timings),
        "",
        summary,
        END_MARKER,
    ]
    return "\n".join(lines)


def write_section(path: Path, body: str) -> None:
    """Replace the text between the markers; add a Backtest section if there is none."""
    text = path.read_text() if path.exists() else RESULTS_HEADER
    start, end = text.find(BEGIN_MARKER), text.find(END_MARKER)
    if start != -1 and end > start:
        text = text[:start] + body + text[end + len(END_MARKER) :]
    else:
        text = text.rstrip("\n") + "\n\n## Backtest\n\n" + body + "\n"
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--runs", type=int, default=300, help="repetitions per run case"
    )
    parser.add_argument("--sweep-runs", type=int, default=20, help="sweep repetitions")
    parser.add_argument(
        "--no-write", action="store_true", help="leave RESULTS.md alone"
    )
    args = parser.parse_args(argv)

    info = machine()
    timings, facts = run_all(runs=args.runs, sweep_runs=args.sweep_runs)
    print(f"{info['nproc']} CPUs, {info['cpu']}; Python {info['python']}, ", end="")
    print(f"numpy {info['numpy']}, pandas {info['pandas']}")
    print("\n".join(table(timings)))
    if not args.no_write:
        write_section(RESULTS_PATH, section(timings, facts, info))
        print(f"updated {RESULTS_PATH.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
