"""Bulk backtest from the admin: 1,000 symbols queued, then run by 1 and 2 workers.

`DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.bulk [--no-write]` from
the repository root, on a PostgreSQL database of your own (it is also the task
queue: Django-Q2's ORM broker). It loads the generated symbols if they are missing
(`manage.py generate_scale_data --symbols N --years Y`; they stay loaded), then, as
a superuser through Django's test client: opens the Symbols list searched for the
generated tickers, "select all" + Run backtest (the form page), and submits the form
(the request that queues a Job per symbol), timed. Then a Django-Q2 cluster
(`manage.py qcluster`, 1 worker, then 2) runs the queued Jobs, and the rate is
read from the Jobs' finish times, after the first few (the worker's start). The
backtests, Jobs and tasks it made are deleted at each round and at the end.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as `python benchmarks/bulk.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.results import (
    Section,
    Timing,
    arguments,
    format_seconds,
    machine,
    timings_table,
)

SECTION = Section("bulk", heading="Bulk backtest (1,000 symbols)")
ENQUEUE_TARGET_S = 2.0  # the issue: 1,000 symbols queued from the admin in under 2 s
WORKER_COUNTS = (1, 2)
SKIPPED_JOBS = 10  # the first Jobs to finish: the workers starting, not their rate
CLUSTER_NAME = f"stockdesk-bulk-{os.getpid()}"
ROOT = Path(__file__).resolve().parent.parent
FORM = {
    "initial_investment": "10000",
    "fast": "50",
    "slow": "200",
    "commission": "0",
    "adjust": "splits",
}
START_TIMEOUT_S = 120
RATE_TIMEOUT_S = 900


@dataclass(frozen=True)
class Rate:
    workers: int
    jobs: int  # timed, after SKIPPED_JOBS
    seconds: float
    first_done_s: float  # from the cluster's start to the first Job finished
    failed: int
    load_before: float  # the machine's 1-minute load average when the round began

    @property
    def per_second(self) -> float:
        return self.jobs / self.seconds


def setup() -> None:
    # Read by Django-Q2 at import: this process queues for the cluster started below.
    os.environ["DJANGO_Q_SYNC"] = "false"
    os.environ["DJANGO_Q_NAME"] = CLUSTER_NAME
    from benchmarks.ingest import setup_django

    setup_django()


def ensure_symbols(count: int, years: int) -> int:
    """The generated symbols, loaded when not all there; how many bars they have."""
    import io

    from django.core.management import call_command

    from core.models import PriceBar, Symbol
    from core.scale_data import TICKER_PREFIX

    generated = Symbol.objects.filter(ticker__startswith=TICKER_PREFIX)
    if (
        generated.count() != count
        or not PriceBar.objects.filter(symbol__in=generated).exists()
    ):
        started = time.perf_counter()
        call_command("generate_scale_data", "--delete", stdout=io.StringIO())
        size = ["--symbols", str(count), "--years", str(years)]
        call_command("generate_scale_data", *size, stdout=io.StringIO())
        print(f"loaded {count:,} symbols in {time.perf_counter() - started:.1f} s")
    return PriceBar.objects.filter(symbol__in=generated).count()


def reset() -> None:
    """Delete what a round made: its backtests, Jobs and Django-Q2 tasks."""
    from django_q.models import OrmQ, Task

    from backtesting.models import BacktestRun
    from core.models import Job
    from core.scale_data import TICKER_PREFIX

    jobs = Job.objects.filter(ticker__startswith=TICKER_PREFIX)
    Task.objects.filter(id__in=list(jobs.values_list("task_id", flat=True))).delete()
    jobs.delete()
    BacktestRun.objects.filter(symbol__ticker__startswith=TICKER_PREFIX).delete()
    OrmQ.objects.filter(key=CLUSTER_NAME).delete()


class Desk:
    """A superuser in the admin, on the Symbols list searched for generated tickers."""

    def __init__(self) -> None:
        from django.contrib.auth import get_user_model
        from django.test import Client

        from core.models import Symbol
        from core.scale_data import TICKER_PREFIX

        user, _ = get_user_model().objects.get_or_create(
            username="bulk-bench", defaults={"is_staff": True, "is_superuser": True}
        )
        self.client = Client()
        self.client.force_login(user)
        self.url = f"/admin/core/symbol/?q={TICKER_PREFIX}"
        first = Symbol.objects.filter(ticker__startswith=TICKER_PREFIX).first()
        if first is None:
            raise RuntimeError("no generated symbol is stored")
        # "Select all" on the list sends the rows it shows and select_across.
        self.selection = {
            "action": "run_backtest",
            "select_across": "1",
            "_selected_action": [str(first.pk)],
        }

    def open_list(self) -> None:
        self._check(self.client.get(self.url), 200)

    def form_page(self) -> float:
        started = time.perf_counter()
        response = self.client.post(self.url, {**self.selection, "index": "0"})
        elapsed = time.perf_counter() - started
        self._check(response, 200)
        return elapsed

    def queue(self) -> float:
        started = time.perf_counter()
        response = self.client.post(self.url, {**self.selection, **FORM, "apply": "1"})
        elapsed = time.perf_counter() - started
        self._check(response, 302)
        return elapsed

    @staticmethod
    def _check(response: Any, status: int) -> None:
        if response.status_code != status:
            raise RuntimeError(
                f"the admin answered {response.status_code}, not {status}: "
                + response.content.decode(errors="replace")[:500]
            )


def start_cluster(workers: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_Q_WORKERS": str(workers),
        "DJANGO_Q_POLL": "0.2",
        "DJANGO_Q_NAME": CLUSTER_NAME,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process


def finish_times(limit: int) -> list[datetime]:
    from core.models import Job
    from core.scale_data import TICKER_PREFIX

    finished = (
        Job.objects.filter(ticker__startswith=TICKER_PREFIX, finished_at__isnull=False)
        .order_by("finished_at")
        .values_list("finished_at", flat=True)
    )
    return [moment for moment in finished[:limit] if moment is not None]


def run_round(workers: int, sample: int, total: int, folder: Path) -> Rate:
    """Run the queued Jobs on a cluster until SKIPPED_JOBS + sample have finished."""
    from benchmarks.stack import stop_process
    from core.models import Job
    from core.scale_data import TICKER_PREFIX

    wanted = min(total, SKIPPED_JOBS + sample + 1)
    load_before = os.getloadavg()[0]
    log = folder / f"qcluster-{workers}.log"
    started = time.monotonic()
    started_at = datetime.now().astimezone()
    process = start_cluster(workers, log)
    try:
        deadline = started + START_TIMEOUT_S + RATE_TIMEOUT_S
        while len(times := finish_times(wanted)) < wanted:
            if process.poll() is not None:
                raise RuntimeError(f"qcluster exited: {log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(times)} of {wanted} Jobs done in time")
            time.sleep(0.5)
    finally:
        stop_process(process)
    failed = Job.objects.filter(
        ticker__startswith=TICKER_PREFIX, status=Job.Status.FAILED
    ).count()
    timed = times[SKIPPED_JOBS:wanted]
    return Rate(
        workers=workers,
        jobs=len(timed) - 1,
        seconds=(timed[-1] - timed[0]).total_seconds(),
        first_done_s=(times[0] - started_at).total_seconds(),
        failed=failed,
        load_before=load_before,
    )


def rates_table(rates: list[Rate]) -> list[str]:
    rows = [
        "| workers | Jobs timed | seconds | runs per second | first Job done after "
        "| failed | load average before |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rates:
        rows.append(
            f"| {r.workers} | {r.jobs} | {r.seconds:.1f} | {r.per_second:.1f} "
            f"| {r.first_done_s:.1f} s | {r.failed} | {r.load_before:.1f} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = arguments(
        __doc__.splitlines()[0], runs=3, runs_help="bulk actions timed (queue only)"
    )
    parser.add_argument("--symbols", type=int, default=1_000)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument(
        "--sample", type=int, default=300, help="Jobs timed per worker round"
    )
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds of each worker count"
    )
    args = parser.parse_args(argv)
    setup()
    from django.test.utils import override_settings

    from core.models import Job
    from core.scale_data import TICKER_PREFIX

    bars = ensure_symbols(args.symbols, args.years)
    # The test client renders the admin's pages without collectstatic's manifest.
    static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    with (
        override_settings(STORAGES={**storages, "staticfiles": static}),
        tempfile.TemporaryDirectory(prefix="stockdesk-bulk-") as folder,
    ):
        desk = Desk()
        queued = Job.objects.filter(ticker__startswith=TICKER_PREFIX)

        def bulk_action() -> tuple[float, float]:
            """(form page, submit) seconds, with every symbol's Job queued."""
            reset()
            desk.open_list()  # staff open the list before they select all
            seconds = desk.form_page(), desk.queue()
            if queued.count() != args.symbols:
                raise RuntimeError(f"{queued.count()} Jobs queued, not {args.symbols}")
            return seconds

        bulk_action()  # warm-up: the process's first admin pages
        samples = [bulk_action() for _ in range(args.runs)]
        form_s = [form for form, _ in samples]
        queue_s = [queue for _, queue in samples]
        print(f"form page: {', '.join(format_seconds(s) for s in form_s)}")
        print(
            f"queue {args.symbols:,} Jobs: {', '.join(format_seconds(s) for s in queue_s)}"
        )

        rates = []
        try:
            # Alternated, so a spell of load from outside falls on both counts.
            for n, workers in enumerate(WORKER_COUNTS * args.rounds):
                if n:
                    bulk_action()
                rate = run_round(workers, args.sample, args.symbols, Path(folder))
                print(
                    f"{workers} worker(s): {rate.jobs} Jobs in {rate.seconds:.1f} s, "
                    f"{rate.per_second:.1f} runs/s (failed {rate.failed})"
                )
                rates.append(rate)
        finally:
            reset()

    timings = [
        _timing("select all + Run backtest: the form page", args.symbols, form_s, None),
        _timing(
            "submit: one Job per symbol queued",
            args.symbols,
            queue_s,
            ENQUEUE_TARGET_S,
        ),
    ]
    median_rate = {
        workers: statistics.median(r.per_second for r in rates if r.workers == workers)
        for workers in WORKER_COUNTS
    }
    ratio = median_rate[2] / median_rate[1]
    verdict = "raised" if ratio > 1 else "**NOT raised**"
    table = timings_table(timings, unit="symbols")
    print("\n".join(table))
    print("\n".join(rates_table(rates)))
    medians = ", ".join(f"{w}: {r:.1f}" for w, r in median_rate.items())
    print(f"median runs/s by workers {medians}; 2 / 1: {ratio:.2f}x ({verdict})")
    if not args.no_write:
        info = machine()
        lines = [
            f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python "
            f"{info['python']}; PostgreSQL on the same machine (the data and the "
            "ORM broker's queue), the cluster and this script sharing the CPUs.",
            f"- Data: {args.symbols:,} generated symbols (`generate_scale_data "
            f"--symbols {args.symbols} --years {args.years}`), {bars:,} bars.",
            "- The admin: a superuser through Django's test client, on the Symbols "
            f"list searched for `{TICKER_PREFIX}`; the form page is the answer to "
            '"select all" + Run backtest, the submit queues the Jobs (one INSERT '
            "of the Jobs, one of their tasks, one statement for their task ids). "
            f"{args.runs} runs after a warm-up; target: {args.symbols:,} symbols "
            f"queued {timings[1].against_target}.",
            "",
            *table,
            "",
            "- The workers: `manage.py qcluster` with `DJANGO_Q_WORKERS` 1, then 2, "
            f"on the {args.symbols:,} queued Jobs (50/200, 10,000); runs per second "
            f"from the finish times of the Jobs after the first {SKIPPED_JOBS} (the "
            f"workers' start), over the number timed; {args.rounds} rounds of "
            "each, alternated. Other work shared the 2 CPUs meanwhile (the load "
            "average column), so a round's rate moves from run to run.",
            "",
            *rates_table(rates),
            "",
            f"A second worker: median {median_rate[2]:.1f} runs per second against "
            f"{median_rate[1]:.1f}, {ratio:.2f}x the rate of one ({verdict}).",
        ]
        SECTION.write(SECTION.body(info, lines))
    return 0


def _timing(
    label: str, symbols: int, samples: list[float], target: float | None
) -> Timing:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return Timing(label, symbols, len(ordered), statistics.median(ordered), p95, target)


if __name__ == "__main__":
    sys.exit(main())
