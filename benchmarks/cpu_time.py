"""Where the CPU time of a benchmark phase went: each part of the stack, the load client
and the whole machine (busy, and idle waiting for I/O), from /proc and getrusage."""

from __future__ import annotations

import contextlib
import os
import resource
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.load_report import cpu_line
from benchmarks.stack import Stack

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of CPU times in /proc/<pid>/stat


class CpuMeter:
    """CPU seconds each part of the stack uses inside `with CpuMeter(stack) as m:`.

    /proc is read every SAMPLE_S in a thread, so a process that ends meanwhile (a
    recycled gunicorn worker, a closed database connection) loses at most that much.
    """

    SAMPLE_S = 0.5

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._baseline: dict[tuple[int, int], tuple[str, int]] = {}
        self._last: dict[tuple[int, int], tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> CpuMeter:
        self._baseline = self.stack.cpu_ticks()
        self._last = dict(self._baseline)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._last.update(self.stack.cpu_ticks())

    def _sample(self) -> None:
        while not self._stop.wait(self.SAMPLE_S):
            self._last.update(self.stack.cpu_ticks())

    def seconds(self) -> dict[str, float]:
        used = dict.fromkeys([*self.stack.server_names(), "postgresql"], 0.0)
        for key, (name, ticks) in self._last.items():
            start = self._baseline.get(key, (name, 0))[1]
            used[name] += (ticks - start) / CLOCK_TICKS
        return used


def machine_seconds() -> tuple[float, float]:
    """(busy, waiting for I/O) CPU seconds of all the machine's CPUs since boot."""
    ticks = [
        int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ]
    idle, iowait = ticks[3], ticks[4]
    # guest and guest_nice (fields 9 and 10) are already counted in user and nice.
    return (sum(ticks[:8]) - idle - iowait) / CLOCK_TICKS, iowait / CLOCK_TICKS


def process_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def cpu_measured(stack: Stack, into: list[str], phase: str) -> Iterator[None]:
    """Append to `into` where the CPU time of the block went (cpu_line)."""
    clock, client = time.monotonic(), process_seconds()
    busy_before, iowait_before = machine_seconds()
    with CpuMeter(stack) as meter:
        yield
    spent = meter.seconds()
    spent["load client"] = process_seconds() - client
    busy, iowait = machine_seconds()
    line = cpu_line(phase, spent, busy - busy_before, time.monotonic() - clock)
    # Idle CPUs while requests queue: waiting on the disk (WAL, checkpoints) or locks.
    into.append(f"{line}; idle waiting for I/O {iowait - iowait_before:.1f} s")
