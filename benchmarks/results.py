"""What every benchmark script shares: options, timing, the machine, RESULTS.md."""

from __future__ import annotations

import argparse
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
# The product's per-user rate on /fetch/, /backtest/, /predict/ and /report/ (30 a
# minute) raised for a benchmark, whose one user calls far more often than a person.
UNTHROTTLED_ENV = {"RATELIMIT_ENABLE": "true", "RATELIMIT_WORK": "1000000/m"}
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

    @property
    def against_target(self) -> str:
        """'median …, target …, met' (or **MISSED**), for a section's summary."""
        return (
            f"median {format_seconds(self.median_s)}, target "
            f"{format_seconds(self.target_s)}, "
            + ("met" if self.median_s < self.target_s else "**MISSED**")
        )


@dataclass(frozen=True)
class Section:
    """One script's `## heading` section of RESULTS.md, between its own markers."""

    script: str  # the module under benchmarks/, as in `python -m benchmarks.<script>`
    heading: str

    @property
    def begin(self) -> str:
        return f"<!-- {self.script}:begin (written by benchmarks/{self.script}.py) -->"

    @property
    def end(self) -> str:
        return f"<!-- {self.script}:end -->"

    def body(self, info: dict[str, str], lines: list[str]) -> str:
        """The section's text: when and with what it was measured, then lines."""
        measured = f"Measured {info['date']} with `python -m benchmarks.{self.script}`."
        return "\n".join([self.begin, measured, "", *lines, self.end])

    def write(self, body: str) -> None:
        write_section(
            RESULTS_PATH,
            heading=self.heading,
            begin=self.begin,
            end=self.end,
            body=body,
        )
        print(f"updated {RESULTS_PATH.name}")


def arguments(
    description: str, *, runs: int, runs_help: str = "repetitions per case"
) -> argparse.ArgumentParser:
    """The options every script takes: --runs and --no-write."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=runs, help=runs_help)
    parser.add_argument(
        "--no-write", action="store_true", help="leave RESULTS.md alone"
    )
    return parser


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


def timings_table(timings: list[Timing], *, unit: str = "bars") -> list[str]:
    """The Markdown table of timings; a case measured on no bars shows a dash."""
    rows = [
        f"| case | {unit} | runs | median | p95 | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for t in timings:
        size = f"{t.bars:,}" if t.bars else "—"
        rows.append(
            f"| {t.label} | {size} | {t.runs} | {format_seconds(t.median_s)} "
            f"| {format_seconds(t.p95_s)} | {t.verdict} |"
        )
    return rows


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


def machine_line(info: dict[str, str], libraries: str) -> str:
    """The line a script prints first: CPUs, Python, numpy and what else it times."""
    return (
        f"{info['nproc']} CPUs, {info['cpu']}; Python {info['python']}, "
        f"numpy {info['numpy']}, {libraries}"
    )


def postgres_machine_line(info: dict[str, str]) -> str:
    """The Machine bullet of a section measured on PostgreSQL on this machine."""
    return (
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python "
        f"{info['python']}; PostgreSQL on the same machine, default settings."
    )


def write_section(path: Path, *, heading: str, begin: str, end: str, body: str) -> None:
    """Replace the text between begin and end; add a `## heading` section if absent."""
    text = path.read_text() if path.exists() else RESULTS_HEADER
    start, stop = text.find(begin), text.find(end)
    if start != -1 and stop > start:
        text = text[:start] + body + text[stop + len(end) :]
    else:
        text = text.rstrip("\n") + f"\n\n## {heading}\n\n" + body + "\n"
    path.write_text(text)
