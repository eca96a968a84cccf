"""What the fake Alpha Vantage sends: sample bodies, scripted answers, generated rows."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tests.factories import price_bars, price_closes

BODIES_DIR = Path(__file__).with_name("alphavantage_bodies")
# The key the key-echo sample body was written with; the fake swaps in the caller's.
SAMPLE_KEY = "TESTKEY0123456789"

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
        return cls.json_body(daily_payload(symbol, rows, output_size))

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


def daily_payload(symbol: str, rows: Rows, output_size: str) -> dict[str, Any]:
    """A TIME_SERIES_DAILY answer: the meta data block and the rows as given."""
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


def generate_rows(
    *, days: int, end: date, start_price: float = 100.0, seed: int = 0
) -> Rows:
    """`days` weekday bars up to the last weekday <= end, as the service prints them.

    The suite's seeded random walk (tests/factories.py), 4-decimal strings; the same
    arguments give the same rows.
    """
    closes = price_closes(
        days, start_price=start_price, volatility=0.012, seed=seed, decimals=4
    )
    return {
        bar.date.isoformat(): {
            "1. open": str(bar.open),
            "2. high": str(bar.high),
            "3. low": str(bar.low),
            "4. close": str(bar.close),
            "5. volume": str(bar.volume),
        }
        for bar in price_bars(closes, end=end)
    }
