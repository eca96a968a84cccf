"""What every benchmark script shares: timing, the machine, and RESULTS.md sections."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

RESULTS_PATH = Path(__file__).resolve().parent / "RESULTS.md"
RESULTS_HEADER = """\
# Benchmarks

Each section is written by its own script under `benchmarks/`; a script replaces only
the text between its own markers, so hand-written notes outside them stay.
"""


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


def write_section(path: Path, *, heading: str, begin: str, end: str, body: str) -> None:
    """Replace the text between begin and end; add a `## heading` section if absent."""
    text = path.read_text() if path.exists() else RESULTS_HEADER
    start, stop = text.find(begin), text.find(end)
    if start != -1 and stop > start:
        text = text[:start] + body + text[stop + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + body + "\n"
    path.write_text(text)
