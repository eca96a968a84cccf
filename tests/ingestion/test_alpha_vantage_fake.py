"""The fake Alpha Vantage server answers like the real service does."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
import requests

from ingestion.providers.alpha_vantage import AlphaVantageProvider
from tests.fakes.alphavantage import (
    SAMPLE_KEY,
    FakeAlphaVantage,
    FakeResponse,
    load_body,
)

FREE = SAMPLE_KEY
PREMIUM = "PREMIUM0123456789"


def get(fake: FakeAlphaVantage, **params: str) -> requests.Response:
    return requests.get(fake.base_url, params=params, timeout=5)


def daily(fake: FakeAlphaVantage, key: str, **params: str) -> dict[str, Any]:
    response = get(fake, function="TIME_SERIES_DAILY", apikey=key, **params)
    assert response.status_code == 200
    return response.json()


def test_ibm_compact_is_the_sample_body_byte_for_byte(
    fake_av: FakeAlphaVantage,
) -> None:
    response = get(fake_av, function="TIME_SERIES_DAILY", symbol="IBM", apikey=FREE)

    assert response.headers["Content-Type"] == "application/json"
    assert response.text == load_body("time_series_daily_IBM_compact.json").rstrip("\n")


@pytest.mark.parametrize(
    ("key", "sample"),
    [
        (None, "error_invalid_apikey.json"),
        ("", "error_invalid_apikey.json"),
        ("BADKEY", "error_invalid_apikey.json"),
        ("demo", "information_demo_key.json"),
    ],
)
def test_keys_that_get_no_data(
    fake_av: FakeAlphaVantage, key: str | None, sample: str
) -> None:
    params = {"function": "TIME_SERIES_DAILY", "symbol": "IBM"}
    if key is not None:
        params["apikey"] = key

    response = get(fake_av, **params)

    assert response.status_code == 200
    assert response.text == load_body(sample)


def test_free_key_full_is_refused_and_compact_is_the_latest_100(
    fake_av: FakeAlphaVantage,
) -> None:
    fake_av.generate_series("MSFT", days=150, end=date(2024, 6, 7))

    refused = daily(fake_av, FREE, symbol="MSFT", outputsize="full")
    compact = daily(fake_av, FREE, symbol="msft")

    assert refused == {
        "Information": load_body("information_premium_outputsize_full.json").split('"')[
            3
        ]
    }
    series = compact["Time Series (Daily)"]
    assert len(series) == 100
    assert list(series) == sorted(series, reverse=True)
    assert compact["Meta Data"]["2. Symbol"] == "msft"
    assert compact["Meta Data"]["3. Last Refreshed"] == "2024-06-07"
    assert compact["Meta Data"]["4. Output Size"] == "Compact"


def test_premium_key_full_gets_the_whole_series(fake_av: FakeAlphaVantage) -> None:
    fake_av.generate_series("MSFT", days=150, end=date(2024, 6, 7))

    body = daily(fake_av, PREMIUM, symbol="MSFT", outputsize="full")

    assert len(body["Time Series (Daily)"]) == 150
    assert body["Meta Data"]["4. Output Size"] == "Full size"


def test_unknown_symbol_and_function(fake_av: FakeAlphaVantage) -> None:
    assert daily(fake_av, FREE, symbol="ZZZZ") == {
        "Error Message": "Invalid API call. Please retry or visit the documentation "
        "(https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."
    }
    assert get(fake_av, function="TIME_SERIES_DAYLI", apikey=FREE).json() == {
        "Error Message": "This API function (TIME_SERIES_DAYLI) does not exist."
    }
    assert get(fake_av, apikey=FREE).json() == {
        "Error Message": "This API function () does not exist."
    }


def test_daily_adjusted_is_premium_only(fake_av: FakeAlphaVantage) -> None:
    free = get(
        fake_av, function="TIME_SERIES_DAILY_ADJUSTED", symbol="IBM", apikey=FREE
    )
    premium = get(
        fake_av, function="TIME_SERIES_DAILY_ADJUSTED", symbol="IBM", apikey=PREMIUM
    )

    assert free.text == load_body("information_premium_endpoint.json")
    bar = premium.json()["Time Series (Daily)"]["2024-06-07"]
    assert bar["5. adjusted close"] == "170.0100"
    assert bar["6. volume"] == "3421987"


def test_csv_datatype_uses_crlf(fake_av: FakeAlphaVantage) -> None:
    response = get(
        fake_av, function="TIME_SERIES_DAILY", symbol="IBM", apikey=FREE, datatype="csv"
    )

    assert response.headers["Content-Type"] == "text/csv"
    assert response.content == load_body("time_series_daily_IBM_compact.csv").encode()


def test_other_sample_functions(fake_av: FakeAlphaVantage) -> None:
    quote = get(fake_av, function="GLOBAL_QUOTE", symbol="IBM", apikey=FREE).json()
    search = get(fake_av, function="SYMBOL_SEARCH", keywords="ibm", apikey=FREE).json()
    nothing = get(
        fake_av, function="SYMBOL_SEARCH", keywords="qqqq", apikey=FREE
    ).json()

    assert quote["Global Quote"]["05. price"] == "170.0100"
    assert quote["Global Quote"]["08. previous close"] == "170.7600"
    assert [m["1. symbol"] for m in search["bestMatches"]] == ["IBM", "IBM.DEX", "IBML"]
    assert nothing == {"bestMatches": []}
    assert get(fake_av, function="OVERVIEW", symbol="ZZZZ", apikey=FREE).json() == {}


def test_daily_limit_echoes_the_callers_key(fake_av: FakeAlphaVantage) -> None:
    fake_av.daily_limit = 2
    key = "OTHERKEY42"

    answers = [daily(fake_av, key, symbol="IBM") for _ in range(3)]

    assert "Time Series (Daily)" in answers[1]
    assert answers[2]["Information"].startswith(
        "We have detected your API key as OTHERKEY42 and"
    )
    assert "Time Series (Daily)" in daily(fake_av, FREE, symbol="IBM")


def test_burst_interval_refuses_a_second_quick_call(fake_av: FakeAlphaVantage) -> None:
    fake_av.burst_interval = 5.0

    first = daily(fake_av, FREE, symbol="IBM")
    second = daily(fake_av, FREE, symbol="IBM")

    assert "Time Series (Daily)" in first
    assert second == {
        "Information": load_body("information_burst_limit.json").split('"')[3]
    }


def test_scripted_responses_come_first_then_defaults(fake_av: FakeAlphaVantage) -> None:
    fake_av.script(FakeResponse.html(503), FakeResponse.sample("empty_object.json"))

    statuses = [
        get(fake_av, function="TIME_SERIES_DAILY", symbol="IBM", apikey=FREE)
        for _ in range(3)
    ]

    assert [r.status_code for r in statuses] == [503, 200, 200]
    assert statuses[0].headers["Content-Type"].startswith("text/html")
    assert statuses[1].json() == {}
    assert "Time Series (Daily)" in statuses[2].json()
    assert [r["symbol"] for r in fake_av.requests] == ["IBM"] * 3


def test_reset_forgets_requests_scripts_and_symbols(fake_av: FakeAlphaVantage) -> None:
    fake_av.generate_series("MSFT", days=5, end=date(2024, 6, 7))
    fake_av.script(FakeResponse.html(500))
    get(fake_av, function="TIME_SERIES_DAILY", symbol="IBM", apikey=FREE)
    fake_av.script(FakeResponse.html(500))

    fake_av.reset()

    assert fake_av.requests == []
    assert "Error Message" in daily(fake_av, FREE, symbol="MSFT")
    assert "Time Series (Daily)" in daily(fake_av, FREE, symbol="IBM")


def test_generated_series_is_deterministic_and_valid(fake_av: FakeAlphaVantage) -> None:
    fake_av.generate_series(
        "AAA", days=260, end=date(2024, 6, 9), start_price=50, seed=7
    )
    first = fake_av.series_rows("AAA")
    fake_av.generate_series(
        "AAA", days=260, end=date(2024, 6, 9), start_price=50, seed=7
    )
    provider = AlphaVantageProvider(
        api_key=PREMIUM, base_url=fake_av.base_url, plan="premium", backoff_factor=0
    )

    bars = provider.fetch_daily("AAA").bars

    assert fake_av.series_rows("AAA") == first
    assert len(bars) == 260
    assert bars["date"].iloc[-1] == date(2024, 6, 7)
    assert all(day.weekday() < 5 for day in bars["date"])
    assert all(len(bar["1. open"].split(".")[1]) == 4 for bar in first.values())


def test_stop_does_not_wait_for_a_slow_response() -> None:
    fake = FakeAlphaVantage().start()
    fake.script(FakeResponse.slow(30.0))
    caller = threading.Thread(
        target=lambda: requests.get(fake.base_url, timeout=5), daemon=True
    )
    caller.start()
    while not fake.requests:
        time.sleep(0.01)

    started = time.monotonic()
    fake.stop()

    assert time.monotonic() - started < 2
    caller.join(timeout=5)
    with pytest.raises(RuntimeError):
        _ = fake.base_url
