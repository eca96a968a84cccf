"""What each Alpha Vantage function answers, from the series the fake holds.

The caller (tests/fakes/alphavantage.py) has already checked the key and the limits.
"""

from __future__ import annotations

import json

from tests.fakes.alphavantage_responses import (
    FakeResponse,
    Rows,
    daily_payload,
    load_body,
)

COMPACT_ROWS = 100


def answer(
    params: dict[str, str], series: dict[str, Rows], *, premium: bool
) -> FakeResponse:
    """The service's answer to one call with an accepted key."""
    function = params.get("function", "")
    if function == "TIME_SERIES_DAILY":
        return daily(params, series, premium=premium)
    if function == "TIME_SERIES_DAILY_ADJUSTED":
        if not premium:
            return FakeResponse.sample("information_premium_endpoint.json")
        return daily_adjusted(params, series)
    if function == "GLOBAL_QUOTE":
        return global_quote(params, series)
    if function == "SYMBOL_SEARCH":
        return symbol_search(params)
    if function == "OVERVIEW":
        if params.get("symbol", "").upper() == "IBM":
            return FakeResponse.sample("overview_IBM.json")
        return FakeResponse.sample("empty_object.json")
    if function == "LISTING_STATUS":
        return FakeResponse.sample("listing_status_active.csv")
    return FakeResponse.sample(
        "error_unknown_function.json", TIME_SERIES_DAYLY=function.replace('"', "")
    )


def newest_first(rows: Rows) -> list[tuple[str, dict[str, str]]]:
    return sorted(rows.items(), reverse=True)


def invalid_call(function: str) -> FakeResponse:
    return FakeResponse.sample(
        "error_invalid_symbol.json",
        **{"for TIME_SERIES_DAILY.": f"for {function}."},
    )


def daily(
    params: dict[str, str], series: dict[str, Rows], *, premium: bool
) -> FakeResponse:
    symbol = params.get("symbol", "")
    rows = series.get(symbol.upper())
    if not symbol or rows is None:
        return invalid_call("TIME_SERIES_DAILY")
    if params.get("outputsize", "compact").lower() == "full":
        if not premium:
            return FakeResponse.sample("information_premium_outputsize_full.json")
        served, label = newest_first(rows), "Full size"
    else:
        served, label = newest_first(rows)[:COMPACT_ROWS], "Compact"
    if params.get("datatype", "json").lower() == "csv":
        lines = ["timestamp,open,high,low,close,volume"]
        for day, bar in served:
            values = [
                bar.get(k, "") for k in ("1. open", "2. high", "3. low", "4. close")
            ]
            lines.append(",".join([day, *values, bar.get("5. volume", "")]))
        return FakeResponse(body="\r\n".join(lines) + "\r\n", content_type="text/csv")
    payload = daily_payload(symbol, dict(served), label)
    # The "Last Refreshed" date is the newest bar the service has, served or not.
    payload["Meta Data"]["3. Last Refreshed"] = max(rows) if rows else ""
    return FakeResponse.json_body(payload)


def daily_adjusted(params: dict[str, str], series: dict[str, Rows]) -> FakeResponse:
    symbol = params.get("symbol", "")
    rows = series.get(symbol.upper())
    if not symbol or rows is None:
        return invalid_call("TIME_SERIES_DAILY_ADJUSTED")
    full = params.get("outputsize", "compact").lower() == "full"
    served = newest_first(rows) if full else newest_first(rows)[:COMPACT_ROWS]
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
                "1. Information": "Daily Time Series with Splits and Dividend Events",
                "2. Symbol": symbol,
                "3. Last Refreshed": max(rows) if rows else "",
                "4. Output Size": "Full size" if full else "Compact",
                "5. Time Zone": "US/Eastern",
            },
            "Time Series (Daily)": adjusted,
        }
    )


def global_quote(params: dict[str, str], series: dict[str, Rows]) -> FakeResponse:
    symbol = params.get("symbol", "")
    rows = newest_first(series.get(symbol.upper(), {}))
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


def symbol_search(params: dict[str, str]) -> FakeResponse:
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
