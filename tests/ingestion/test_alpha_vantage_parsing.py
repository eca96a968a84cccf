"""AlphaVantageProvider reads the daily series exactly; bad rows or bodies fail."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pytest

from core.market import BAR_COLUMNS
from ingestion.providers.errors import MalformedResponse, NoData, ProviderError
from tests.fakes.alphavantage import (
    SAMPLE_KEY,
    FakeAlphaVantage,
    FakeResponse,
    load_body,
)
from tests.ingestion.provider_helpers import IBM_ROWS, Build, ibm_rows_with

# --- good answers ---------------------------------------------------------------------


def test_compact_success_parses_every_value_exactly(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    result = build(plan="free").fetch_daily("IBM")

    assert result.source == "alpha_vantage"
    assert result.output_size == "compact"
    bars = result.bars
    assert list(bars.columns) == list(BAR_COLUMNS)
    assert bars["date"].tolist() == [date(2024, 6, d) for d in (3, 4, 5, 6, 7)]
    first = bars.iloc[0]
    assert isinstance(first["open"], Decimal)
    assert [str(first[c]) for c in ("open", "high", "low", "close")] == [
        "166.5400",
        "166.7800",
        "163.5300",
        "165.2800",
    ]
    assert str(bars.iloc[-1]["close"]) == "170.0100"
    assert bars["volume"].dtype == "int64"
    assert bars["volume"].tolist() == [2776405, 3540178, 3892012, 3051392, 3421987]
    assert fake_av.requests == [
        {
            "function": "TIME_SERIES_DAILY",
            "symbol": "IBM",
            "outputsize": "compact",
            "datatype": "json",
            "apikey": SAMPLE_KEY,
        }
    ]
    assert "text/csv" not in fake_av.request_headers[0].get("Accept", "")


def test_symbol_is_normalised_before_the_call(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    build(plan="free").fetch_daily("  ibm ")

    assert fake_av.requests[0]["symbol"] == "IBM"


def test_since_keeps_only_rows_from_that_date(build: Build) -> None:
    result = build(plan="free").fetch_daily("IBM", since=date(2024, 6, 5))

    assert result.bars["date"].tolist() == [date(2024, 6, d) for d in (5, 6, 7)]
    assert result.notes == ()


def test_since_after_the_newest_bar_gives_an_empty_frame(build: Build) -> None:
    result = build(plan="free").fetch_daily("IBM", since=date(2024, 6, 8))

    assert result.bars.empty
    assert list(result.bars.columns) == list(BAR_COLUMNS)


def test_rows_are_sorted_whatever_the_key_order(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    shuffled = {
        day: IBM_ROWS[day] for day in ("2024-06-05", "2024-06-07", "2024-06-03")
    }
    shuffled |= {day: IBM_ROWS[day] for day in ("2024-06-06", "2024-06-04")}
    fake_av.script(FakeResponse.series(shuffled))

    bars = build(plan="free").fetch_daily("IBM").bars

    assert bars["date"].tolist() == [date(2024, 6, d) for d in (3, 4, 5, 6, 7)]
    assert str(bars.iloc[2]["open"]) == "168.5000"


def test_any_decimal_precision_is_kept_exactly(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    rows = {
        "2019-08-26": {
            "1. open": "143.39",
            "2. high": "144.1",
            "3. low": "3.6",
            "4. close": "133.0",
            "5. volume": "0",
        }
    }
    fake_av.script(FakeResponse.series(rows))

    bar = build(plan="free").fetch_daily("IBM").bars.iloc[0]

    assert (str(bar["open"]), str(bar["high"]), str(bar["low"]), str(bar["close"])) == (
        "143.39",
        "144.1",
        "3.6",
        "133.0",
    )
    assert bar["volume"] == 0


def test_last_refreshed_with_a_time_adds_a_partial_bar_note(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    payload = json.loads(load_body("time_series_daily_IBM_compact.json"))
    payload["Meta Data"]["3. Last Refreshed"] = "2024-06-07 11:50:49"
    fake_av.script(FakeResponse.json_body(payload))

    result = build(plan="free").fetch_daily("IBM")

    assert any("2024-06-07 11:50:49" in note for note in result.notes)


# --- unusable bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "error_type"),
    [
        (FakeResponse.sample("empty_object.json"), NoData),
        (FakeResponse.series({}), NoData),
        (
            FakeResponse.json_body({"Meta Data": {"2. Symbol": "IBM"}}),
            MalformedResponse,
        ),
        (FakeResponse.json_body({"Time Series (Daily)": []}), MalformedResponse),
        (FakeResponse.json_body([1, 2]), MalformedResponse),
        (FakeResponse.malformed_json(), MalformedResponse),
        (
            FakeResponse(body="<html>oops</html>", content_type="text/html"),
            MalformedResponse,
        ),
    ],
    ids=[
        "empty-object",
        "empty-series",
        "no-series",
        "series-list",
        "json-list",
        "truncated-json",
        "html-200",
    ],
)
def test_unusable_bodies(
    fake_av: FakeAlphaVantage,
    build: Build,
    response: FakeResponse,
    error_type: type[ProviderError],
) -> None:
    fake_av.script(response)

    with pytest.raises(error_type) as info:
        build(plan="free").fetch_daily("IBM")

    assert info.value.status == (404 if error_type is NoData else 502)
    assert len(fake_av.requests) == 1


# --- bad rows -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"open": "abc"}, "open", "not a number"),
        ({"close": ""}, "close", "not a number"),
        ({"high": "NaN"}, "high", "not a number"),
        ({"low": "Infinity"}, "low", "not a number"),
        ({"open": "-1.0"}, "open", "not a positive price"),
        ({"close": "0"}, "close", "not a positive price"),
        ({"volume": "1.5"}, "volume", "not a whole number"),
        ({"volume": "-3"}, "volume", "out of range"),
        ({"high": "160.0000"}, "high", "high 160.0000 is below low 167.8800"),
        ({"low": "169.0000"}, "low", "low 169.0000 is above open 168.5000"),
        ({"high": "170.0000"}, "high", "high 170.0000 is below close 170.3800"),
    ],
)
def test_one_bad_row_fails_the_whole_fetch(
    fake_av: FakeAlphaVantage,
    build: Build,
    fields: dict[str, str],
    field: str,
    fragment: str,
) -> None:
    fake_av.script(FakeResponse.series(ibm_rows_with("2024-06-05", **fields)))

    with pytest.raises(MalformedResponse) as info:
        build(plan="free").fetch_daily("IBM")

    error = info.value
    assert "on 2024-06-05" in error.message
    assert fragment in error.message
    assert error.details["date"] == "2024-06-05"
    assert error.details["field"] == field


def test_a_missing_field_names_the_field(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    rows = copy.deepcopy(IBM_ROWS)
    del rows["2024-06-04"]["5. volume"]
    fake_av.script(FakeResponse.series(rows))

    with pytest.raises(MalformedResponse, match="2024-06-04: volume is missing"):
        build(plan="free").fetch_daily("IBM")


@pytest.mark.parametrize("bad_key", ["2024-13-01", "June 5", "2024-6-5"])
def test_a_bad_date_key_is_malformed(
    fake_av: FakeAlphaVantage, build: Build, bad_key: str
) -> None:
    rows = copy.deepcopy(IBM_ROWS)
    rows[bad_key] = rows.pop("2024-06-05")
    fake_av.script(FakeResponse.series(rows))

    with pytest.raises(MalformedResponse) as info:
        build(plan="free").fetch_daily("IBM")

    assert bad_key in info.value.message
    assert info.value.details["field"] == "date"
