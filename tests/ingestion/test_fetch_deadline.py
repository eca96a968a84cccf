"""A synchronous /fetch/ ends by FETCH_SYNC_DEADLINE: a hung provider, a fetch ahead
of it or a queue for the call slot make a 504 JSON answer, never a held worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.test import Client

from core.models import PriceBar, Symbol
from ingestion.models import ProviderAccount
from ingestion.providers.alpha_vantage import AlphaVantageProvider
from ingestion.services.fetch import prices_fetch, provider_from_settings
from ingestion.services.metering import key_fingerprint
from tests.fakes.alphavantage import FakeAlphaVantage, FakeResponse

pytestmark = pytest.mark.django_db

HUNG = 30.0  # longer than any test here waits; the fake is stopped after the test
SLACK = 0.6  # scheduling, loopback and request overhead allowed past a deadline


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("lock waits are bounded with PostgreSQL's lock_timeout")


@pytest.fixture
def sync_deadline(provider_settings):
    """A one-second deadline with production's ratios: 1.5 s read timeout, 2 retries,
    so a hung provider would otherwise hold the request 4.5 s."""
    # The first request of a process imports every app's views (seconds); the
    # deadline starts in the view, the stopwatches here before the request.
    Client().get("/healthz")
    provider_settings.FETCH_SYNC_DEADLINE = 1.0
    provider_settings.ALPHA_VANTAGE_TIMEOUT = 1.5
    provider_settings.ALPHA_VANTAGE_MAX_RETRIES = 2
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    provider_settings.RATELIMIT_WORK = "1000/m"
    return provider_settings


def assert_provider_timeout(response, waiting_for: str | None = None) -> dict:
    assert response.status_code == 504
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "provider_timeout"
    assert error["message"].endswith(
        "Ask again with ?async=1 to fetch in the background."
    )
    assert error["details"]["deadline_seconds"] == 1.0
    assert error["details"].get("waiting_for") == waiting_for
    return error


def test_a_hung_provider_answers_504_json_at_the_deadline(
    sync_deadline, token_client, fake_av: FakeAlphaVantage
):
    fake_av.script(*[FakeResponse.slow(HUNG)] * 3)
    started = time.monotonic()

    response = token_client.get("/fetch/IBM/")

    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 1.0 + SLACK
    error = assert_provider_timeout(response)
    assert error["message"].startswith(
        "Alpha Vantage did not answer within this fetch's deadline (read timeout "
        "after 1 attempt); nothing was stored."
    )
    assert len(fake_av.requests) == 1
    assert not Symbol.objects.exists()
    assert not PriceBar.objects.exists()


def test_a_fetch_inside_the_deadline_is_answered_as_before(
    sync_deadline, token_client, fake_av: FakeAlphaVantage
):
    fake_av.script(FakeResponse.slow(0.3))

    response = token_client.get("/fetch/IBM/")

    assert response.status_code == 200
    assert response.json()["inserted"] == 5


def test_background_fetches_have_no_request_deadline(provider_settings):
    provider = provider_from_settings()
    assert isinstance(provider, AlphaVantageProvider)
    assert provider.deadline is None


@pytest.fixture
def slow_fetch_in_progress(
    provider_settings, fake_av: FakeAlphaVantage
) -> Iterator[threading.Thread]:
    """Another worker's fetch of SLOW, waiting 2 s for the provider's answer."""
    fake_av.script(FakeResponse.slow(2.0, FakeResponse.sample("empty_object.json")))
    other = threading.Thread(target=_fetch_quietly, args=("SLOW",))
    other.start()
    waited_until = time.monotonic() + 5
    while not fake_av.requests and time.monotonic() < waited_until:
        time.sleep(0.02)
    assert fake_av.requests, "the other fetch never reached the provider"
    yield other
    other.join(timeout=10)


def _fetch_quietly(ticker: str) -> None:
    try:
        prices_fetch(ticker=ticker)
    except Exception:  # noqa: S110 - its outcome is not what these tests look at
        pass
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_waiting_behind_another_fetch_of_the_symbol_ends_at_the_deadline(
    postgres_only, sync_deadline, token_client, fake_av, slow_fetch_in_progress
):
    started = time.monotonic()

    response = token_client.get("/fetch/SLOW/")

    assert 1.0 <= time.monotonic() - started < 1.0 + SLACK
    error = assert_provider_timeout(response, waiting_for="other_fetch")
    assert error["message"].startswith(
        "Another fetch of SLOW was still waiting for the provider"
    )
    assert len(fake_av.requests) == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("0",)


@pytest.mark.django_db(transaction=True)
def test_waiting_for_a_call_slot_ends_at_the_deadline(
    postgres_only, sync_deadline, token_client, fake_av, av_key
):
    account = ProviderAccount.objects.create(
        provider="alpha_vantage", key_fingerprint=key_fingerprint(av_key)
    )
    held, release = threading.Event(), threading.Event()

    def hold_the_slot() -> None:
        # As another worker does while it spaces its call from the one before.
        try:
            with transaction.atomic():
                ProviderAccount.objects.select_for_update().get(pk=account.pk)
                held.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_slot)
    holder.start()
    try:
        assert held.wait(timeout=5)
        started = time.monotonic()
        response = token_client.get("/fetch/IBM/")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=10)

    assert 1.0 <= elapsed < 1.0 + SLACK
    assert_provider_timeout(response, waiting_for="call_slot")
    assert fake_av.requests == []
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone() == ("0",)
