"""AlphaVantageProvider never lets the key out: not in errors, reprs or log lines."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable

import pytest

from core.redaction import REDACTED
from ingestion.providers import alpha_vantage
from ingestion.providers.errors import ProviderError
from tests.fakes.alphavantage import FakeAlphaVantage, FakeResponse
from tests.ingestion.provider_helpers import (
    SECRET_KEY,
    Build,
    closed_port_url,
    ibm_rows_with,
)


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


def test_a_timeout_retry_is_logged_without_the_key(
    fake_av: FakeAlphaVantage, build: Build, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="urllib3")
    fake_av.script(FakeResponse.slow(1.0))

    build(SECRET_KEY, plan="free", read_timeout=0.2, max_retries=1).fetch_daily("IBM")

    retries = [
        r
        for r in caplog.records
        if r.name == "ingestion.providers.alpha_vantage"
        and r.levelno == logging.WARNING
    ]
    assert retries
    assert "read timeout" in retries[0].getMessage()
    # urllib3's own request lines carry the URL, with the key redacted.
    requests_logged = [
        r.getMessage() for r in caplog.records if "GET /query" in r.getMessage()
    ]
    assert requests_logged
    assert all(f"apikey={REDACTED}" in line for line in requests_logged)
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
