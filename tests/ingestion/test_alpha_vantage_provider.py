"""AlphaVantageProvider over real HTTP against the fake Alpha Vantage server."""

from __future__ import annotations

import copy
import json
import logging
import socket
import traceback
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from core.redaction import REDACTED
from ingestion.providers import alpha_vantage
from ingestion.providers.alpha_vantage import FREE_KEY_NOTE, AlphaVantageProvider
from ingestion.providers.base import BAR_COLUMNS, NoHooks
from ingestion.providers.errors import (
    MalformedResponse,
    NoData,
    ProviderConfigurationError,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    SymbolNotFound,
)
from tests.fakes.alphavantage import (
    SAMPLE_KEY,
    FakeAlphaVantage,
    FakeResponse,
    load_body,
)

NOW = datetime(2024, 6, 10, 15, 30, tzinfo=UTC)
PREMIUM_KEY = "PREMIUM0123456789"
# Distinctive, so a leak cannot hide behind an accidental substring match.
SECRET_KEY = "SECRETq7Zx9Lw2Vb4Kp"
IBM_ROWS: dict[str, dict[str, str]] = json.loads(
    load_body("time_series_daily_IBM_compact.json")
)["Time Series (Daily)"]

Build = Callable[..., AlphaVantageProvider]


class RecordingHooks(NoHooks):
    def __init__(self, plan: str | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.calls = 0
        self.detected: list[str] = []

    def before_call(self) -> None:
        self.calls += 1

    def plan_detected(self, plan: str) -> None:
        super().plan_detected(plan)
        self.detected.append(plan)


@pytest.fixture
def build(fake_av: FakeAlphaVantage) -> Build:
    """A provider pointed at the fake, fast to fail, with a fixed clock."""

    def make(api_key: str = SAMPLE_KEY, **overrides: object) -> AlphaVantageProvider:
        options: dict[str, object] = {
            "base_url": fake_av.base_url,
            "backoff_factor": 0,
            "connect_timeout": 1.0,
            "read_timeout": 2.0,
            "clock": lambda: NOW,
        }
        options.update(overrides)
        return AlphaVantageProvider(api_key=api_key, **options)  # type: ignore[arg-type]

    return make


def ibm_rows_with(day: str, **fields: str) -> dict[str, dict[str, str]]:
    rows = copy.deepcopy(IBM_ROWS)
    for name, value in fields.items():
        key = next(k for k in rows[day] if k.endswith(name))
        rows[day][key] = value
    return rows


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/query"


# --- success and plans ----------------------------------------------------------------


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


def test_full_success_on_a_premium_key_records_the_plan(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.generate_series("MSFT", days=300, end=date(2024, 6, 7), seed=3)
    hooks = RecordingHooks()

    result = build(PREMIUM_KEY, hooks=hooks).fetch_daily("MSFT")

    assert result.output_size == "full"
    assert len(result.bars) == 300
    assert result.bars["date"].is_monotonic_increasing
    assert result.bars["date"].iloc[-1] == date(2024, 6, 7)
    assert result.notes == ()
    assert [r["outputsize"] for r in fake_av.requests] == ["full"]
    assert hooks.detected == ["premium"]
    assert hooks.calls == 1


def test_auto_on_a_free_key_falls_back_to_compact_once_and_remembers(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.generate_series("MSFT", days=150, end=date(2024, 6, 7))
    hooks = RecordingHooks()
    provider = build(hooks=hooks)

    first = provider.fetch_daily("MSFT")
    second = provider.fetch_daily("MSFT")

    assert [r["outputsize"] for r in fake_av.requests] == ["full", "compact", "compact"]
    assert hooks.detected == ["free"]
    assert hooks.calls == 3
    for result in (first, second):
        assert result.output_size == "compact"
        assert len(result.bars) == 100
        assert FREE_KEY_NOTE in result.notes
    assert "latest 100 trading days" in FREE_KEY_NOTE


def test_auto_with_a_known_premium_key_asks_for_full(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    build(PREMIUM_KEY, hooks=RecordingHooks(plan="premium")).fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["full"]


def test_plan_free_asks_only_for_compact(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    hooks = RecordingHooks()

    result = build(plan="free", hooks=hooks).fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["compact"]
    assert result.notes == (FREE_KEY_NOTE,)
    assert hooks.detected == []


def test_plan_premium_with_a_free_key_still_falls_back(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    hooks = RecordingHooks()

    result = build(plan="premium", hooks=hooks).fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["full", "compact"]
    assert hooks.detected == ["free"]
    assert result.output_size == "compact"


@pytest.mark.parametrize(
    ("days_back", "expected"), [(0, "compact"), (140, "compact"), (141, "full")]
)
def test_since_within_140_days_asks_for_compact_even_on_premium(
    fake_av: FakeAlphaVantage, build: Build, days_back: int, expected: str
) -> None:
    since = NOW.date() - timedelta(days=days_back)

    build(PREMIUM_KEY, plan="premium").fetch_daily("IBM", since=since)

    assert [r["outputsize"] for r in fake_av.requests] == [expected]


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


# --- provider-level failures (HTTP 200 bodies) ---------------------------------------


def test_unknown_symbol(fake_av: FakeAlphaVantage, build: Build) -> None:
    with pytest.raises(SymbolNotFound) as info:
        build(plan="free").fetch_daily("ZZZZ")

    error = info.value
    assert error.message == "Alpha Vantage does not know the symbol 'ZZZZ'."
    assert error.status == 404
    assert "Invalid API call" in error.details["provider_message"]
    assert len(fake_av.requests) == 1


@pytest.mark.parametrize("key", ["BADKEY", " "])
def test_bad_or_missing_key_is_a_configuration_error(
    fake_av: FakeAlphaVantage, build: Build, key: str
) -> None:
    with pytest.raises(ProviderConfigurationError) as info:
        build(key).fetch_daily("IBM")

    assert info.value.status == 503
    if key.strip():
        assert info.value.details["reason"] == "invalid_key"
        assert "rejected the API key" in info.value.message
        assert len(fake_av.requests) == 1
    else:
        assert info.value.details["reason"] == "missing_key"
        assert fake_av.requests == []


def test_demo_key_is_a_configuration_error(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    with pytest.raises(ProviderConfigurationError) as info:
        build("demo", plan="free").fetch_daily("IBM")

    assert info.value.details["reason"] == "demo_key"
    assert "'demo' API key" in info.value.message
    assert len(fake_av.requests) == 1


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("error_unknown_function.json", "unknown_function"),
        ("information_premium_endpoint.json", "premium_endpoint"),
    ],
)
def test_permanent_refusals_are_configuration_errors(
    fake_av: FakeAlphaVantage, build: Build, sample: str, reason: str
) -> None:
    fake_av.script(FakeResponse.sample(sample))

    with pytest.raises(ProviderConfigurationError) as info:
        build(plan="free").fetch_daily("IBM")

    assert info.value.details["reason"] == reason
    assert len(fake_av.requests) == 1


def test_an_unrecognised_notice_is_a_provider_error_not_data(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(FakeResponse.json_body({"Information": "Something new happened."}))

    with pytest.raises(ProviderError) as info:
        build(plan="free").fetch_daily("IBM")

    assert type(info.value) is ProviderError
    assert info.value.status == 502
    assert info.value.details["provider_message"] == "Something new happened."


def test_error_message_wins_over_a_notice(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    body = json.loads(load_body("error_invalid_apikey.json"))
    body["Note"] = json.loads(load_body("note_rate_limit_legacy.json"))["Note"]
    fake_av.script(FakeResponse.json_body(body))

    with pytest.raises(ProviderConfigurationError):
        build(plan="free").fetch_daily("IBM")


DAILY_MESSAGE = (
    "Alpha Vantage rate limit reached: 25 requests per day on this key; "
    "try again after the daily reset."
)
SECONDS_TO_MIDNIGHT = 8 * 3600 + 30 * 60


@pytest.mark.parametrize(
    ("sample", "limit", "retry_after"),
    [
        ("note_rate_limit_legacy.json", "burst", 60),
        ("information_rate_limit_daily.json", "daily", SECONDS_TO_MIDNIGHT),
        ("information_rate_limit_daily_key_echo.json", "daily", SECONDS_TO_MIDNIGHT),
        ("information_burst_limit.json", "burst", 2),
    ],
)
def test_rate_limit_bodies_are_rate_limited_and_not_retried(
    fake_av: FakeAlphaVantage, build: Build, sample: str, limit: str, retry_after: int
) -> None:
    fake_av.script(FakeResponse.sample(sample))

    with pytest.raises(RateLimited) as info:
        build().fetch_daily("IBM")

    error = info.value
    assert error.status == 429
    assert error.details["limit"] == limit
    assert error.retry_after == retry_after
    assert SAMPLE_KEY not in error.details["provider_message"]
    if limit == "daily":
        assert error.message == DAILY_MESSAGE
    assert len(fake_av.requests) == 1


def test_daily_limit_from_the_fake_echoes_and_is_redacted(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.daily_limit = 1
    provider = build(plan="free")
    provider.fetch_daily("IBM")

    with pytest.raises(RateLimited) as info:
        provider.fetch_daily("IBM")

    assert info.value.message == DAILY_MESSAGE
    assert f"API key as {REDACTED}" in info.value.details["provider_message"]
    assert len(fake_av.requests) == 2


def test_burst_limit_from_the_fake(fake_av: FakeAlphaVantage, build: Build) -> None:
    fake_av.burst_interval = 5.0
    provider = build(plan="free")
    provider.fetch_daily("IBM")

    with pytest.raises(RateLimited) as info:
        provider.fetch_daily("IBM")

    assert info.value.details["limit"] == "burst"
    assert info.value.retry_after == 2
    assert len(fake_av.requests) == 2


def test_daily_retry_after_is_at_least_a_minute(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(FakeResponse.sample("information_rate_limit_daily.json"))
    late = datetime(2024, 6, 10, 23, 59, 30, tzinfo=UTC)

    with pytest.raises(RateLimited) as info:
        build(clock=lambda: late).fetch_daily("IBM")

    assert info.value.retry_after == 60


def test_a_rate_limited_fallback_is_reported_as_rate_limited(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.daily_limit = 1

    with pytest.raises(RateLimited):
        build().fetch_daily("IBM")

    assert [r["outputsize"] for r in fake_av.requests] == ["full", "compact"]


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


# --- bad rows ----------------------------------------------------------------------


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


# --- transport ---------------------------------------------------------------------


def test_a_500_is_retried_then_succeeds(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(FakeResponse.html(500, "Internal Server Error"))

    result = build(plan="free").fetch_daily("IBM")

    assert len(result.bars) == 5
    assert len(fake_av.requests) == 2


def test_persistent_500_gives_up_after_max_retries(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(*[FakeResponse.html(500, "Internal Server Error")] * 3)

    with pytest.raises(ProviderUnavailable) as info:
        build(plan="free", max_retries=2).fetch_daily("IBM")

    assert (
        info.value.message
        == "Alpha Vantage is unavailable (HTTP 500 after 3 attempts)."
    )
    assert info.value.status == 503
    assert info.value.details["attempts"] == 3
    assert len(fake_av.requests) == 3


def test_html_503_is_unavailable(fake_av: FakeAlphaVantage, build: Build) -> None:
    fake_av.script(FakeResponse.html(503))

    with pytest.raises(ProviderUnavailable, match=r"HTTP 503 after 1 attempt\)"):
        build(plan="free", max_retries=0).fetch_daily("IBM")

    assert len(fake_av.requests) == 1


def test_other_http_statuses_fail_without_retry(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(
        FakeResponse(status=404, body="Not Found", content_type="text/plain")
    )

    with pytest.raises(ProviderError) as info:
        build(plan="free").fetch_daily("IBM")

    assert type(info.value) is ProviderError
    assert info.value.status == 502
    assert info.value.details["http_status"] == 404
    assert len(fake_av.requests) == 1


def test_read_timeouts_give_up_after_max_retries(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(*[FakeResponse.slow(1.0)] * 3)

    with pytest.raises(ProviderUnavailable) as info:
        build(plan="free", read_timeout=0.2, max_retries=2).fetch_daily("IBM")

    assert info.value.message == (
        "Alpha Vantage did not answer in time (read timeout after 3 attempts)."
    )
    assert info.value.details["reason"] == "read_timeout"
    assert len(fake_av.requests) == 3


def test_a_read_timeout_is_retried_then_succeeds(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(FakeResponse.slow(1.0))

    result = build(plan="free", read_timeout=0.2, max_retries=1).fetch_daily("IBM")

    assert len(result.bars) == 5
    assert len(fake_av.requests) == 2


def test_connection_refused_is_unavailable(build: Build) -> None:
    provider = build(plan="free", base_url=closed_port_url(), max_retries=1)

    with pytest.raises(ProviderUnavailable) as info:
        provider.fetch_daily("IBM")

    assert info.value.message == (
        "Could not connect to Alpha Vantage (connection failed after 2 attempts)."
    )


# --- hooks and arguments -----------------------------------------------------------


def test_before_call_can_stop_the_request(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    budget_spent = RateLimited("The daily budget is used up.", retry_after=600)

    class SpentHooks(NoHooks):
        def before_call(self) -> None:
            raise budget_spent

    with pytest.raises(RateLimited) as info:
        build(hooks=SpentHooks()).fetch_daily("IBM")

    assert info.value is budget_spent
    assert fake_av.requests == []


def test_every_request_is_preceded_by_before_call(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    hooks = RecordingHooks()
    build(hooks=hooks).fetch_daily("IBM")

    assert hooks.calls == len(fake_av.requests) == 2


def test_arguments_are_checked(build: Build) -> None:
    with pytest.raises(ValueError, match="plan"):
        build(plan="gold")
    with pytest.raises(InvalidInput):
        build().fetch_daily("  ")


# --- secrets -----------------------------------------------------------------------


def _bad_row(fake: FakeAlphaVantage) -> None:
    fake.script(FakeResponse.series(ibm_rows_with("2024-06-05", open=SECRET_KEY)))


SECRET_CASES: dict[
    str, tuple[Callable[[FakeAlphaVantage], object], dict[str, object]]
] = {
    "invalid-key": (lambda f: f.invalid_keys.add(SECRET_KEY), {}),
    "daily-limit-key-echo": (lambda f: setattr(f, "daily_limit", 0), {}),
    "fallback-then-key-echo": (
        lambda f: setattr(f, "daily_limit", 1),
        {"plan": "auto"},
    ),
    "burst": (
        lambda f: f.script(FakeResponse.sample("information_burst_limit.json")),
        {},
    ),
    "unknown-symbol": (lambda f: None, {"symbol": "ZZZZ"}),
    "empty-object": (lambda f: f.script(FakeResponse.sample("empty_object.json")), {}),
    "malformed-json": (lambda f: f.script(FakeResponse.malformed_json()), {}),
    "bad-row": (_bad_row, {}),
    "http-404": (lambda f: f.script(FakeResponse(404, "no", "text/plain")), {}),
    "server-errors": (lambda f: f.script(*[FakeResponse.html(503)] * 2), {}),
    "read-timeouts": (lambda f: f.script(*[FakeResponse.slow(1.0)] * 2), {}),
    "connection-refused": (lambda f: None, {"base_url": "closed"}),
}


@pytest.mark.parametrize("case", list(SECRET_CASES))
def test_the_key_never_leaks(
    fake_av: FakeAlphaVantage,
    build: Build,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    arrange, options = SECRET_CASES[case]
    arrange(fake_av)
    options = dict(options)
    symbol = str(options.pop("symbol", "IBM"))
    if options.get("base_url") == "closed":
        options["base_url"] = closed_port_url()
    options.setdefault("plan", "free")
    provider = build(SECRET_KEY, max_retries=1, read_timeout=0.2, **options)

    with pytest.raises(ProviderError) as info:
        provider.fetch_daily(symbol)

    error = info.value
    texts = [
        str(error),
        repr(error),
        error.message,
        repr(error.details),
        json.dumps(error.details, default=str),
        "".join(traceback.format_exception(error)),
        repr(provider),
        caplog.text,
    ]
    formatter = logging.Formatter("%(name)s %(message)s")
    texts += [formatter.format(record) for record in caplog.records]
    assert caplog.records, "expected log records to inspect"
    for text in texts:
        assert SECRET_KEY not in text
    if case != "connection-refused":
        assert fake_av.requests[0]["apikey"] == SECRET_KEY


def test_urllib3_retry_warning_is_logged_without_the_key(
    fake_av: FakeAlphaVantage, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="urllib3")
    fake_av.script(FakeResponse.slow(1.0))

    build(SECRET_KEY, plan="free", read_timeout=0.2, max_retries=1).fetch_daily("IBM")

    warnings = [
        r
        for r in caplog.records
        if r.name == "urllib3.connectionpool" and r.levelno == logging.WARNING
    ]
    assert warnings
    assert "Retrying" in warnings[0].getMessage()
    assert f"apikey={REDACTED}" in warnings[0].getMessage()
    assert all(SECRET_KEY not in r.getMessage() for r in caplog.records)


def test_500_retry_is_logged_without_the_key(
    fake_av: FakeAlphaVantage, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="urllib3")
    fake_av.script(FakeResponse.html(500))

    build(SECRET_KEY, plan="free").fetch_daily("IBM")

    retry_lines = [r.getMessage() for r in caplog.records if "Retry" in r.getMessage()]
    assert retry_lines
    assert all(SECRET_KEY not in r.getMessage() for r in caplog.records)


def test_own_log_line_names_the_call_but_not_the_key(
    build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=alpha_vantage.__name__)

    build(SECRET_KEY, plan="free").fetch_daily("IBM")

    messages = [
        r.getMessage() for r in caplog.records if r.name == alpha_vantage.__name__
    ]
    assert "Alpha Vantage TIME_SERIES_DAILY symbol=IBM outputsize=compact" in messages
    assert all(SECRET_KEY not in m for m in messages)


def test_the_log_filter_is_installed_once(build: Build) -> None:
    for _ in range(3):
        build(SECRET_KEY)

    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        assert logging.getLogger(name).filters.count(alpha_vantage._log_filter) == 1
