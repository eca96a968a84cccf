"""Report timings (JSON and the 3-page PDF of a 2-year symbol) and the PDF's peak
memory; writes the Report section of RESULTS.md.

`.venv/bin/python -m benchmarks.report [--runs N] [--no-write]` from the repository
root; it builds a throw-away SQLite database in a temporary folder and raises the
per-user rate limit for its one user (UNTHROTTLED_ENV), as benchmarks/load.py does.
The server-time figure is the process's CPU time per request: on a shared machine
the wall time also counts the other processes' turns.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

if not __package__:  # run as `python benchmarks/report.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import (
    UNTHROTTLED_ENV,
    Section,
    Timing,
    arguments,
    format_seconds,
    machine,
    measure,
    timings_table,
)

SECTION = Section("report", heading="Report")
JSON_TARGET_S = 0.100
# Issue 16: the whole PDF request, building the report included, in under half a second.
PDF_TARGET_S = 0.500
TICKER = "AAPL"
PDF_PATH = f"/report/{TICKER}/?format=pdf"


def setup_django(folder: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "core.settings"
    os.environ["SECRET_KEY"] = "benchmark-only"  # noqa: S105 - a throw-away database
    os.environ["DATABASE_URL"] = f"sqlite:///{folder / 'bench.sqlite3'}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["WHITENOISE_USE_FINDERS"] = "true"
    # Some 40 PDFs and 20 JSON reports a minute, one user: not throttled (429).
    os.environ.update(UNTHROTTLED_ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def font_subsetter() -> str:
    """Which library WeasyPrint subsets the embedded fonts with: HarfBuzz (what the
    image installs, libharfbuzz-subset0) is far faster than its fontTools fallback."""
    from weasyprint.text.ffi import harfbuzz_subset

    return (
        "HarfBuzz-Subset" if harfbuzz_subset else "fontTools (no libharfbuzz-subset0)"
    )


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU seconds of this process in one call: the server's time for it, whatever
    else the machine's CPUs are doing meanwhile (wall time counts their turns too)."""
    started = time.process_time()
    fn()
    return time.process_time() - started


def cpu_median(fn: Callable[[], object], runs: int) -> float:
    """Median CPU seconds of this process per call."""
    return statistics.median(cpu_seconds(fn) for _ in range(runs))


class CollectorClock:
    """CPU seconds spent in Python's garbage collector inside `with clock.running():`."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        gc.callbacks.append(self._callback)
        try:
            yield
        finally:
            gc.callbacks.remove(self._callback)


@contextlib.contextmanager
def collector_left_on() -> Iterator[None]:
    """Renders without reporting.pdf's CollectorPause, as before it: the automatic
    collections run inside the render."""
    from reporting import pdf

    pause = pdf._collector_pause  # switched off here to measure what it saves
    held = pause.held
    pause.held = contextlib.nullcontext  # type: ignore[method-assign]
    try:
        yield
    finally:
        pause.held = held  # type: ignore[method-assign]


@dataclass(frozen=True)
class CollectorTrial:
    """The PDF request alternately with and without the collector pause."""

    paused_cpu: list[float]
    paused_gc_s: float
    on_cpu: list[float]
    on_gc_s: float

    def line(self) -> str:
        runs = len(self.paused_cpu)
        paused, on = statistics.mean(self.paused_cpu), statistics.mean(self.on_cpu)
        return (
            f"- Garbage collection (`reporting.pdf.CollectorPause`): the same request "
            f"{runs} times with the automatic collector paused during the render, "
            f"as served, and {runs} times with it left on, as before, alternately: "
            f"CPU per request, mean {format_seconds(paused)} paused against "
            f"{format_seconds(on)} on ({paused / on:.2f} times), of which in the "
            f"collector {format_seconds(self.paused_gc_s / runs)} against "
            f"{format_seconds(self.on_gc_s / runs)}."
        )


def collector_trial(request: Callable[[], object], runs: int) -> CollectorTrial:
    paused, on = CollectorClock(), CollectorClock()
    paused_cpu, on_cpu = [], []
    for _ in range(runs):
        with paused.running():
            paused_cpu.append(cpu_seconds(request))
        with collector_left_on(), on.running():
            on_cpu.append(cpu_seconds(request))
    return CollectorTrial(paused_cpu, paused.seconds, on_cpu, on.seconds)


def python_peak_bytes(fn: Callable[[], object]) -> int:
    """The peak of Python's allocations during one call (tracemalloc)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB"


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0], runs=20).parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        setup_django(Path(folder))
        from django.contrib.auth import get_user_model
        from django.test import Client
        from pypdf import PdfReader

        from core.services import api_token_create
        from ingestion.providers.sample import SampleProvider
        from ingestion.services.fetch import prices_fetch
        from ml.services import model_train
        from reporting.charts_context import chart_images
        from reporting.services import report_build, report_pdf

        fetched = prices_fetch(
            ticker=TICKER, provider=SampleProvider(today=date(2026, 11, 24))
        )
        model_train(ticker=TICKER)
        user = get_user_model().objects.create_superuser("bench")
        client = Client(
            HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=user, name='b').raw_key}"
        )
        client.get(
            f"/report/{TICKER}/"
        )  # runs and stores the default backtest and forecast

        def get(path: str) -> bytes:
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            return response.content

        def timed(
            label: str, path: str, *, runs: int, warmup: int, target: float
        ) -> Timing:
            median, p95 = measure(lambda: get(path), runs=runs, warmup=warmup)
            return Timing(label, fetched.received, runs, median, p95, target)

        rss_before_pdf = max_rss_bytes()
        pdf = get(PDF_PATH)
        page_count = len(PdfReader(io.BytesIO(pdf)).pages)
        pdf_runs = max(3, args.runs // 2)
        timings = [
            timed(
                "JSON report (GET /report/, served)",
                f"/report/{TICKER}/",
                runs=args.runs,
                warmup=2,
                target=JSON_TARGET_S,
            ),
            timed(
                "PDF report (GET /report/?format=pdf)",
                PDF_PATH,
                runs=pdf_runs,
                warmup=1,
                target=PDF_TARGET_S,
            ),
        ]
        pdf_timing = timings[1]
        pdf_cpu = [cpu_seconds(lambda: get(PDF_PATH)) for _ in range(pdf_runs)]
        cpu = statistics.median(pdf_cpu)
        built = report_build(ticker=TICKER, user=user)
        build_cpu = cpu_median(lambda: report_build(ticker=TICKER, user=user), pdf_runs)
        charts_cpu = cpu_median(
            lambda: chart_images(built.symbol, built.data, bars=built.bars), pdf_runs
        )
        render_cpu = cpu_median(lambda: report_pdf(built), pdf_runs)
        trial = collector_trial(lambda: get(PDF_PATH), pdf_runs)
        peak = python_peak_bytes(lambda: get(PDF_PATH))
        rss_after = max_rss_bytes()

        info = machine()
        rows = timings_table(timings)
        verdict = "met" if cpu < PDF_TARGET_S else "**MISSED**"
        figures = [
            f"- PDF: {page_count} pages, {len(pdf) / 1e3:.0f} kB; fonts subset with "
            f"{font_subsetter()}.",
            f"- Server time of a PDF request, the process's CPU time (wall time also "
            f"counts the turns of whatever else the machine runs): median "
            f"{format_seconds(cpu)}, mean {format_seconds(statistics.mean(pdf_cpu))} "
            f"of {pdf_runs}, against its {format_seconds(PDF_TARGET_S)} limit "
            f"**{cpu / PDF_TARGET_S:.2f} times the limit**, {verdict}; wall time "
            f"median {format_seconds(pdf_timing.median_s)}.",
            f"- Its parts, CPU medians of {pdf_runs}: building the report dict "
            f"(`report_build`: reads, the stored backtest and forecast looked up) "
            f"{format_seconds(build_cpu)}; rendering it (`report_pdf`) "
            f"{format_seconds(render_cpu)}, of which the three charts (matplotlib "
            f"SVG) {format_seconds(charts_cpu)} and the template and WeasyPrint the "
            f"other {format_seconds(render_cpu - charts_cpu)}.",
            trial.line(),
            f"- Peak memory of one PDF request: Python allocations (tracemalloc) "
            f"{megabytes(peak)}; the process's peak RSS (getrusage) "
            f"{megabytes(rss_after)}, {megabytes(rss_after - rss_before_pdf)} above "
            "its peak before the first PDF.",
        ]
        print("\n".join([*rows, "", *figures]))
        if not args.no_write:
            body = SECTION.body(
                info,
                [
                    f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python {info['python']}",
                    f"- Data: {fetched.received} bars of offline sample prices for {TICKER} "
                    "(2 years), its default 50/200 backtest and a model trained on it; both "
                    "stored before timing, so each call reads them (the forecast for the same "
                    "day is reused). Through Django's test client with an API token, SQLite; "
                    + ", ".join(
                        f"`{k}={v}`" for k, v in sorted(UNTHROTTLED_ENV.items())
                    )
                    + ".",
                    "",
                    *rows,
                    "",
                    *figures,
                ],
            )
            SECTION.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
