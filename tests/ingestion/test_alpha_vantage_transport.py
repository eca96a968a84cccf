"""AlphaVantageProvider over HTTP: retries, timeouts, refused connections, hooks."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from ingestion.providers.base import NoHooks
from ingestion.providers.errors import ProviderError, ProviderUnavailable, RateLimited
from tests.fakes.alphavantage import FakeAlphaVantage, FakeResponse
from tests.ingestion.provider_helpers import Build, RecordingHooks, closed_port_url


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


# --- hooks and arguments --------------------------------------------------------------


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
