"""A local Alpha Vantage stand-in on loopback, answering with the real bodies.

The HTTP server, the key and limit rules, and the command line live here; the bodies
and scripted answers in alphavantage_responses.py, each function's answer in
alphavantage_endpoints.py, and SPLITS and DIVIDENDS in alphavantage_actions.py.
"""

from __future__ import annotations

import argparse
import json
import re
import socketserver
import sys
import threading
import time
from collections import deque
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes import alphavantage_actions, alphavantage_endpoints
from tests.fakes.alphavantage_actions import (
    SymbolActions,
    dividend_row,
    split_history,
    split_row,
)
from tests.fakes.alphavantage_responses import (
    SAMPLE_KEY,
    FakeResponse,
    Rows,
    generate_rows,
    load_body,
)

# What tests import from here: the fake and the answers it is scripted with.
__all__ = [
    "SAMPLE_KEY",
    "FakeAlphaVantage",
    "FakeResponse",
    "Rows",
    "SymbolActions",
    "dividend_row",
    "generate_rows",
    "load_body",
    "split_row",
]

DEFAULT_INVALID_KEYS = frozenset({"BADKEY"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Handlers may be sleeping out a scripted delay; stop() must not wait for them.
    block_on_close = False
    fake: FakeAlphaVantage

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can take
        # seconds on a machine without DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out has gone; a broken pipe then is expected.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeAlphaVantage/1.0"

    def do_GET(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        if url.path != "/query":
            self._send(FakeResponse(404, "Not Found", "text/plain"))
            return
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        response = fake._answer(params, dict(self.headers.items()))
        if response.delay > 0:
            # An Event rather than sleep(), so stop() wakes every waiting handler.
            fake._stopping.wait(response.delay)
        self._send(response)

    def _send(self, response: FakeResponse) -> None:
        body = (
            response.body.encode() if isinstance(response.body, str) else response.body
        )
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.verbose:
            # The request line carries the apikey; it is masked before printing.
            line = (format % args).replace("\n", " ")
            print(_mask_keys(line), flush=True)


def _mask_keys(text: str) -> str:
    return re.sub(r"(apikey=)[^&\s\"]+", r"\1***", text, flags=re.IGNORECASE)


class FakeAlphaVantage:
    """Real HTTP on 127.0.0.1; errors come back as HTTP 200 bodies, like the service.

    Keys: missing/empty or in `invalid_keys` -> invalid-key body; "demo" -> demo body;
    "PREMIUM..." -> premium (full and DAILY_ADJUSTED work); anything else -> free
    (outputsize=full refused, compact = latest 100 rows).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        daily_limit: int | None = None,
        burst_interval: float | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.daily_limit = daily_limit
        self.burst_interval = burst_interval
        self.invalid_keys: set[str] = set(DEFAULT_INVALID_KEYS)
        self.verbose = False
        self.requests: list[dict[str, str]] = []
        self.request_headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._reset_state()

    # --- lifecycle ------------------------------------------------------------------

    def start(self) -> FakeAlphaVantage:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"fake-alphavantage-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> FakeAlphaVantage:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeAlphaVantage is not started")
        return f"http://{self.host}:{self.port}/query"

    # --- configuration --------------------------------------------------------------

    def set_series(self, symbol: str, rows: Rows) -> None:
        """Make symbol known with these rows (date -> {"1. open": ..., ...})."""
        with self._lock:
            self._series[symbol.upper()] = {day: dict(bar) for day, bar in rows.items()}

    def generate_series(
        self,
        symbol: str,
        *,
        days: int,
        end: date,
        start_price: float = 100.0,
        seed: int = 0,
        split: tuple[date, Decimal | float | str] | None = None,
    ) -> None:
        """`days` deterministic, valid weekday bars (4-decimal strings) up to end.

        `split=(day, factor)`: a split effective on day inside the history. The
        bars are the same walk as without it, as traded: before the day prices are
        multiplied by the factor and volumes divided by it; SPLITS lists it.
        """
        rows = generate_rows(days=days, end=end, start_price=start_price, seed=seed)
        if split is not None:
            day, factor = split
            rows = split_history(rows, day=day, factor=factor)
            self.set_actions(symbol, splits=[split_row(day, factor)])
        self.set_series(symbol, rows)

    def set_actions(
        self,
        symbol: str,
        *,
        splits: list[dict[str, str]] | None = None,
        dividends: list[dict[str, str]] | None = None,
    ) -> None:
        """What SPLITS and DIVIDENDS list for symbol (rows as split_row and
        dividend_row make them, or any dict to test odd answers); None keeps those
        set before."""
        with self._lock:
            known = self._actions.setdefault(symbol.upper(), SymbolActions())
            if splits is not None:
                known.splits = [dict(row) for row in splits]
            if dividends is not None:
                known.dividends = [dict(row) for row in dividends]

    @property
    def price_requests(self) -> list[dict[str, str]]:
        """The requests for daily prices: a fetch's price calls without the SPLITS
        and DIVIDENDS calls it also makes when a symbol's actions are due."""
        with self._lock:
            return [
                r for r in self.requests if r.get("function") == "TIME_SERIES_DAILY"
            ]

    def series_rows(self, symbol: str) -> Rows:
        with self._lock:
            return dict(self._series[symbol.upper()])

    def script(self, *responses: FakeResponse) -> None:
        with self._lock:
            self._script.extend(responses)

    def reset(self) -> None:
        """Forget requests, scripts, counters and added symbols (IBM stays)."""
        with self._lock:
            self._reset_state()

    def _reset_state(self) -> None:
        self.requests.clear()
        self.request_headers.clear()
        self._script: deque[FakeResponse] = deque()
        self._calls_by_key: dict[str, int] = {}
        self._last_call_by_key: dict[str, float] = {}
        ibm = json.loads(load_body("time_series_daily_IBM_compact.json"))
        self._series: dict[str, Rows] = {"IBM": ibm["Time Series (Daily)"]}
        self._actions: dict[str, SymbolActions] = {
            "IBM": alphavantage_actions.ibm_actions()
        }

    # --- answering ------------------------------------------------------------------

    def _answer(self, params: dict[str, str], headers: dict[str, str]) -> FakeResponse:
        with self._lock:
            self.requests.append(params)
            self.request_headers.append(headers)
            if self._script:
                return self._script.popleft()
            return self._default(params)

    def _default(self, params: dict[str, str]) -> FakeResponse:
        key = params.get("apikey", "")
        if not key or key in self.invalid_keys:
            return FakeResponse.sample("error_invalid_apikey.json")
        if key == "demo":
            return FakeResponse.sample("information_demo_key.json")
        now = time.monotonic()
        last = self._last_call_by_key.get(key)
        self._last_call_by_key[key] = now
        burst = self.burst_interval
        if burst is not None and last is not None and now - last < burst:
            return FakeResponse.sample("information_burst_limit.json")
        if self.daily_limit is not None:
            used = self._calls_by_key.get(key, 0)
            if used >= self.daily_limit:
                return FakeResponse.sample(
                    "information_rate_limit_daily_key_echo.json", **{SAMPLE_KEY: key}
                )
            self._calls_by_key[key] = used + 1
        if params.get("function", "") in alphavantage_actions.ACTION_FUNCTIONS:
            return alphavantage_actions.answer(params, self._series, self._actions)
        return alphavantage_endpoints.answer(
            params, self._series, premium=key.startswith("PREMIUM")
        )


def main(argv: list[str] | None = None) -> int:
    """Run the fake until Ctrl-C: python -m tests.fakes.alphavantage --port 8765."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--daily-limit", type=int, default=None)
    parser.add_argument("--burst-interval", type=float, default=None)
    parser.add_argument(
        "--generate",
        action="append",
        default=[],
        metavar="SYMBOL",
        help="add a generated series for SYMBOL (repeatable)",
    )
    parser.add_argument(
        "--days", type=int, default=520, help="bars per generated series"
    )
    parser.add_argument(
        "--split",
        action="append",
        default=[],
        metavar="SYMBOL:YYYY-MM-DD:FACTOR",
        help="generate SYMBOL with a split of FACTOR effective that day (repeatable)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not print each request"
    )
    args = parser.parse_args(argv)
    splits = {}
    for spec in args.split:
        try:
            ticker, day, factor = spec.split(":")
            splits[ticker.upper()] = (date.fromisoformat(day), Decimal(factor))
        except ValueError:
            parser.error(f"--split {spec!r}: expected SYMBOL:YYYY-MM-DD:FACTOR")

    fake = FakeAlphaVantage(
        args.host,
        args.port,
        daily_limit=args.daily_limit,
        burst_interval=args.burst_interval,
    )
    fake.verbose = not args.quiet
    generated = list(dict.fromkeys([*args.generate, *splits]))
    for seed, symbol in enumerate(generated):
        fake.generate_series(
            symbol,
            days=args.days,
            end=date.today(),  # noqa: DTZ011
            seed=seed,
            split=splits.get(symbol.upper()),
        )
    fake.start()
    symbols = ", ".join(sorted(fake._series))
    print(f"Fake Alpha Vantage on {fake.base_url}")
    print(f"  ALPHA_VANTAGE_BASE_URL={fake.base_url}")
    print(f"  symbols: {symbols}")
    for ticker, (day, factor) in splits.items():
        print(f"  {ticker}: split of factor {factor} effective {day} (SPLITS lists it)")
    print("  SPLITS and DIVIDENDS: IBM as documented; others as set (or none)")
    print("  keys: PREMIUM... = premium (outputsize=full works); demo = demo-key body;")
    print(f"        {', '.join(sorted(fake.invalid_keys))} or none = invalid-key body;")
    print("        any other key = free (compact only, latest 100 bars)")
    if args.daily_limit is not None:
        print(f"  daily limit: {args.daily_limit} calls per key")
    if args.burst_interval is not None:
        print(f"  burst limit: one call per {args.burst_interval}s per key")
    print("Ctrl-C stops.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
