"""Alpha Vantage's TIME_SERIES_DAILY answer read into strict, validated bars."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from core.market import (
    BAR_COLUMNS,
    PRICE_DECIMALS,
    PRICE_LIMIT,
    PRICE_ROUNDING,
    PRICE_STEP,
)
from core.redaction import redacted_excerpt
from ingestion.providers.errors import MalformedResponse, NoData

FUNCTION = "TIME_SERIES_DAILY"
SERIES_KEY = "Time Series (Daily)"

# ASCII only: \d also matches other scripts' digits, which Decimal() and int() accept.
_DATE_KEY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
_INTEGER = re.compile(r"[+-]?\d+", re.ASCII)
_FIELD_PREFIX = re.compile(r"^\s*\d+\.\s*", re.ASCII)
_PRICE_FIELDS = ("open", "high", "low", "close")
_INT64_MAX = 2**63 - 1

Row = tuple[date, Decimal, Decimal, Decimal, Decimal, int]


def parse_series(
    payload: Mapping[str, Any], symbol: str, requested_size: str, secrets: list[str]
) -> tuple[pd.DataFrame, str, list[str]]:
    """(bars ascending by date, the outputsize served, notes for the caller)."""
    if not payload:
        raise NoData(
            f"Alpha Vantage has no daily prices for '{symbol}'.",
            details={"symbol": symbol},
        )
    series = payload.get(SERIES_KEY)
    if series is None:
        raise MalformedResponse(
            f"Alpha Vantage's answer for '{symbol}' has no '{SERIES_KEY}' section.",
            details={
                "symbol": symbol,
                "keys": [
                    redacted_excerpt(str(key), 80, secrets)
                    for key in list(payload)[:10]
                ],
            },
        )
    if not isinstance(series, dict):
        raise MalformedResponse(
            f"Alpha Vantage's '{SERIES_KEY}' for '{symbol}' is not an object.",
            details={"symbol": symbol},
        )
    if not series:
        raise NoData(
            f"Alpha Vantage returned an empty daily series for '{symbol}'.",
            details={"symbol": symbol},
        )
    rows = sorted(
        _parse_row(symbol, key, values, secrets) for key, values in series.items()
    )
    bars = pd.DataFrame(
        {
            "date": pd.Series([row[0] for row in rows], dtype=object),
            "open": pd.Series([row[1] for row in rows], dtype=object),
            "high": pd.Series([row[2] for row in rows], dtype=object),
            "low": pd.Series([row[3] for row in rows], dtype=object),
            "close": pd.Series([row[4] for row in rows], dtype=object),
            "volume": pd.Series([row[5] for row in rows], dtype="int64"),
        },
        columns=list(BAR_COLUMNS),
    )
    raw_meta = payload.get("Meta Data")
    meta: Mapping[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    notes: list[str] = []
    refreshed = str(_meta_value(meta, "last refreshed") or "")
    if len(refreshed) > 10 and refreshed[:10] == rows[-1][0].isoformat():
        # A time in "Last Refreshed" means the series was cut during trading hours.
        notes.append(
            "Alpha Vantage refreshed this series at "
            f"{redacted_excerpt(refreshed, 40, secrets)} "
            "(US/Eastern), so the newest bar may still change."
        )
    return bars, _served_size(meta, requested_size), notes


def _meta_value(meta: Mapping[str, Any], name: str) -> Any:
    # Meta keys are numbered differently per function ("4. Output Size" here,
    # "5. Output Size" for intraday), so they are matched by name.
    for key, value in meta.items():
        if _FIELD_PREFIX.sub("", str(key)).strip().lower() == name:
            return value
    return None


def _served_size(meta: Mapping[str, Any], requested_size: str) -> str:
    label = str(_meta_value(meta, "output size") or "").lower()
    if "full" in label:
        return "full"
    if "compact" in label:
        return "compact"
    return requested_size


def _parse_row(symbol: str, date_key: Any, values: Any, secrets: list[str]) -> Row:
    shown_key = redacted_excerpt(str(date_key), 40, secrets)

    def bad(field: str, problem: str, value: Any = None) -> MalformedResponse:
        details: dict[str, Any] = {"symbol": symbol, "date": shown_key, "field": field}
        if value is not None:
            details["value"] = redacted_excerpt(str(value), 40, secrets)
        return MalformedResponse(
            f"Alpha Vantage sent a bad bar for '{symbol}' on {shown_key}: {problem}.",
            details=details,
        )

    try:
        if not _DATE_KEY.fullmatch(str(date_key)):
            raise ValueError
        day = date.fromisoformat(str(date_key))
    except ValueError:
        raise bad("date", "the date is not a valid YYYY-MM-DD date") from None
    if not isinstance(values, dict):
        raise bad("bar", "the bar is not an object")
    fields = {
        _FIELD_PREFIX.sub("", str(k)).strip().lower(): v for k, v in values.items()
    }
    prices: dict[str, Decimal] = {}
    for name in _PRICE_FIELDS:
        if name not in fields:
            raise bad(name, f"{name} is missing")
        raw = fields[name]
        text = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(text, str) or not _NUMBER.fullmatch(text):
            raise bad(name, f"{name} is {_shown(raw, secrets)}, not a number", raw)
        try:
            price = Decimal(text)
        except InvalidOperation:
            raise bad(
                name, f"{name} is {_shown(raw, secrets)}, not a number", raw
            ) from None
        if price <= 0:
            raise bad(
                name, f"{name} is {_shown(raw, secrets)}, not a positive price", raw
            )
        if price >= PRICE_LIMIT:
            raise bad(name, _too_large(name, raw, secrets), raw)
        # Compared as stored (4 decimals), so rounding cannot push it out of range.
        stored = price.quantize(PRICE_STEP, rounding=PRICE_ROUNDING)
        if stored >= PRICE_LIMIT:
            raise bad(name, _too_large(name, raw, secrets), raw)
        if stored == 0:
            raise bad(
                name,
                f"{name} is {_shown(raw, secrets)}, which is 0 at the "
                f"{PRICE_DECIMALS} decimals stored",
                raw,
            )
        prices[name] = price
    if "volume" not in fields:
        raise bad("volume", "volume is missing")
    raw_volume = fields["volume"]
    volume_text = raw_volume.strip() if isinstance(raw_volume, str) else raw_volume
    if not isinstance(volume_text, str) or not _INTEGER.fullmatch(volume_text):
        raise bad(
            "volume",
            f"volume is {_shown(raw_volume, secrets)}, not a whole number",
            raw_volume,
        )
    volume = int(volume_text)
    if volume < 0 or volume > _INT64_MAX:
        raise bad("volume", f"volume {volume_text} is out of range", raw_volume)

    open_, high, low, close = (prices[name] for name in _PRICE_FIELDS)
    if high < low:
        raise bad("high", f"high {high} is below low {low}", high)
    for name, price in (("open", open_), ("close", close)):
        if low > price:
            raise bad("low", f"low {low} is above {name} {price}", low)
        if high < price:
            raise bad("high", f"high {high} is below {name} {price}", high)
    return day, open_, high, low, close, volume


def _too_large(name: str, raw: Any, secrets: list[str]) -> str:
    return (
        f"{name} is {_shown(raw, secrets)}, too large to store "
        f"(prices must be below {PRICE_LIMIT:,.0f})"
    )


def _shown(value: Any, secrets: list[str]) -> str:
    if isinstance(value, str):
        return repr(redacted_excerpt(value, 40, secrets))
    return "null" if value is None else type(value).__name__
