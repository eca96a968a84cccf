"""The load generator: client threads that record every request, and the bulk fetch."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterable, Iterator

import psycopg
import requests

from benchmarks.load_report import ENDPOINTS, BulkResult, Failure, PhaseResult, Sample
from benchmarks.stack import PROXY_HEADERS, Stack

FETCH_ENDPOINT = "fetch ?async=1"  # phase 2's bulk fetch requests, a row of their own
INITIAL_INVESTMENT = 10_000
JOB_POLL_S = 0.25
REQUEST_TIMEOUT = (5.0, 30.0)  # connect, read (seconds); gunicorn's own is 60
# (fast, slow) pairs, fast 5..60 by slow 70..250: 10,136 of them, one per backtest
# request in order, so no two requests of a run ask for the same backtest and a
# result cache cannot answer them.
FASTS = range(5, 61)
SLOWS = range(70, 251)


class Recorder:
    """The samples and failures of one phase, from every client thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.samples: list[Sample] = []
        self.failures: list[Failure] = []

    def get(
        self, session: requests.Session, url: str, endpoint: str, path: str
    ) -> requests.Response | None:
        """GET url + path, recorded; the response, or None when none came."""
        started = time.monotonic()
        clock = time.perf_counter()
        response = None
        try:
            response = session.get(
                url + path, timeout=REQUEST_TIMEOUT, allow_redirects=False
            )
        except requests.RequestException as exc:
            status, ok, detail = type(exc).__name__, False, str(exc)[:300]
        else:
            status, ok = (
                str(response.status_code),
                response.ok and response.status_code < 300,
            )
            detail = "" if ok else response.text[:300]
        sample = Sample(endpoint, started, time.perf_counter() - clock, status, ok)
        with self._lock:
            self.samples.append(sample)
            if not ok:
                self.failures.append(Failure(endpoint, path, status, detail))
        return response


class Load:
    """`connections` client threads, one keep-alive requests.Session each."""

    def __init__(self, *, base_url: str, token: str, tickers: tuple[str, ...]) -> None:
        self.base_url = base_url
        self.headers = {
            **PROXY_HEADERS,
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
        }
        self.tickers = tickers
        self._requests: Iterator[int] = itertools.count()

    def path(self, n: int) -> tuple[str, str]:
        """The n-th request of the run: endpoints in turn, then the next ticker."""
        endpoint = ENDPOINTS[n % len(ENDPOINTS)]
        turn = n // len(ENDPOINTS)
        ticker = self.tickers[turn % len(self.tickers)]
        if endpoint == "backtest":
            pair = turn % (len(FASTS) * len(SLOWS))
            fast, slow = FASTS[pair % len(FASTS)], SLOWS[pair // len(FASTS)]
            return endpoint, (
                f"/backtest/{ticker}/{INITIAL_INVESTMENT}/?fast={fast}&slow={slow}"
            )
        return endpoint, f"/{endpoint}/{ticker}/"

    def run(self, *, seconds: float, connections: int) -> PhaseResult:
        """`connections` threads send requests until `seconds` have passed."""
        recorder = Recorder()
        stop = threading.Event()
        started = time.monotonic()
        deadline = started + seconds

        def client() -> None:
            with requests.Session() as session:
                session.headers.update(self.headers)
                while not stop.is_set() and time.monotonic() < deadline:
                    endpoint, path = self.path(next(self._requests))
                    recorder.get(session, self.base_url, endpoint, path)

        threads = [
            threading.Thread(target=client, name=f"load-{i}", daemon=True)
            for i in range(connections)
        ]
        for thread in threads:
            thread.start()
        try:
            # Bounded: a request started just before the deadline ends within its
            # connect + read timeouts.
            bound = deadline + sum(REQUEST_TIMEOUT) + 5
            for thread in threads:
                while thread.is_alive() and time.monotonic() < bound:
                    thread.join(timeout=0.5)
        finally:
            stop.set()
        elapsed = time.monotonic() - started
        return PhaseResult(
            samples=list(recorder.samples),
            failures=list(recorder.failures),
            started=started,
            elapsed_s=elapsed,
            stragglers=sum(t.is_alive() for t in threads),
        )


def api_session(token: str) -> requests.Session:
    session = requests.Session()
    session.headers.update({**PROXY_HEADERS, "Authorization": f"Bearer {token}"})
    return session


def stored_bars(stack: Stack, tickers: Iterable[str]) -> dict[str, int]:
    with stack.database() as conn:
        rows = conn.execute(
            "SELECT s.ticker, count(b.id) FROM core_symbol s "
            "LEFT JOIN core_pricebar b ON b.symbol_id = s.id "
            "WHERE s.ticker = ANY(%s) GROUP BY s.ticker",
            [list(tickers)],
        ).fetchall()
    return dict(rows)


class BulkFetch:
    """Queue one async fetch per ticker, then follow the jobs in the database."""

    def __init__(self, stack: Stack, token: str, tickers: tuple[str, ...]) -> None:
        self.stack = stack
        self.token = token
        self.tickers = tickers
        self.job_ids: list[int] = []
        self.enqueue_errors: list[str] = []
        self.poll_errors: list[str] = []  # not errors of the app: shown, not counted
        self.queued_s = 0.0
        self.finished_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True)

    def enqueue(self, recorder: Recorder) -> None:
        """Queue every fetch (each request recorded), then follow the jobs."""
        clock = time.perf_counter()
        with api_session(self.token) as session:
            for ticker in self.tickers:
                response = recorder.get(
                    session,
                    self.stack.base_url,
                    FETCH_ENDPOINT,
                    f"/fetch/{ticker}/?async=1",
                )
                if response is not None and response.status_code == 202:
                    self.job_ids.append(int(response.json()["job"]["id"]))
                elif response is not None and response.ok:
                    # 2xx, so not a failed request, but no job to follow either.
                    self.enqueue_errors.append(
                        f"GET /fetch/{ticker}/?async=1: HTTP {response.status_code}, "
                        "expected 202"
                    )
        self.queued_s = time.perf_counter() - clock
        self._thread.start()

    def _unfinished(self, conn: psycopg.Connection) -> int:
        row = conn.execute(
            "SELECT count(*) FROM core_job WHERE id = ANY(%s) "
            "AND status IN ('queued', 'running')",
            [self.job_ids],
        ).fetchone()
        return row[0] if row else 0

    def _follow(self) -> None:
        """Poll until no job is left unfinished; a database error only retries."""
        while not self._stop.is_set():
            try:
                with self.stack.database() as conn:
                    while not self._stop.is_set():
                        if self._unfinished(conn) == 0:
                            self.finished_at = time.monotonic()
                            return
                        self._stop.wait(JOB_POLL_S)
            except psycopg.Error as exc:
                self.poll_errors.append(f"following the fetch jobs: {exc}")
                self._stop.wait(1.0)

    def wait(self, timeout: float) -> BulkResult:
        if self._thread.ident is not None:  # started: the jobs were queued
            self._thread.join(timeout=timeout)
            self._stop.set()
            self._thread.join(timeout=10)
        with self.stack.database() as conn:
            jobs = conn.execute(
                "SELECT ticker, status, error_code, error FROM core_job "
                "WHERE id = ANY(%s) ORDER BY ticker",
                [self.job_ids],
            ).fetchall()
            span = conn.execute(
                "SELECT min(created_at), max(finished_at) FROM core_job "
                "WHERE id = ANY(%s)",
                [self.job_ids],
            ).fetchone()
        first, last = span if span is not None else (None, None)
        unfinished = sum(status in ("queued", "running") for _, status, _, _ in jobs)
        return BulkResult(
            queued_s=self.queued_s,
            enqueue_errors=self.enqueue_errors,
            succeeded=sum(status == "succeeded" for _, status, _, _ in jobs),
            failed=[
                f"{ticker}: {code}: {error[:200]}"
                for ticker, status, code, error in jobs
                if status == "failed"
            ],
            unfinished=unfinished,
            finished_at=self.finished_at,
            span_s=(last - first).total_seconds()
            if first and last and not unfinished
            else None,
            bars=sum(stored_bars(self.stack, self.tickers).values()),
        )
