"""Forecaster timings on synthetic closes; writes the Forecast section of RESULTS.md.

No Django needed: `.venv/bin/python -m benchmarks.forecast [--no-write]` from the
repository root.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

if not __package__:  # run as `python benchmarks/forecast.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import sklearn
import skops.io

from benchmarks.backtest import FIRST_DAY, synthetic_bars
from benchmarks.results import (
    Section,
    Timing,
    arguments,
    machine,
    machine_line,
    measure,
    timings_table,
)
from ml import calendar
from ml.forecaster import (
    HORIZON,
    REFIT_EVERY,
    REPORTED_HORIZONS,
    evaluate,
    fit,
    forecast,
)

SECTION = Section("forecast", heading="Forecast")
SIZES = (504, 5_040)  # 2 and 20 years of trading days
TOTAL_TARGET_S = 1.0  # train + evaluate + predict on 20 years of closes


def predict(pipeline: object, closes: np.ndarray, band: dict, as_of: object) -> list:
    """What forecast_create computes: the 30 points and the 30 trading days."""
    points = forecast(pipeline, closes, band)
    sessions = calendar.next_sessions(as_of, HORIZON)
    return list(zip(points, sessions, strict=True))


def train_evaluate_predict(closes: np.ndarray, as_of: object) -> list:
    evaluation = evaluate(closes)
    pipeline = fit(closes)
    return predict(pipeline, closes, evaluation["band"], as_of)


def run_all(*, runs: int) -> tuple[list[Timing], dict[str, object]]:
    warmup = max(1, runs // 10)
    # The first call builds the NYSE calendar (once per process): one sample only.
    started = time.perf_counter()
    calendar.next_sessions(FIRST_DAY, HORIZON)
    first_call_s = time.perf_counter() - started
    timings: list[Timing] = []
    facts: dict[str, object] = {}
    for size in SIZES:
        bars = synthetic_bars(size)
        closes = bars["close"].to_numpy(dtype=np.float64)
        as_of = bars["date"].iloc[-1]
        evaluation = evaluate(closes)
        pipeline = fit(closes)
        target = TOTAL_TARGET_S if size == max(SIZES) else None
        cases: list[tuple[str, Callable[[], object], float | None]] = [
            ("train: fit", lambda c=closes: fit(c), None),
            ("evaluate: walk-forward vs naive", lambda c=closes: evaluate(c), None),
            (
                "predict: forecast + next 30 sessions",
                lambda p=pipeline, c=closes, e=evaluation, d=as_of: predict(
                    p, c, e["band"], d
                ),
                None,
            ),
            (
                "total: train + evaluate + predict",
                lambda c=closes, d=as_of: train_evaluate_predict(c, d),
                target,
            ),
        ]
        for label, fn, limit in cases:
            median, p95 = measure(fn, runs=runs, warmup=warmup)
            timings.append(Timing(label, size, runs, median, p95, limit))
        facts[size] = {
            "first_close": float(closes[0]),
            "last_close": float(closes[-1]),
            "last_date": as_of,
            "origins": evaluation["origins"],
            "horizons": evaluation["horizons"],
        }

    artifact = skops.io.dumps(pipeline)
    median, p95 = measure(
        lambda: skops.io.loads(skops.io.dumps(pipeline), trusted=None),
        runs=runs,
        warmup=warmup,
    )
    timings.append(
        Timing(
            "skops save + safe load of the fitted pipeline",
            max(SIZES),
            runs,
            median,
            p95,
        )
    )
    facts["artifact_bytes"] = len(artifact)
    timings.append(
        Timing(
            "first next_sessions in a process (builds the calendar)",
            0,
            1,
            first_call_s,
            first_call_s,
        )
    )
    return timings, facts


def scores_line(size: int, facts: dict[str, object]) -> str:
    horizons = facts[size]["horizons"]
    parts = [
        f"{h}-day MAE {horizons[str(h)]['model']['mae']:.2f} vs naive "
        f"{horizons[str(h)]['naive']['mae']:.2f}"
        for h in REPORTED_HORIZONS
    ]
    return "; ".join(parts)


def section(
    timings: list[Timing], facts: dict[str, object], info: dict[str, str]
) -> str:
    total = next(t for t in timings if t.target_s is not None)
    long_ = facts[max(SIZES)]
    lines = [
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}",
        f"- Python {info['python']}, numpy {info['numpy']}, scikit-learn "
        f"{sklearn.__version__}; OPENBLAS settings: {info['openblas']}",
        f"- Data: the closes of `benchmarks.backtest.synthetic_bars` (seeded geometric "
        f"random walk, weekdays from {FIRST_DAY}); 5,040 closes run "
        f"{long_['first_close']:.4f} → {long_['last_close']:.4f}, last day "
        f"{long_['last_date']}.",
        "- Cases are the pure functions the services call: `ml.forecaster.fit`, "
        "`ml.forecaster.evaluate` (walk-forward over the last "
        f"{long_['origins']} days, a refit every {REFIT_EVERY} days) and "
        "`ml.forecaster.forecast` with `ml.calendar.next_sessions(as_of, 30)`; the "
        "calendar is built on the first call in a process (last row, one sample) "
        "and is warm in the other rows. The database reads and writes of "
        "`model_train` / `forecast_create` are not included.",
        "- A random walk has nothing to learn, so the model can at best roughly "
        f"match naive: on 5,040 closes {scores_line(max(SIZES), facts)}.",
        f"- The stored artifact (skops) is {facts['artifact_bytes']:,} bytes.",
        "- Times are wall-clock `time.perf_counter` per call after a warm-up.",
        "",
        *timings_table(timings, unit="closes"),
        "",
        f"Target: train + evaluate + predict on {total.bars:,} closes: "
        f"{total.against_target}.",
    ]
    return SECTION.body(info, lines)


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0], runs=30).parse_args(argv)

    info = machine()
    started = time.perf_counter()
    timings, facts = run_all(runs=args.runs)
    print(machine_line(info, f"scikit-learn {sklearn.__version__}"))
    print("\n".join(timings_table(timings, unit="closes")))
    print(f"({time.perf_counter() - started:.1f} s in all)")
    if not args.no_write:
        SECTION.write(section(timings, facts, info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
