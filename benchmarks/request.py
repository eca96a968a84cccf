"""One /backtest/ request on the production stack against backtesting.py's bare run on
the same bars, and throughput at 16 connections against /healthz's; writes the
Request section of RESULTS.md.

`.venv/bin/python -m benchmarks.request [--rounds 5] [--per-round 10] [--seconds 20]
[--connections 16] [--peer-python PATH] [--no-write]` from the repository root. Like
benchmarks/load.py it needs a PostgreSQL login allowed to create databases
(LOAD_POSTGRES_URL) and starts gunicorn, Redis and the rest itself
(benchmarks/stack.py), stopping it all at the end.

The peer runs in a child process (benchmarks/peer_backtesting_py.py under `python
-I`), since its import name `backtesting` is our app's; by default with this
interpreter, which has backtesting.py from requirements-dev.txt, or with
--peer-python, any interpreter that has `backtesting==0.6.6`. Its rounds alternate
with the HTTP rounds, so both see the same machine.

Exit status 1 when a request failed.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

if not __package__:  # run as `python benchmarks/request.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.load import bounded
from benchmarks.load_client import (
    FASTS,
    REQUEST_TIMEOUT,
    SLOWS,
    Load,
    Recorder,
    api_session,
)
from benchmarks.load_report import PhaseResult, percentile
from benchmarks.request_seed import BACKTEST_TICKER, forget_runs, seed
from benchmarks.results import (
    UNTHROTTLED_ENV,
    Section,
    arguments,
    format_seconds,
    machine,
)
from benchmarks.stack import (
    DEFAULT_POSTGRES_URL,
    Stack,
    StackError,
    StackOptions,
    terminate_as_interrupt,
)

SECTION = Section("request", heading="Request")
PEER_SCRIPT = Path(__file__).resolve().parent / "peer_backtesting_py.py"
INVESTMENT = 10_000
BACKTEST_PATH = f"/backtest/{BACKTEST_TICKER}/{INVESTMENT}/"
# An authenticated request that does everything before the work: the floor of a backtest.
UNKNOWN_PATH = f"/backtest/NOPE/{INVESTMENT}/"
# Production's density: the ECS task runs 2 gunicorn processes of 4 threads on its one
# vCPU (deploy/stack.yaml; "about two per vCPU", docs/deploy.md), so two per CPU here.
WORKERS_PER_CPU = 2
GUNICORN_THREADS = 4
LATENCY_TARGET = 1 / 3  # a fresh /backtest/ at most a third of the peer's run
THROUGHPUT_TARGET = 1 / 5  # /backtest/ req/s at least a fifth of /healthz's
WARMUP_REQUESTS = 8


def gunicorn_workers(info: dict[str, str]) -> int:
    """The stack's gunicorn processes on this machine (machine()'s `nproc`)."""
    return WORKERS_PER_CPU * int(info["nproc"])


class Peer:
    """backtesting.py in its own process, timed a batch at a time."""

    def __init__(self, python: str) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - fixed command, no shell
            [python, "-I", str(PEER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=PEER_SCRIPT.parent,
        )
        self.ready = self._answer()
        self.samples: list[float] = []

    def _answer(self) -> dict[str, object]:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            raise StackError(
                "the backtesting.py peer exited: is backtesting==0.6.6 installed "
                "for --peer-python?"
            )
        answer: dict[str, object] = json.loads(line)
        return answer

    def run(self, count: int) -> None:
        if self.process.stdin is None:
            raise StackError("the peer's stdin is closed")
        self.process.stdin.write(f"run {count}\n")
        self.process.stdin.flush()
        samples = self._answer()["samples"]
        if not isinstance(samples, list):
            raise StackError(f"the peer answered {samples!r}")
        self.samples += [float(s) for s in samples]

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


class SamePath(Load):
    """Every request asks for the same path."""

    def __init__(self, *, base_url: str, token: str, endpoint: str, path: str) -> None:
        super().__init__(base_url=base_url, token=token, tickers=(BACKTEST_TICKER,))
        self._endpoint, self._path = endpoint, path

    def path(self, n: int) -> tuple[str, str]:
        return self._endpoint, self._path


class NewPairs(Load):
    """Every request a (fast, slow) pair not asked before: each one runs a backtest."""

    def path(self, n: int) -> tuple[str, str]:
        pair = n % (len(FASTS) * len(SLOWS))
        fast, slow = FASTS[pair % len(FASTS)], SLOWS[pair // len(FASTS)]
        return "backtest", f"{BACKTEST_PATH}?fast={fast}&slow={slow}"


@dataclass
class Latencies:
    """Sequential requests, one connection, timed at the client."""

    name: str
    samples: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def row(self, floor: float) -> str:
        ordered = sorted(self.samples)
        return (
            f"| {self.name} | {len(ordered)} | {format_seconds(self.median)} "
            f"| {format_seconds(percentile(ordered, 0.95))} "
            f"| {format_seconds(self.median - floor)} |"
        )


def timed(
    session: requests.Session, url: str, recorder: Recorder, into: list[float]
) -> dict[str, object] | None:
    before = len(recorder.samples)
    response = recorder.get(session, url, "sequential", "")
    into.append(recorder.samples[before].latency_s)
    if response is None or not response.ok:
        return None
    body: dict[str, object] = response.json() if url.endswith("/") else {}
    return body


def timed_not_found(session: requests.Session, url: str, into: list[float]) -> None:
    """Like timed, for a request whose right answer is 404 (not a failure)."""
    clock = time.perf_counter()
    response = session.get(url, timeout=REQUEST_TIMEOUT, allow_redirects=False)
    into.append(time.perf_counter() - clock)
    if response.status_code != 404:
        raise StackError(f"{url} answered {response.status_code}, not 404")


def sequential(
    stack: Stack, token: str, peer: Peer, *, rounds: int, per_round: int
) -> tuple[list[Latencies], Recorder, dict[str, object]]:
    """Rounds of: the peer's runs, /healthz, an authenticated 404, fresh /backtest/,
    stored /backtest/."""
    health, unknown, fresh, stored = [], [], [], []
    recorder = Recorder()
    base = stack.base_url
    answer: dict[str, object] = {}
    with api_session(token) as session, stack.database() as database:
        session.headers["Accept"] = "application/json"
        for _ in range(WARMUP_REQUESTS):
            forget_runs(database, BACKTEST_TICKER)
            timed(session, base + BACKTEST_PATH, recorder, [])
            timed(session, base + "/healthz", recorder, [])
        for _ in range(rounds):
            peer.run(per_round)
            for _ in range(per_round):
                timed(session, base + "/healthz", recorder, health)
            for _ in range(per_round):
                timed_not_found(session, base + UNKNOWN_PATH, unknown)
            for _ in range(per_round):
                forget_runs(database, BACKTEST_TICKER)
                answer = timed(session, base + BACKTEST_PATH, recorder, fresh) or {}
            for _ in range(per_round):
                timed(session, base + BACKTEST_PATH, recorder, stored)
    return (
        [
            Latencies("backtesting.py bare run (in-process, no HTTP)", peer.samples),
            Latencies("`/healthz` (the stack's floor)", health),
            Latencies(
                f"`{UNKNOWN_PATH}` (404: the token, the rate limit, the look-up)",
                unknown,
            ),
            Latencies(f"`{BACKTEST_PATH}`, run and stored (fresh)", fresh),
            Latencies(f"`{BACKTEST_PATH}`, the stored run answered", stored),
        ],
        recorder,
        answer,
    )


def throughput(load: Load, *, seconds: float, connections: int) -> PhaseResult:
    load.run(seconds=min(3.0, seconds), connections=connections)  # warm-up
    return load.run(seconds=seconds, connections=connections)


def per_second(phase: PhaseResult) -> float:
    return len(phase.samples) / phase.elapsed_s


def throughput_row(name: str, phase: PhaseResult) -> str:
    ordered = sorted(s.latency_s for s in phase.samples)
    errors = sum(not s.ok for s in phase.samples)
    return (
        f"| {name} | {len(ordered):,} | {errors} | {per_second(phase):.1f} "
        f"| {format_seconds(percentile(ordered, 0.5))} "
        f"| {format_seconds(percentile(ordered, 0.99))} |"
    )


def verdict(met: bool) -> str:
    return "met" if met else "**MISSED**"


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0], runs=10, runs_help="unused")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--peer-python", default=sys.executable)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("LOAD_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    info = machine()
    options = StackOptions(
        tickers=(BACKTEST_TICKER,),
        postgres_url=args.postgres_url,
        gunicorn_workers=gunicorn_workers(info),
        gunicorn_threads=GUNICORN_THREADS,
        env=UNTHROTTLED_ENV,
    )
    bound = 600 + args.rounds * args.per_round * 3 + 4 * (args.seconds + 40)
    peer = Peer(args.peer_python)
    print(f"peer: backtesting.py {peer.ready['version']}, {peer.ready['bars']} bars")
    try:
        with terminate_as_interrupt(), Stack(options) as stack, bounded(bound):
            token, bars = seed(stack)
            print(f"  seeded {BACKTEST_TICKER} ({bars} bars) and SPY")
            latencies, recorder, answer = sequential(
                stack, token, peer, rounds=args.rounds, per_round=args.per_round
            )
            phases = {}
            loads: dict[str, Callable[[], Load]] = {
                "healthz": lambda: SamePath(
                    base_url=stack.base_url, token=token,
                    endpoint="healthz", path="/healthz",
                ),
                "backtest, a new pair each": lambda: NewPairs(
                    base_url=stack.base_url, token=token, tickers=(BACKTEST_TICKER,)
                ),
                "backtest, the stored run": lambda: SamePath(
                    base_url=stack.base_url, token=token,
                    endpoint="backtest", path=BACKTEST_PATH,
                ),
            }  # fmt: skip
            for name, make in loads.items():
                phases[name] = throughput(
                    make(), seconds=args.seconds, connections=args.connections
                )
                print(f"  {name}: {per_second(phases[name]):.1f} req/s")
    finally:
        peer.close()
    errors = len(recorder.failures) + sum(
        not s.ok for phase in phases.values() for s in phase.samples
    )
    for failure in recorder.failures[:5]:
        print(f"  failed: {failure.status} {failure.detail[:200]}")
    lines = section_lines(info, args, peer, latencies, phases, answer, errors)
    print("\n".join(lines))
    if not args.no_write:
        SECTION.write(SECTION.body(info, lines))
    return 1 if errors else 0


def section_lines(
    info: dict[str, str],
    args: object,
    peer: Peer,
    latencies: list[Latencies],
    phases: dict[str, PhaseResult],
    answer: dict[str, object],
    errors: int,
) -> list[str]:
    peer_run, health, unknown, fresh, _ = latencies
    ratio = fresh.median / peer_run.median
    health_rate = per_second(phases["healthz"])
    new_rate = per_second(phases["backtest, a new pair each"])
    metrics = answer.get("metrics", {})
    trades = answer.get("trades", [])
    final = metrics.get("final_equity") if isinstance(metrics, dict) else None
    rounds, per_round = getattr(args, "rounds", 0), getattr(args, "per_round", 0)
    seconds, connections = getattr(args, "seconds", 0), getattr(args, "connections", 0)
    return [
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python "
        f"{info['python']}. Everything (server, PostgreSQL, client, peer) shares them.",
        "- Stack: `benchmarks/stack.py` as for Load (gunicorn "
        f"{gunicorn_workers(info)} workers x {GUNICORN_THREADS} threads: "
        "two processes per CPU, as the ECS task runs two on its vCPU; production settings, "
        "a fresh PostgreSQL database, Redis cache, rate limits raised).",
        f"- Data: GOOG's {peer.ready['bars']:,} daily bars as backtesting.py ships them "
        f"({peer.ready['first']} to {peer.ready['last']}), and SPY stored beside it (a "
        "seeded random walk on the same dates), so every answer carries the default "
        "benchmark, the tearsheet and the warnings as in production. A superuser's API "
        "token.",
        f"- Peer: backtesting.py {peer.ready['version']} in a child process "
        "(`python -I benchmarks/peer_backtesting_py.py`: its import name is our app's), "
        "`Backtest(GOOG, SMA 50/200 cross, cash=10,000, commission=0, "
        "exclusive_orders=True, finalize_trades=True).run()`, "
        f"{peer.ready['trades']} trades, final equity {peer.ready['final_equity']:,.2f} "
        f"(ours: {len(trades) if isinstance(trades, list) else '?'} trades, {final}; a "
        "trade open at the end is sold at the last close by us, the last open by it).",
        f"- Sequential: {rounds} rounds of {per_round} peer runs, then {per_round} of each "
        "request below on one keep-alive connection, after a warm-up. A fresh request "
        "finds no stored run (the benchmark deletes the runs between requests, untimed), "
        "so it reads the bars, runs, stores and answers; the stored one answers the run "
        "already kept (DESIGN §10). Wall time at the client.",
        "",
        "| case | runs | median | p95 | above `/healthz` |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(row.row(health.median) for row in latencies),
        "",
        f"Fresh `{BACKTEST_PATH}` / backtesting.py's run: {ratio:.2f} (target at most "
        f"{LATENCY_TARGET:.2f}, {verdict(ratio <= LATENCY_TARGET)}); the authenticated "
        f"404 alone: {unknown.median / peer_run.median:.2f}.",
        "",
        f"Throughput: {connections} client threads (keep-alive sessions) for "
        f"{seconds:.0f} s each after a 3 s warm-up; a new pair asks "
        f"`{BACKTEST_PATH}?fast=F&slow=S` with a pair not asked before.",
        "",
        "| load | requests | errors | req/s | p50 | p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(throughput_row(name, phase) for name, phase in phases.items()),
        "",
        f"`/backtest/` (a new pair each) / `/healthz` req/s: {new_rate / health_rate:.2f} "
        f"(target at least {THROUGHPUT_TARGET:.2f}, "
        f"{verdict(new_rate / health_rate >= THROUGHPUT_TARGET)}). Errors: {errors}.",
    ]


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except KeyboardInterrupt:
        print("interrupted: everything started was stopped", file=sys.stderr)
        raise SystemExit(130) from None
