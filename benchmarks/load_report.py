"""What a load run measured and how it is printed: samples, rows, summaries."""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

from benchmarks.results import format_seconds

ENDPOINTS = ("backtest", "predict", "report")
SLICE_S = 10.0  # throughput over time, in slices this long
TABLE_HEAD = [
    "| phase | endpoint | requests | errors | req/s | p50 | p99 | max |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
]


@dataclass(frozen=True)
class Sample:
    endpoint: str
    started: float  # time.monotonic()
    latency_s: float
    status: str  # the HTTP status, or the exception's class name
    ok: bool


@dataclass(frozen=True)
class Failure:
    endpoint: str
    path: str
    status: str
    detail: str


@dataclass(frozen=True)
class Row:
    phase: str
    endpoint: str
    requests: int
    errors: int
    per_second: float
    p50_s: float
    p99_s: float
    max_s: float

    def markdown(self) -> str:
        return (
            f"| {self.phase} | {self.endpoint} | {self.requests:,} | {self.errors} "
            f"| {self.per_second:.1f} | {format_seconds(self.p50_s)} "
            f"| {format_seconds(self.p99_s)} | {format_seconds(self.max_s)} |"
        )


@dataclass(frozen=True)
class PhaseResult:
    samples: list[Sample]
    failures: list[Failure]
    started: float
    elapsed_s: float
    stragglers: int  # client threads still waiting after the bound


@dataclass(frozen=True)
class BulkResult:
    queued_s: float  # time to queue the 50 jobs, before the phase clock starts
    enqueue_errors: list[str]
    succeeded: int
    failed: list[str]  # "TICKER: code: message"
    unfinished: int
    finished_at: float | None  # monotonic time the last job ended, as polled
    span_s: float | None  # first job created to last finished, database clock
    bars: int


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def summarise(
    phase: str, samples: Iterable[Sample], elapsed_s: float, *, endpoints: bool = True
) -> list[Row]:
    """One row per endpoint (when endpoints), one for the three together, then one
    for each other kind of request (phase 2's fetches), which "all 3" leaves out."""
    samples = list(samples)
    extra = sorted({s.endpoint for s in samples} - set(ENDPOINTS))
    groups = [(name, [s for s in samples if s.endpoint == name]) for name in ENDPOINTS]
    groups = (groups if endpoints else []) + [
        ("all 3", [s for s in samples if s.endpoint in ENDPOINTS])
    ]
    groups += [(name, [s for s in samples if s.endpoint == name]) for name in extra]
    groups = [(name, group) for name, group in groups if group]
    rows = []
    for name, group in groups:
        latencies = sorted(s.latency_s for s in group)
        rows.append(
            Row(
                phase=phase,
                endpoint=name,
                requests=len(group),
                errors=sum(not s.ok for s in group),
                per_second=len(group) / elapsed_s if elapsed_s > 0 else math.nan,
                p50_s=percentile(latencies, 0.50),
                p99_s=percentile(latencies, 0.99),
                max_s=latencies[-1] if latencies else math.nan,
            )
        )
    return rows


def print_rows(rows: list[Row]) -> None:
    print("\n".join([*TABLE_HEAD, *(row.markdown() for row in rows)]), flush=True)


def cpu_line(phase: str, spent: dict[str, float], busy: float, elapsed_s: float) -> str:
    """Where the phase's CPU time went; what the run did not use, others did."""
    cpus = os.cpu_count() or 1  # /proc/stat counts every CPU of the machine
    ours = sum(spent.values())
    parts = ", ".join(
        f"{name} {seconds:.1f} s"
        for name, seconds in sorted(spent.items(), key=lambda item: -item[1])
    )
    return (
        f"phase {phase}: of {cpus} x {elapsed_s:.1f} s = {cpus * elapsed_s:.1f} "
        f"CPU-seconds, the machine was busy {busy:.1f} s; this run {ours:.1f} s "
        f"({parts}), other processes {max(busy - ours, 0.0):.1f} s; load average "
        f"{os.getloadavg()[0]:.1f} at the end"
    )


def describe(failure: Failure) -> str:
    detail = " ".join(failure.detail.split())
    return f"GET {failure.path}: {failure.status} {detail}".strip()


def bulk_summary(result: BulkResult) -> str:
    ended = (
        f"; the last ended {result.span_s:.1f} s after the first was queued"
        if result.span_s is not None
        else ""
    )
    return (
        f"queued in {result.queued_s:.1f} s; {result.succeeded} succeeded, "
        f"{len(result.failed)} failed, {result.unfinished} unfinished{ended}; "
        f"{result.bars:,} bars stored"
    )


def per_slice(phase: PhaseResult) -> str:
    """Requests of the three endpoints that ended in each whole SLICE_S, per second."""
    counts = [0] * max(1, int(phase.elapsed_s // SLICE_S))
    for sample in phase.samples:
        slot = int((sample.started + sample.latency_s - phase.started) // SLICE_S)
        if sample.endpoint in ENDPOINTS and slot < len(counts):
            counts[slot] += 1
    return ", ".join(f"{n / SLICE_S:.0f}" for n in counts)
