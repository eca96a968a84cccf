"""A local Alpha Vantage stand-in on loopback, answering with the real bodies."""

from __future__ import annotations

import argparse
import json
import random
import re
import socketserver
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BODIES_DIR = Path(__file__).with_name("alphavantage_bodies")
# The key the key-echo sample body was written with; the fake swaps in the caller's.
SAMPLE_KEY = "TESTKEY0123456789"
COMPACT_ROWS = 100
DEFAULT_INVALID_KEYS = frozenset({"BADKEY"})

Rows = dict[str, dict[str, str]]


def load_body(name: str) -> str:
    """A sample body exactly as stored (CSV keeps its CRLF line endings)."""
    return (BODIES_DIR / name).read_bytes().decode("utf-8")


def _content_type_for(name: str) -> str:
    return "text/csv" if name.endswith(".csv") else "application/json"


def _pretty(payload: Any) -> str:
    # The real service pretty-prints with 4 spaces and keeps key order.
    return json.dumps(payload, indent=4)


@dataclass
class FakeResponse:
    """One scripted answer; served once, in order, before the default behaviour."""

    status: int = 200
    body: str | bytes = ""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def sample(
        cls, name: str, *, status: int = 200, delay: float = 0.0, **replacements: str
    ) -> FakeResponse:
        """A stored sample body; keyword arguments replace text (old=new)."""
        body = load_body(name)
        for old, new in replacements.items():
            body = body.replace(old, new)
        return cls(
            status=status, body=body, content_type=_content_type_for(name), delay=delay
        )

    @classmethod
    def json_body(
        cls, payload: Any, *, status: int = 200, delay: float = 0.0
    ) -> FakeResponse:
        return cls(status=status, body=_pretty(payload), delay=delay)

    @classmethod
    def html(
        cls, status: int = 503, title: str = "Service Unavailable"
    ) -> FakeResponse:
        body = (
            f"<html><head><title>{status} {title}</title></head>"
            f"<body><h1>{title}</h1></body></html>"
        )
        return cls(status=status, body=body, content_type="text/html; charset=utf-8")

    @classmethod
    def series(
        cls, rows: Rows, *, symbol: str = "IBM", output_size: str = "Compact"
    ) -> FakeResponse:
        """A TIME_SERIES_DAILY body with exactly these rows, in the order given."""
        return cls.json_body(_daily_payload(symbol, rows, output_size))

    @classmethod
    def malformed_json(cls) -> FakeResponse:
        return cls(
            body='{\n    "Meta Data": {\n        "1. Information": "Daily Prices'
        )

    @classmethod
    def slow(cls, delay: float, response: FakeResponse | None = None) -> FakeResponse:
        """Another response (default: IBM compact) served after delay seconds."""
        base = response or cls.sample("time_series_daily_IBM_compact.json")
        return cls(base.status, base.body, base.content_type, delay, dict(base.headers))


def _daily_payload(symbol: str, rows: Rows, output_size: str) -> dict[str, Any]:
    return {
        "Meta Data": {
            "1. Information": "Daily Prices (open, high, low, close) and Volumes",
            "2. Symbol": symbol,
            "3. Last Refreshed": max(rows) if rows else "",
            "4. Output Size": output_size,
            "5. Time Zone": "US/Eastern",
        },
        "Time Series (Daily)": rows,
    }


def _newest_first(rows: Rows) -> list[tuple[str, dict[str, str]]]:
    return sorted(rows.items(), reverse=True)


def generate_rows(
    *, days: int, end: date, start_price: float = 100.0, seed: int = 0
) -> Rows:
    """`days` weekday bars ending on the last weekday <= end; a seeded random walk."""
    rng = random.Random(seed)
    dates: list[date] = []
    day = end
    while len(dates) < days:
        if day.weekday() < 5:
            dates.append(day)
        day -= timedelta(days=1)
    rows: Rows = {}
    previous_close = start_price
    for day in reversed(dates):
        open_ = max(0.01, previous_close * (1 + rng.gauss(0, 0.005)))
        close = max(0.01, open_ * (1 + rng.gauss(0, 0.012)))
        # Rounding is monotonic, so high >= max(open, close) and low <= min(...)
        # still hold once all four are printed with 4 decimals.
        high = max(open_, close) * (1 + abs(rng.gauss(0, 0.006)))
        low = max(0.01, min(open_, close) * (1 - abs(rng.gauss(0, 0.006))))
        rows[day.isoformat()] = {
            "1. open": f"{open_:.4f}",
            "2. high": f"{high:.4f}",
            "3. low": f"{low:.4f}",
            "4. close": f"{close:.4f}",
            "5. volume": str(rng.randint(1_000_000, 9_000_000)),
        }
        previous_close = close
    return rows


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
    ) -> None:
        """`days` deterministic, valid weekday bars (4-decimal strings) up to end."""
        self.set_series(
            symbol,
            generate_rows(days=days, end=end, start_price=start_price, seed=seed),
        )

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
        premium = key.startswith("PREMIUM")
        function = params.get("function", "")
        if function == "TIME_SERIES_DAILY":
            return self._daily(params, premium=premium)
        if function == "TIME_SERIES_DAILY_ADJUSTED":
            if not premium:
                return FakeResponse.sample("information_premium_endpoint.json")
            return self._daily_adjusted(params)
        if function == "GLOBAL_QUOTE":
            return self._global_quote(params)
        if function == "SYMBOL_SEARCH":
            return self._symbol_search(params)
        if function == "OVERVIEW":
            if params.get("symbol", "").upper() == "IBM":
                return FakeResponse.sample("overview_IBM.json")
            return FakeResponse.sample("empty_object.json")
        if function == "LISTING_STATUS":
            return FakeResponse.sample("listing_status_active.csv")
        return FakeResponse.sample(
            "error_unknown_function.json", TIME_SERIES_DAYLY=function.replace('"', "")
        )

    def _invalid_call(self, function: str) -> FakeResponse:
        return FakeResponse.sample(
            "error_invalid_symbol.json",
            **{"for TIME_SERIES_DAILY.": f"for {function}."},
        )

    def _daily(self, params: dict[str, str], *, premium: bool) -> FakeResponse:
        symbol = params.get("symbol", "")
        rows = self._series.get(symbol.upper())
        if not symbol or rows is None:
            return self._invalid_call("TIME_SERIES_DAILY")
        if params.get("outputsize", "compact").lower() == "full":
            if not premium:
                return FakeResponse.sample("information_premium_outputsize_full.json")
            served, label = _newest_first(rows), "Full size"
        else:
            served, label = _newest_first(rows)[:COMPACT_ROWS], "Compact"
        if params.get("datatype", "json").lower() == "csv":
            lines = ["timestamp,open,high,low,close,volume"]
            for day, bar in served:
                values = [
                    bar.get(k, "") for k in ("1. open", "2. high", "3. low", "4. close")
                ]
                lines.append(",".join([day, *values, bar.get("5. volume", "")]))
            return FakeResponse(
                body="\r\n".join(lines) + "\r\n", content_type="text/csv"
            )
        payload = _daily_payload(symbol, dict(served), label)
        # The "Last Refreshed" date is the newest bar the service has, served or not.
        payload["Meta Data"]["3. Last Refreshed"] = max(rows) if rows else ""
        return FakeResponse.json_body(payload)

    def _daily_adjusted(self, params: dict[str, str]) -> FakeResponse:
        symbol = params.get("symbol", "")
        rows = self._series.get(symbol.upper())
        if not symbol or rows is None:
            return self._invalid_call("TIME_SERIES_DAILY_ADJUSTED")
        full = params.get("outputsize", "compact").lower() == "full"
        served = _newest_first(rows) if full else _newest_first(rows)[:COMPACT_ROWS]
        adjusted = {
            day: {
                "1. open": bar["1. open"],
                "2. high": bar["2. high"],
                "3. low": bar["3. low"],
                "4. close": bar["4. close"],
                "5. adjusted close": bar["4. close"],
                "6. volume": bar["5. volume"],
                "7. dividend amount": "0.0000",
                "8. split coefficient": "1.0",
            }
            for day, bar in served
        }
        return FakeResponse.json_body(
            {
                "Meta Data": {
                    "1. Information": (
                        "Daily Time Series with Splits and Dividend Events"
                    ),
                    "2. Symbol": symbol,
                    "3. Last Refreshed": max(rows) if rows else "",
                    "4. Output Size": "Full size" if full else "Compact",
                    "5. Time Zone": "US/Eastern",
                },
                "Time Series (Daily)": adjusted,
            }
        )

    def _global_quote(self, params: dict[str, str]) -> FakeResponse:
        symbol = params.get("symbol", "")
        rows = _newest_first(self._series.get(symbol.upper(), {}))
        if not symbol or not rows:
            return FakeResponse.sample("global_quote_unknown_symbol.json")
        day, bar = rows[0]
        previous = rows[1][1]["4. close"] if len(rows) > 1 else bar["1. open"]
        change = float(bar["4. close"]) - float(previous)
        return FakeResponse.json_body(
            {
                "Global Quote": {
                    "01. symbol": symbol,
                    "02. open": bar["1. open"],
                    "03. high": bar["2. high"],
                    "04. low": bar["3. low"],
                    "05. price": bar["4. close"],
                    "06. volume": bar["5. volume"],
                    "07. latest trading day": day,
                    "08. previous close": previous,
                    "09. change": f"{change:.4f}",
                    "10. change percent": f"{change / float(previous) * 100:.4f}%",
                }
            }
        )

    def _symbol_search(self, params: dict[str, str]) -> FakeResponse:
        keywords = params.get("keywords", "").strip().lower()
        sample = json.loads(load_body("symbol_search_IBM.json"))
        matches = [
            match
            for match in sample["bestMatches"]
            if keywords
            and (
                keywords in match["1. symbol"].lower()
                or keywords in match["2. name"].lower()
            )
        ]
        return FakeResponse.json_body({"bestMatches": matches})


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
        "--quiet", action="store_true", help="do not print each request"
    )
    args = parser.parse_args(argv)

    fake = FakeAlphaVantage(
        args.host,
        args.port,
        daily_limit=args.daily_limit,
        burst_interval=args.burst_interval,
    )
    fake.verbose = not args.quiet
    for seed, symbol in enumerate(args.generate):
        fake.generate_series(symbol, days=args.days, end=date.today(), seed=seed)  # noqa: DTZ011
    fake.start()
    symbols = ", ".join(sorted(fake._series))
    print(f"Fake Alpha Vantage on {fake.base_url}")
    print(f"  ALPHA_VANTAGE_BASE_URL={fake.base_url}")
    print(f"  symbols: {symbols}")
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
