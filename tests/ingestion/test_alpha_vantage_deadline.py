"""AlphaVantageProvider with a deadline: every attempt, wait and backoff ends by it."""

from __future__ import annotations

import logging
import time

import pytest

from ingestion.providers.base import NoHooks
from ingestion.providers.errors import ProviderTimeout, ProviderUnavailable
from tests.fakes.alphavantage import FakeAlphaVantage, FakeResponse
from tests.ingestion.provider_helpers import SECRET_KEY, Build, RecordingHooks

HUNG = 30.0  # longer than any test here waits; the fake is stopped after the test
SLACK = 0.5  # scheduling and loopback overhead allowed past a deadline


def deadline_in(seconds: float) -> float:
    return time.monotonic() + seconds


def test_a_hung_provider_is_cut_at_the_deadline_not_after_every_retry(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(*[FakeResponse.slow(HUNG)] * 3)
    provider = build(
        plan="free", read_timeout=5.0, max_retries=2, deadline=deadline_in(1.0)
    )
    started = time.monotonic()

    with pytest.raises(ProviderTimeout) as info:
        provider.fetch_daily("IBM")

    elapsed = time.monotonic() - started
    # Without the deadline: 3 attempts x 5 s.
    assert 1.0 <= elapsed < 1.0 + SLACK
    assert len(fake_av.requests) == 1
    error = info.value
    assert (error.status, error.code) == (504, "provider_timeout")
    assert error.message == (
        "Alpha Vantage did not answer within this fetch's deadline (read timeout "
        "after 1 attempt); nothing was stored."
    )
    assert error.details == {
        "symbol": "IBM",
        "reason": "deadline",
        "attempts": 1,
        "last_failure": "read timeout",
    }


def test_each_attempt_gets_only_the_time_left(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(*[FakeResponse.slow(HUNG)] * 6)
    provider = build(
        plan="free", read_timeout=0.6, max_retries=5, deadline=deadline_in(1.0)
    )
    started = time.monotonic()

    with pytest.raises(ProviderTimeout) as info:
        provider.fetch_daily("IBM")

    # 0.6 s, then the 0.4 s left; no third attempt.
    assert 1.0 <= time.monotonic() - started < 1.0 + SLACK
    assert len(fake_av.requests) == 2
    assert info.value.details["attempts"] == 2


def test_no_backoff_wait_starts_that_would_end_past_the_deadline(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(*[FakeResponse.html(503)] * 3)
    # The first retry follows at once, the second after 2 * 2**1 = 4 s.
    provider = build(
        plan="free", max_retries=2, backoff_factor=2.0, deadline=deadline_in(2.0)
    )
    started = time.monotonic()

    with pytest.raises(ProviderTimeout) as info:
        provider.fetch_daily("IBM")

    assert time.monotonic() - started < SLACK
    assert len(fake_av.requests) == 2
    assert info.value.details["last_failure"] == "HTTP 503"


def test_retries_inside_the_deadline_still_run(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(FakeResponse.html(500), FakeResponse.slow(HUNG))
    provider = build(
        plan="free", read_timeout=0.3, max_retries=2, deadline=deadline_in(5.0)
    )

    result = provider.fetch_daily("IBM")

    assert len(result.bars) == 5
    assert len(fake_av.requests) == 3


def test_retries_used_up_before_the_deadline_are_still_a_503(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    fake_av.script(*[FakeResponse.html(500)] * 3)

    with pytest.raises(ProviderUnavailable) as info:
        build(plan="free", max_retries=2, deadline=deadline_in(5.0)).fetch_daily("IBM")

    assert type(info.value) is ProviderUnavailable
    assert info.value.message == (
        "Alpha Vantage is unavailable (HTTP 500 after 3 attempts)."
    )


def test_a_deadline_already_past_sends_nothing_and_reserves_no_call(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    hooks = RecordingHooks()

    with pytest.raises(ProviderTimeout) as info:
        build(plan="free", hooks=hooks, deadline=deadline_in(-1.0)).fetch_daily("IBM")

    assert hooks.calls == 0
    assert fake_av.requests == []
    assert info.value.details["attempts"] == 0
    assert "no request could be sent in time" in info.value.message


def test_the_wait_for_a_call_slot_counts_against_the_deadline(
    fake_av: FakeAlphaVantage, build: Build
) -> None:
    class SlowSlot(NoHooks):
        def before_call(self) -> None:
            time.sleep(0.4)

    with pytest.raises(ProviderTimeout):
        build(plan="free", hooks=SlowSlot(), deadline=deadline_in(0.2)).fetch_daily(
            "IBM"
        )

    assert fake_av.requests == []


def test_the_retry_warning_names_the_failure_but_never_the_key(
    fake_av: FakeAlphaVantage, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_av.script(FakeResponse.slow(1.0), FakeResponse.html(502))

    build(SECRET_KEY, plan="free", read_timeout=0.2, max_retries=2).fetch_daily("IBM")

    retries = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.getMessage().startswith("Retry")
    ]
    assert retries == [
        "Retry 1 of 2 for Alpha Vantage TIME_SERIES_DAILY symbol=IBM after read "
        "timeout, in 0.0 s",
        "Retry 2 of 2 for Alpha Vantage TIME_SERIES_DAILY symbol=IBM after HTTP 502, "
        "in 0.0 s",
    ]
    assert all(SECRET_KEY not in r.getMessage() for r in caplog.records)
