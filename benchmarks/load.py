"""Load on the production stack: /backtest/, /predict/, /report/ at 16 connections, then during a 50-symbol bulk fetch; writes the Load section of RESULTS.md.

`.venv/bin/python -m benchmarks.load [--seconds 60] [--connections 16] [--no-write]`
from the repository root. It needs a PostgreSQL login allowed to create databases
(LOAD_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres) and starts
everything else itself on 127.0.0.1 (benchmarks/stack.py), stopping it all at the end,
also on Ctrl-C or a failure. GUNICORN_WORKERS, GUNICORN_THREADS and DJANGO_Q_WORKERS
in the environment override the defaults below.

Exit status 1 when any request failed (a non-2xx answer or no answer) or a bulk
fetch job did not succeed.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

if not __package__:  # run as `python benchmarks/load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from benchmarks.cpu_time import cpu_measured
from benchmarks.load_client import (
    FASTS,
    REQUEST_TIMEOUT,
    SLOWS,
    BulkFetch,
    Load,
    Recorder,
    api_session,
    stored_bars,
)
from benchmarks.load_report import (
    SLICE_S,
    TABLE_HEAD,
    BulkResult,
    PhaseResult,
    Row,
    bulk_summary,
    describe,
    per_slice,
    print_rows,
    summarise,
)
from benchmarks.results import (
    UNTHROTTLED_ENV,
    Section,
    arguments,
    machine,
    machine_line,
)
from benchmarks.stack import (
    DEFAULT_POSTGRES_URL,
    Stack,
    StackError,
    StackOptions,
    terminate_as_interrupt,
)

SECTION = Section("load", heading="Load")

# As scripts/prod-smoke.sh runs production on this machine (2 CPUs).
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 4
Q_WORKERS = 2

SEED_TICKERS = ("LOADA", "LOADB", "LOADC", "LOADD")
BULK_TICKERS = tuple(f"BULK{n:02d}" for n in range(1, 51))
GENERATED_DAYS = 540  # weekdays; PRICE_HISTORY_YEARS=2 keeps the last two years
WARMUP_S = 5.0  # unrecorded load first: every gunicorn worker imports and connects
FETCH_WAIT_S = 120.0  # after phase 2, for bulk fetch jobs still unfinished
SEED_BOUND_S = 600.0  # superuser, token, seed fetches, training
ERRORS_SHOWN = 8


# --- setting up ------------------------------------------------------------------


def seed(stack: Stack) -> str:
    """A superuser's token, the seed tickers fetched through /fetch/ and trained."""
    stack.manage(
        "createsuperuser",
        "--noinput",
        "--username",
        "load",
        "--email",
        "load@example.com",
    )
    token = stack.manage("create_api_token", "load", "--name", "load benchmark").strip()
    if not token:
        raise StackError("create_api_token printed no token")
    with api_session(token) as session:
        for ticker in SEED_TICKERS:
            response = session.get(
                f"{stack.base_url}/fetch/{ticker}/",
                timeout=REQUEST_TIMEOUT,
                allow_redirects=False,
            )
            if response.status_code != 200:
                raise StackError(
                    f"GET /fetch/{ticker}/: HTTP {response.status_code} "
                    f"{response.text[:300]}"
                )
            body = response.json()
            print(
                f"  fetched {ticker}: {body['received']} bars "
                f"{body['first_date']} to {body['last_date']}",
                flush=True,
            )
    stack.manage("train_model", *[a for t in SEED_TICKERS for a in ("--symbol", t)])
    print(f"  models trained: {', '.join(SEED_TICKERS)}", flush=True)
    return token


# --- phase 2: the bulk fetch -----------------------------------------------------


# --- the run ---------------------------------------------------------------------


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """End the block by itself: SIGALRM raises in the main thread after `seconds`.

    Entered inside the Stack, so the alarm is off again before the Stack stops;
    starting and stopping are bounded by their own timeouts.
    """

    def expire(signum: int, frame: object) -> None:
        raise StackError(f"the run exceeded its bound of {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(math.ceil(seconds))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Run:
    """What the phases add up to: table rows, CPU lines, errors and their notes."""

    stack: Stack
    load: Load
    token: str
    seconds: float
    connections: int
    rows: list[Row] = field(default_factory=list)
    cpu_lines: list[str] = field(default_factory=list)
    slice_lines: list[str] = field(default_factory=list)
    bulk_results: list[BulkResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: int = 0

    def count(self, phase: PhaseResult, label: str = "") -> None:
        self.errors += len(phase.failures) + phase.stragglers
        self.notes += [f"{label}{describe(f)}" for f in phase.failures[:ERRORS_SHOWN]]
        if phase.stragglers:
            self.notes.append(f"{phase.stragglers} client threads outlived the bound")

    def warm_up(self) -> None:
        phase = self.load.run(seconds=WARMUP_S, connections=self.connections)
        self.count(phase, "warm-up: ")
        print(f"  warm-up: {len(phase.samples)} requests in {WARMUP_S:.0f} s")

    def endpoints_alone(self, tag: str) -> None:
        print(f"Phase 1{tag}: {self.seconds:.0f} s, {self.connections} connections")
        with cpu_measured(self.stack, self.cpu_lines, f"1{tag}"):
            phase = self.load.run(seconds=self.seconds, connections=self.connections)
        self.stack.check_running()
        self.count(phase)
        rows = summarise(f"1{tag}: endpoints alone", phase.samples, phase.elapsed_s)
        self.slice_lines.append(f"phase 1{tag}: {per_slice(phase)}")
        print_rows(rows)
        print(f"  req/s by {SLICE_S:.0f} s: {per_slice(phase)}")
        print(f"  cpu: {self.cpu_lines[-1]}", flush=True)
        self.rows += rows

    def during_bulk_fetch(self, tag: str) -> None:
        """Queue the bulk fetch on the idle server, then the same load as phase 1
        while the Django-Q2 workers fetch."""
        print(
            f"Phase 2{tag}: {len(BULK_TICKERS)} async fetches queued, then "
            f"{self.seconds:.0f} s, {self.connections} connections"
        )
        bulk = BulkFetch(self.stack, self.token, BULK_TICKERS)
        queueing = Recorder()
        with cpu_measured(self.stack, self.cpu_lines, f"2{tag}"):
            bulk.enqueue(queueing)
            phase = self.load.run(seconds=self.seconds, connections=self.connections)
        result = bulk.wait(FETCH_WAIT_S)
        self.stack.check_running()
        self.count(phase)
        self.errors += len(queueing.failures)
        self.notes += [describe(f) for f in queueing.failures[:ERRORS_SHOWN]]
        self.bulk_results.append(result)
        self.errors += len(result.enqueue_errors) + len(result.failed)
        self.errors += result.unfinished
        self.notes += (
            result.enqueue_errors[:ERRORS_SHOWN] + result.failed[:ERRORS_SHOWN]
        )
        if result.unfinished:
            self.notes.append(f"{result.unfinished} fetch jobs unfinished")
        for problem in bulk.poll_errors[:ERRORS_SHOWN]:
            print(f"  {problem}", file=sys.stderr)
        rows = summarise(
            f"2{tag}: queueing the fetches (before the clock)",
            queueing.samples,
            result.queued_s,
            endpoints=False,
        )
        rows += summarise(
            f"2{tag}: during a {len(BULK_TICKERS)}-symbol fetch",
            phase.samples,
            phase.elapsed_s,
        )
        if result.finished_at is not None:
            window = result.finished_at - phase.started
            if 0 < window < phase.elapsed_s - 1:
                rows += summarise(
                    f"2{tag}: while the fetches ran (first {window:.1f} s)",
                    [s for s in phase.samples if s.started < result.finished_at],
                    window,
                    endpoints=False,
                )
        self.slice_lines.append(f"phase 2{tag}: {per_slice(phase)}")
        print_rows(rows)
        print(f"  req/s by {SLICE_S:.0f} s: {per_slice(phase)}")
        print(f"  cpu: {self.cpu_lines[-1]}")
        print(f"  bulk fetch: {bulk_summary(result)}", flush=True)
        self.rows += rows


def main(argv: list[str] | None = None) -> int:
    parser = arguments(
        __doc__.splitlines()[0],
        runs=1,
        runs_help="rounds of both phases; each round gets its own rows",
    )
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="length of each phase"
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="client threads (connections)"
    )
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LOAD_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="a PostgreSQL login allowed to create databases",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    if args.seconds <= 0 or args.connections < 1 or args.runs < 1:
        parser.error("--seconds, --connections and --runs must be positive")

    options = StackOptions(
        tickers=SEED_TICKERS + BULK_TICKERS,
        days=GENERATED_DAYS,
        postgres_url=args.postgres_url,
        gunicorn_workers=_env_int("GUNICORN_WORKERS", GUNICORN_WORKERS),
        gunicorn_threads=_env_int("GUNICORN_THREADS", GUNICORN_THREADS),
        q_workers=_env_int("DJANGO_Q_WORKERS", Q_WORKERS),
        env=UNTHROTTLED_ENV,
    )
    info = machine()
    libraries = (
        f"Django {_version('django')}, gunicorn {_version('gunicorn')}, "
        f"django-q2 {_version('django-q2')}, requests {_version('requests')}"
    )
    print(machine_line(info, libraries))
    per_round = 2 * (args.seconds + sum(REQUEST_TIMEOUT) + 5) + FETCH_WAIT_S + 60
    run_bound = SEED_BOUND_S + WARMUP_S + args.runs * per_round

    with terminate_as_interrupt(), Stack(options) as stack, bounded(run_bound):
        broker, cache = stack.env["DJANGO_Q_BROKER"], stack.env["CACHE_BACKEND"]
        print(
            f"Stack: gunicorn on {stack.base_url} ({options.gunicorn_workers} workers x "
            f"{options.gunicorn_threads} threads), Django-Q2 {options.q_workers} "
            f"workers ({broker} broker), {cache} cache, database {stack.db_name}",
            flush=True,
        )
        with stack.database() as conn:
            postgres = conn.info.server_version
        token = seed(stack)
        bars = stored_bars(stack, SEED_TICKERS)
        run = Run(
            stack=stack,
            load=Load(base_url=stack.base_url, token=token, tickers=SEED_TICKERS),
            token=token,
            seconds=args.seconds,
            connections=args.connections,
        )
        run.warm_up()
        for round_number in range(1, args.runs + 1):
            tag = f" (round {round_number})" if args.runs > 1 else ""
            run.endpoints_alone(tag)
            run.during_bulk_fetch(tag)
        if run.errors:
            stack.print_log_tails(lines=40)
        # Each replacement of a worker (max_requests and its jitter) boots a new one.
        booted = stack.log_path("gunicorn").read_text(errors="replace")
        replaced = booted.count("Booting worker") - options.gunicorn_workers
        print(f"gunicorn replaced {replaced} workers during the run")

    notes = run.notes
    if len(notes) > ERRORS_SHOWN:
        notes = [*notes[:ERRORS_SHOWN], f"... and {len(notes) - ERRORS_SHOWN} more"]
    print(f"{run.errors} errors" + (":" if notes else ""))
    for note in notes:
        print(f"  {note}")
    if not args.no_write:
        SECTION.write(
            SECTION.body(
                info,
                section_lines(
                    info=info,
                    libraries=libraries,
                    postgres=postgres,
                    options=options,
                    broker=broker,
                    cache=cache,
                    args=args,
                    bars=bars,
                    run=run,
                    replaced=replaced,
                    notes=notes,
                ),
            )
        )
    return 1 if run.errors else 0


def _postgres_version(number: int) -> str:
    return f"{number // 10000}.{number % 10000}"


def section_lines(
    *,
    info: dict[str, str],
    libraries: str,
    postgres: int,
    options: StackOptions,
    broker: str,
    cache: str,
    args: argparse.Namespace,
    bars: dict[str, int],
    run: Run,
    replaced: int,
    notes: list[str],
) -> list[str]:
    seconds, connections = args.seconds, args.connections
    seed_bars = ", ".join(f"{t} {bars.get(t, 0)}" for t in SEED_TICKERS)
    throttle = (
        ", ".join(f"`{k}={v}`" for k, v in sorted(UNTHROTTLED_ENV.items()))
        if UNTHROTTLED_ENV
        else "none (the endpoints had no rate limit setting when this ran)"
    )
    lines = [
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python "
        f"{info['python']}, {libraries}; PostgreSQL {_postgres_version(postgres)} on "
        "loopback. The load generator runs on the same CPUs, and so does whatever "
        "else the machine is doing (the CPU lines below the table say how much).",
        f"- Stack (`benchmarks/stack.py`, as `scripts/prod-smoke.sh`): gunicorn "
        f"`docker/gunicorn.conf.py` with `GUNICORN_WORKERS={options.gunicorn_workers}`, "
        f"`GUNICORN_THREADS={options.gunicorn_threads}`; production settings (`DEBUG=false`, "
        "SSL redirect and HSTS behind a proxy: every request sends "
        "`X-Forwarded-Proto: https`); a fresh PostgreSQL database, dropped afterwards; "
        f"a Django-Q2 cluster with `DJANGO_Q_WORKERS={options.q_workers}` on the "
        f"`{broker}` broker; `CACHE_BACKEND={cache}`, a private `redis-server` on "
        "loopback (the rate-limit counters every process shares); the fake Alpha Vantage (`python -m tests.fakes.alphavantage`, "
        "premium key, generated prices, `ALPHA_VANTAGE_MIN_INTERVAL=0`, "
        "`ALPHA_VANTAGE_DAILY_LIMIT=10000` so the bulk fetch is not stopped by the free "
        "plan's 25 calls).",
        f"- Rate limits raised for the run, so one user's load is not throttled: {throttle}.",
        f"- Data: {len(SEED_TICKERS)} symbols fetched through `GET /fetch/<symbol>/` "
        f"(bars: {seed_bars}), a model trained for each with `manage.py train_model`; "
        "requests use a superuser's token (`manage.py create_api_token`).",
        f"- Load: {connections} client threads, one keep-alive `requests.Session` each, "
        f"for {seconds:.0f} s per phase after an unrecorded {WARMUP_S:.0f} s warm-up; "
        "each request has a 5 s connect and 30 s read timeout. Each thread takes the "
        "next request of one sequence: `/backtest/<symbol>/10000/?fast=F&slow=S`, "
        "`/predict/<symbol>/`, `/report/<symbol>/` (JSON), then the next symbol. Every "
        f"backtest asks for a (fast, slow) pair not asked before in the run (fast "
        f"{FASTS.start}..{FASTS.stop - 1} by slow {SLOWS.start}..{SLOWS.stop - 1}), so "
        "no result cache can answer it; `/predict/` and `/report/` store a new forecast "
        "each call.",
        f"- Phase 2: {len(BULK_TICKERS)} `GET /fetch/<symbol>/?async=1` (symbols the "
        f"fake generates {GENERATED_DAYS} weekdays for) sent one after the other on "
        "the idle server, then the clock starts and the same load runs while the "
        "Django-Q2 workers fetch and store them. The fetch jobs: "
        + "; ".join(bulk_summary(r) for r in run.bulk_results)
        + '. The "while the fetches ran" rows count the requests started before the '
        'last job ended (polled every 0.25 s), over that window; "all 3" is the '
        "three endpoints together.",
        f"- gunicorn replaced {replaced} workers during the run (`max_requests` "
        "with its jitter; the count includes the warm-up and seeding requests).",
        "- An error is any answer that is not 2xx (redirects included) or no answer "
        "within the timeouts; latency is wall time per request at the client, p50 "
        "and p99 nearest-rank; req/s is requests over the phase's wall time.",
        "",
        *TABLE_HEAD,
        *(row.markdown() for row in run.rows),
        "",
        "CPU time over each phase (`/proc/stat` for the machine; `/proc/<pid>/stat` "
        "every 0.5 s for the run: a server with its worker processes, PostgreSQL "
        "with this database's backends):",
        "",
        *(f"- {line}" for line in run.cpu_lines),
        "",
        f"Requests per second of the three endpoints, {SLICE_S:.0f} s at a time:",
        "",
        *(f"- {line}" for line in run.slice_lines),
        "",
        f"Errors: {run.errors}." + (" First ones:" if notes else ""),
    ]
    lines += [f"- `{note}`" for note in notes]
    return lines


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        raise SystemExit(130) from None
