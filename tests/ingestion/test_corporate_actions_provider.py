"""AlphaVantageProvider.fetch_actions against the loopback fake: SPLITS, DIVIDENDS,
every failure mode of the price fetch, strict parsing and the key kept out."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest

from core.adjustment import Action
from core.redaction import REDACTED
from ingestion.providers.base import NoHooks
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
    dividend_row,
    split_row,
)
from tests.ingestion.provider_helpers import SECRET_KEY, Build


class LeaveRecordingHooks(NoHooks):
    """Records the `leave` of each call; refuses like the budget when told to."""

    def __init__(self, refuse_from: int | None = None) -> None:
        super().__init__()
        self.leaves: list[int] = []
        self.refuse_from = refuse_from

    def before_call(self, *, leave: int = 0) -> None:
        if self.refuse_from is not None and len(self.leaves) >= self.refuse_from:
            raise RateLimited("budget kept", details={"limit": "budget"})
        self.leaves.append(leave)


def functions(fake: FakeAlphaVantage) -> list[str]:
    return [request["function"] for request in fake.requests]


def test_ibm_splits_and_dividends_come_oldest_first(fake_av, build: Build):
    result = build().fetch_actions("ibm")

    # NOW is 2024-06-10: the November dividend is declared, not yet in effect.
    assert result.actions == (
        Action("split", date(1997, 5, 28), Decimal("2.000000")),
        Action("split", date(1999, 5, 27), Decimal("2.000000")),
        Action("dividend", date(2024, 5, 9), Decimal("1.670000")),
    )
    assert result.source == "alpha_vantage"
    assert result.notes == (
        "1 dividend of IBM declared for a later date (from 2024-11-12) will be "
        "stored once in effect: until then no bar is affected.",
    )
    assert functions(fake_av) == ["SPLITS", "DIVIDENDS"]
    assert {r["symbol"] for r in fake_av.requests} == {"IBM"}
    assert {r["apikey"] for r in fake_av.requests} == {SAMPLE_KEY}


def test_a_known_symbol_without_actions_answers_empty_data(fake_av, build: Build):
    fake_av.generate_series("PLAIN", days=30, end=date(2024, 6, 7))

    result = build().fetch_actions("PLAIN")

    assert result.actions == ()
    assert result.notes == ()
    assert functions(fake_av) == ["SPLITS", "DIVIDENDS"]


def test_the_empty_object_is_no_data_and_dividends_are_not_asked(fake_av, build: Build):
    with pytest.raises(NoData) as info:
        build().fetch_actions("ZZZZ")

    assert info.value.message == (
        "Alpha Vantage sent an empty answer for the splits of 'ZZZZ' (its answer to "
        "an unknown symbol too), so they are not known."
    )
    assert info.value.status == 404
    assert functions(fake_av) == ["SPLITS"]


def test_any_order_is_read_and_the_newest_first_answer_too(fake_av, build: Build):
    fake_av.generate_series("ORD", days=30, end=date(2024, 6, 7))
    rows = [
        split_row(date(2010, 1, 4), 3),
        split_row(date(2020, 8, 31), "0.1"),
        split_row(date(2015, 6, 1), 2),
    ]
    fake_av.set_actions(
        "ORD", splits=rows, dividends=[dividend_row(date(2024, 3, 1), "0.5")]
    )
    fake_av.script(FakeResponse.json_body({"symbol": "ORD", "data": rows}))

    result = build().fetch_actions("ORD")

    assert [(a.kind, a.day, a.value) for a in result.actions] == [
        ("split", date(2010, 1, 4), Decimal("3.000000")),
        ("split", date(2015, 6, 1), Decimal("2.000000")),
        ("split", date(2020, 8, 31), Decimal("0.100000")),
        ("dividend", date(2024, 3, 1), Decimal("0.500000")),
    ]


def test_none_dates_and_amounts_are_left_out_with_a_note(fake_av, build: Build):
    fake_av.generate_series("NON", days=30, end=date(2024, 6, 7))
    fake_av.set_actions(
        "NON",
        dividends=[
            dividend_row(date(2024, 2, 9), "0.24"),
            {**dividend_row(date(2024, 5, 10), "0.25"), "ex_dividend_date": "None"},
            {**dividend_row(date(2023, 11, 10), "0.24"), "amount": "None"},
        ],
    )

    result = build().fetch_actions("NON")

    assert result.actions == (Action("dividend", date(2024, 2, 9), Decimal("0.24")),)
    assert result.notes == (
        "Alpha Vantage listed 1 dividend of NON without an ex-dividend date ('None'); "
        "left out.",
        "Alpha Vantage listed 1 dividend of NON without an amount ('None' or 0); "
        "left out.",
    )


def test_two_dividends_on_one_ex_date_are_added(fake_av, build: Build):
    fake_av.generate_series("SPC", days=30, end=date(2024, 6, 7))
    fake_av.set_actions(
        "SPC",
        dividends=[
            dividend_row(date(2024, 3, 1), "0.50"),
            dividend_row(date(2024, 3, 1), "2.00"),
        ],
    )

    result = build().fetch_actions("SPC")

    assert result.actions == (Action("dividend", date(2024, 3, 1), Decimal("2.5")),)
    assert "amounts added" in result.notes[0]


BAD_ANSWERS = {
    "no data list": (
        {"symbol": "IBM", "splits": []},
        "Alpha Vantage's SPLITS answer for 'IBM' has no 'data' list.",
    ),
    "data not a list": (
        {"symbol": "IBM", "data": {"effective_date": "1999-05-27"}},
        "Alpha Vantage's SPLITS answer for 'IBM' has a 'data' that is not a list.",
    ),
    "another symbol": (
        {"symbol": "MSFT", "data": []},
        "Alpha Vantage's SPLITS answer is for 'MSFT', not 'IBM'.",
    ),
    "row not an object": (
        {"symbol": "IBM", "data": ["1999-05-27"]},
        "Alpha Vantage sent a bad split for 'IBM' (row 1 of its SPLITS answer): the "
        "row is not an object; nothing was stored.",
    ),
    "factor missing": (
        {"symbol": "IBM", "data": [{"effective_date": "1999-05-27"}]},
        "Alpha Vantage sent a bad split for 'IBM' (row 1 of its SPLITS answer): "
        "split_factor is missing; nothing was stored.",
    ),
    "bad date": (
        {
            "symbol": "IBM",
            "data": [
                split_row(date(1999, 5, 27), 2),
                {"effective_date": "27/05/1999", "split_factor": "2"},
            ],
        },
        "Alpha Vantage sent a bad split for 'IBM' (row 2 of its SPLITS answer): "
        "effective_date is '27/05/1999', not a YYYY-MM-DD date; nothing was stored.",
    ),
    "impossible date": (
        {
            "symbol": "IBM",
            "data": [{"effective_date": "1999-02-30", "split_factor": "2"}],
        },
        "Alpha Vantage sent a bad split for 'IBM' (row 1 of its SPLITS answer): "
        "effective_date is '1999-02-30', not a YYYY-MM-DD date; nothing was stored.",
    ),
    "factor not a number": (
        {
            "symbol": "IBM",
            "data": [{"effective_date": "1999-05-27", "split_factor": "2:1"}],
        },
        "Alpha Vantage sent a bad split for 'IBM' (row 1 of its SPLITS answer): "
        "split_factor is '2:1', not a number; nothing was stored.",
    ),
    "factor a JSON number": (
        {
            "symbol": "IBM",
            "data": [{"effective_date": "1999-05-27", "split_factor": 2}],
        },
        "Alpha Vantage sent a bad split for 'IBM' (row 1 of its SPLITS answer): "
        "split_factor is a JSON int, not the text of a number; nothing was stored.",
    ),
    "zero factor": (
        {"symbol": "IBM", "data": [split_row(date(1999, 5, 27), 0)]},
        "Alpha Vantage sent a bad split for 'IBM' (row 1 of its SPLITS answer): "
        "split_factor is '0.0000', not above zero; nothing was stored.",
    ),
    "factor too large": (
        {"symbol": "IBM", "data": [split_row(date(1999, 5, 27), 1_000_000)]},
        "Alpha Vantage sent a bad split for 'IBM' (row 1 of its SPLITS answer): "
        "split_factor is '1000000.0000', too large to store; nothing was stored.",
    ),
    "two factors on one day": (
        {
            "symbol": "IBM",
            "data": [split_row(date(1999, 5, 27), 2), split_row(date(1999, 5, 27), 3)],
        },
        "Alpha Vantage sent a bad split for 'IBM' (row 2 of its SPLITS answer): a "
        "second split on 1999-05-27 with another factor (3, not 2); nothing was stored.",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_an_unknown_shape_is_a_clear_provider_error(fake_av, build: Build, case):
    body, message = BAD_ANSWERS[case]
    fake_av.script(FakeResponse.json_body(body))

    with pytest.raises(MalformedResponse) as info:
        build().fetch_actions("IBM")

    assert info.value.message == message
    assert info.value.status == 502
    # Strict: one bad answer and DIVIDENDS is not asked for at all.
    assert functions(fake_av) == ["SPLITS"]


def test_a_bad_dividend_after_good_splits_fails_the_whole_fetch(fake_av, build: Build):
    fake_av.set_actions("IBM", dividends=[dividend_row(date(2024, 5, 9), "-1.67")])

    with pytest.raises(MalformedResponse) as info:
        build().fetch_actions("IBM")

    assert info.value.message == (
        "Alpha Vantage sent a bad dividend for 'IBM' (row 1 of its DIVIDENDS answer): "
        "amount is '-1.67', not above zero; nothing was stored."
    )
    assert functions(fake_av) == ["SPLITS", "DIVIDENDS"]


def test_an_answer_that_is_not_json_is_malformed(fake_av, build: Build):
    fake_av.script(FakeResponse.malformed_json())

    with pytest.raises(MalformedResponse) as info:
        build().fetch_actions("IBM")

    assert info.value.message == "Alpha Vantage sent an answer that is not JSON."


@pytest.mark.parametrize(
    ("sample", "error", "limit"),
    [
        ("information_rate_limit_daily.json", RateLimited, "daily"),
        ("information_rate_limit_daily_key_echo.json", RateLimited, "daily"),
        ("note_rate_limit_legacy.json", RateLimited, "burst"),
        ("information_burst_limit.json", RateLimited, "burst"),
    ],
)
def test_rate_limit_notices_are_rate_limited(
    fake_av, build: Build, sample, error, limit
):
    fake_av.script(FakeResponse.sample(sample))

    with pytest.raises(error) as info:
        build().fetch_actions("IBM")

    assert info.value.status == 429
    assert info.value.details["limit"] == limit
    assert info.value.retry_after and info.value.retry_after > 0
    assert functions(fake_av) == ["SPLITS"]


def test_the_fakes_daily_limit_applies_to_these_calls_too(build: Build):
    with FakeAlphaVantage(daily_limit=1) as fake, pytest.raises(RateLimited) as info:
        build(base_url=fake.base_url).fetch_actions("IBM")

    assert info.value.details["limit"] == "daily"
    assert [r["function"] for r in fake.requests] == ["SPLITS", "DIVIDENDS"]


def test_an_error_message_is_an_unknown_symbol(fake_av, build: Build):
    fake_av.script(
        FakeResponse.sample(
            "error_invalid_symbol.json", **{"for TIME_SERIES_DAILY.": "for SPLITS."}
        )
    )

    with pytest.raises(SymbolNotFound) as info:
        build().fetch_actions("IBM")

    assert info.value.message == "Alpha Vantage does not know the symbol 'IBM'."


@pytest.mark.parametrize(
    ("key", "sample", "reason", "words"),
    [
        ("BADKEY", None, "invalid_key", "rejected the API key"),
        ("demo", None, "demo_key", "'demo' API key"),
        (
            SAMPLE_KEY,
            "information_premium_endpoint.json",
            "premium_endpoint",
            "SPLITS is a premium endpoint",
        ),
        (
            SAMPLE_KEY,
            "error_unknown_function.json",
            "unknown_function",
            "the function SPLITS",
        ),
    ],
)
def test_refusals_that_retrying_cannot_cure_are_configuration_errors(
    fake_av, build: Build, key, sample, reason, words
):
    if sample:
        fake_av.script(FakeResponse.sample(sample))

    with pytest.raises(ProviderConfigurationError) as info:
        build(key).fetch_actions("IBM")

    assert info.value.details["reason"] == reason
    assert words in info.value.message
    assert functions(fake_av) == ["SPLITS"]


def test_a_missing_key_asks_nothing(fake_av, build: Build):
    with pytest.raises(ProviderConfigurationError) as info:
        build(" ").fetch_actions("IBM")

    assert info.value.details["reason"] == "missing_key"
    assert fake_av.requests == []


def test_server_errors_are_retried_then_unavailable(fake_av, build: Build):
    fake_av.script(FakeResponse.html(503), FakeResponse.html(502))

    assert len(build(max_retries=2).fetch_actions("IBM").actions) == 3

    fake_av.reset()
    fake_av.script(*[FakeResponse.html(500)] * 3)
    with pytest.raises(ProviderUnavailable) as info:
        build(max_retries=2).fetch_actions("IBM")
    assert info.value.message == (
        "Alpha Vantage is unavailable (HTTP 500 after 3 attempts)."
    )


def test_other_http_statuses_say_what_was_wanted(fake_av, build: Build):
    fake_av.script(FakeResponse(status=404, body="gone", content_type="text/plain"))

    with pytest.raises(ProviderError) as info:
        build().fetch_actions("IBM")

    assert info.value.message == (
        "Alpha Vantage answered HTTP 404 instead of splits and dividends."
    )


def test_the_key_is_redacted_from_every_text(fake_av, build: Build, caplog):
    caplog.set_level(logging.DEBUG)
    fake_av.script(
        FakeResponse.sample(
            "information_rate_limit_daily_key_echo.json", **{SAMPLE_KEY: SECRET_KEY}
        )
    )
    with pytest.raises(RateLimited) as limited:
        build(SECRET_KEY).fetch_actions("IBM")

    fake_av.script(
        FakeResponse(
            status=418, body=f"no {SECRET_KEY} here", content_type="text/plain"
        ),
    )
    with pytest.raises(ProviderError) as teapot:
        build(SECRET_KEY).fetch_actions("IBM")

    fake_av.script(
        FakeResponse.json_body(
            {
                "symbol": "IBM",
                "data": [{"effective_date": SECRET_KEY, "split_factor": "2"}],
            }
        )
    )
    with pytest.raises(MalformedResponse) as malformed:
        build(SECRET_KEY).fetch_actions("IBM")

    for error in (limited.value, teapot.value, malformed.value):
        text = f"{error.message} {error.details}"
        assert SECRET_KEY not in text
    assert REDACTED in limited.value.details["provider_message"]
    assert REDACTED in teapot.value.details["body_start"]
    assert REDACTED in malformed.value.message
    assert SECRET_KEY not in caplog.text
    assert "SPLITS" in caplog.text


def test_the_calls_give_way_to_the_calls_kept(fake_av, build: Build):
    hooks = LeaveRecordingHooks()

    build(hooks=hooks).fetch_actions("IBM", leave_calls=5)

    # SPLITS also keeps the DIVIDENDS call still to come.
    assert hooks.leaves == [6, 5]


def test_a_refused_call_slot_sends_nothing(fake_av, build: Build):
    with pytest.raises(RateLimited):
        build(hooks=LeaveRecordingHooks(refuse_from=0)).fetch_actions("IBM")
    assert fake_av.requests == []

    with pytest.raises(RateLimited):
        build(hooks=LeaveRecordingHooks(refuse_from=1)).fetch_actions("IBM")
    assert functions(fake_av) == ["SPLITS"]
