"""Fetches of one symbol collapse into one provider call and one Job: concurrent
requests through /fetch/ (sync and ?async=1), each thread on its own database
connection as separate workers are, against the fake provider that counts calls."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client

from core.models import Job, PriceBar
from ingestion.providers.errors import SymbolNotFound
from ingestion.services.fetch import prices_fetch
from tests.concurrency import run_concurrently
from tests.fakes.alphavantage import FakeAlphaVantage, FakeResponse, generate_rows

END = date(2024, 6, 7)
# Long enough that every thread is in before the first answer comes back.
PROVIDER_DELAY = 1.5
RACE_ROWS = generate_rows(days=120, end=END, seed=9)
# What a free key's compact answer holds: the latest 100 days.
RACE_COMPACT = dict(sorted(RACE_ROWS.items())[-100:])


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("fetches are serialised across processes on PostgreSQL only")


@pytest.fixture
def race(provider_settings, fake_av: FakeAlphaVantage) -> FakeAlphaVantage:
    """RACE, known to the fake, whose first answer takes PROVIDER_DELAY seconds."""
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    provider_settings.RATELIMIT_WORK = "1000/m"
    fake_av.set_series("RACE", RACE_ROWS)
    fake_av.script(
        FakeResponse.slow(
            PROVIDER_DELAY, FakeResponse.series(RACE_COMPACT, symbol="RACE")
        )
    )
    return fake_av


def concurrent_requests(api_key: str, paths: list[str]) -> list[tuple[str, int, dict]]:
    """Each path requested by its own thread, all released together."""
    queue = list(paths)
    lock = threading.Lock()

    def one() -> tuple[str, int, dict]:
        with lock:
            path = queue.pop()
        response = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}").get(path)
        return path, response.status_code, response.json()

    return run_concurrently(one, len(paths))


def served_by_workers(
    api_key: str, paths: list[str], workers: int
) -> list[tuple[str, int, dict]]:
    """The paths requested at once but served `workers` at a time, as gunicorn's
    processes serve a burst: most requests reach Django after the first fetch ended.
    """

    def one(path: str) -> tuple[str, int, dict]:
        try:
            response = Client(HTTP_AUTHORIZATION=f"Bearer {api_key}").get(path)
            return path, response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, paths, timeout=60))


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_sync_fetches_make_one_provider_call(
    postgres_only, race, api_key
):
    answers = concurrent_requests(api_key, ["/fetch/RACE/"] * 20)

    assert len(race.price_requests) == 1
    assert {status for _, status, _ in answers} == {200}
    bodies = [body for _, _, body in answers]
    assert sorted(body["deduplicated"] for body in bodies) == [False] + [True] * 19
    assert {(b["first_date"], b["last_date"]) for b in bodies} == {
        (min(RACE_COMPACT), max(RACE_COMPACT))
    }
    assert PriceBar.objects.filter(symbol__ticker="RACE").count() == 100


@pytest.mark.django_db(transaction=True)
def test_a_burst_served_two_at_a_time_makes_one_provider_call(
    postgres_only, race, api_key
):
    # Two gunicorn processes of one thread each, as the container ran them: without
    # the reuse window each pair after the first made its own call (11 of 20).
    answers = served_by_workers(api_key, ["/fetch/RACE/"] * 20, workers=2)

    assert len(race.price_requests) == 1
    assert {status for _, status, _ in answers} == {200}
    assert sum(body["deduplicated"] for _, _, body in answers) == 19


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_async_fetches_share_one_job_and_one_call(race, api_key):
    # SQLite too: the Job's unique constraint, not the advisory lock, decides.
    # The test settings run Django-Q2 in sync mode: the first request runs the
    # Job's task inline (on commit), the others arrive while it is queued or running.
    answers = concurrent_requests(api_key, ["/fetch/RACE/?async=1"] * 20)

    job = Job.objects.get()
    assert {status for _, status, _ in answers} == {202}
    assert {body["job"]["id"] for _, _, body in answers} == {job.pk}
    assert {body["url"] for _, _, body in answers} == {f"/jobs/{job.pk}/"}
    assert len(race.price_requests) == 1
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["inserted"] == 100


@pytest.mark.django_db(transaction=True)
def test_sync_and_async_fetches_together_make_one_call_and_one_job(
    postgres_only, race, api_key
):
    answers = concurrent_requests(
        api_key, ["/fetch/RACE/"] * 20 + ["/fetch/RACE/?async=1"] * 20
    )

    assert len(race.price_requests) == 1
    assert Job.objects.count() == 1
    statuses = sorted(status for _, status, _ in answers)
    assert statuses == [200] * 20 + [202] * 20
    assert PriceBar.objects.filter(symbol__ticker="RACE").count() == 100


@pytest.mark.django_db(transaction=True)
def test_concurrent_fetches_of_an_unknown_symbol_share_its_error(
    postgres_only, provider_settings, fake_av, api_key
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    provider_settings.RATELIMIT_WORK = "1000/m"
    fake_av.script(
        FakeResponse.slow(
            PROVIDER_DELAY, FakeResponse.sample("error_invalid_symbol.json")
        )
    )

    answers = concurrent_requests(api_key, ["/fetch/NOPE/"] * 10)

    assert len(fake_av.price_requests) == 1
    assert {(status, body["error"]["code"]) for _, status, body in answers} == {
        (404, "unknown_symbol")
    }
    shared = [body["error"]["details"].get("from_other_fetch") for *_, body in answers]
    assert sorted(shared, key=bool) == [None] + [True] * 9


@pytest.mark.django_db
def test_a_fetch_right_after_another_is_answered_from_its_bars(
    provider_settings, fake_av
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    first = prices_fetch(ticker="IBM")
    again = prices_fetch(ticker="IBM")

    assert len(fake_av.price_requests) == 1
    assert (first.deduplicated, again.deduplicated) == (False, True)
    assert (again.received, again.inserted, again.updated) == (0, 0, 0)
    assert (again.first_date, again.last_date) == (first.first_date, first.last_date)
    assert again.notes[0].startswith("IBM was fetched moments ago (at ")


@pytest.mark.django_db
def test_a_fetch_after_the_reuse_window_asks_the_provider(provider_settings, fake_av):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    prices_fetch(ticker="IBM")
    again = prices_fetch(ticker="IBM", reuse_within=timedelta(0))

    assert len(fake_av.price_requests) == 2
    assert not again.deduplicated


@pytest.mark.django_db
def test_a_failure_before_this_fetch_began_is_not_reused(provider_settings, fake_av):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(FakeResponse.sample("error_invalid_symbol.json"))
    with pytest.raises(SymbolNotFound):
        prices_fetch(ticker="IBM")

    result = prices_fetch(ticker="IBM")

    assert len(fake_av.price_requests) == 2
    assert result.inserted == 5
