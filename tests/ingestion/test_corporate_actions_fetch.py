"""Corporate actions fetched with the prices: stored once a day, idempotent, never
failing the price fetch, giving way to price fetches in the daily budget."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import CorporateAction, Job, PriceBar, Symbol
from core.selectors import bars_adjusted, bars_frame
from core.services import job_create
from ingestion.models import ProviderDailyUsage
from ingestion.services.fetch import prices_fetch
from ingestion.tasks import refresh_watchlist_task
from tests.factories import make_symbol
from tests.fakes.alphavantage import (
    SAMPLE_KEY,
    FakeAlphaVantage,
    FakeResponse,
    dividend_row,
    split_row,
)

pytestmark = pytest.mark.django_db

NO_REUSE = timedelta(0)
IBM_ACTIONS = [
    ("split", date(1997, 5, 28), Decimal("2.000000"), None),
    ("split", date(1999, 5, 27), Decimal("2.000000"), None),
    ("dividend", date(2024, 5, 9), None, Decimal("1.670000")),
    ("dividend", date(2024, 11, 12), None, Decimal("1.670000")),
]


@pytest.fixture(autouse=True)
def free_key(provider_settings) -> None:
    """The fake, and a key known as free: it asks for prices once (compact), so each
    fetch's calls are exactly its prices' one and the actions' two."""
    provider_settings.ALPHA_VANTAGE_PLAN = "free"


def stored_actions(ticker: str) -> list[tuple]:
    return list(
        CorporateAction.objects.filter(symbol__ticker=ticker)
        .order_by("date")
        .values_list("kind", "date", "split_factor", "dividend_amount")
    )


def functions(fake: FakeAlphaVantage) -> list[str]:
    return [request["function"] for request in fake.requests]


def a_day_later(ticker: str) -> None:
    """As if the symbol's actions had been asked for yesterday."""
    Symbol.objects.filter(ticker=ticker).update(
        actions_fetched_at=timezone.now() - timedelta(days=1)
    )


def calls_today() -> int:
    today = datetime.now(tz=UTC).date()
    return sum(
        ProviderDailyUsage.objects.filter(day=today).values_list("calls", flat=True)
    )


def ibm_price_answer() -> FakeResponse:
    return FakeResponse.sample("time_series_daily_IBM_compact.json")


def test_a_first_fetch_stores_prices_then_splits_and_dividends(
    provider_settings, fake_av
):
    result = prices_fetch(ticker="IBM")

    assert functions(fake_av) == ["TIME_SERIES_DAILY", "SPLITS", "DIVIDENDS"]
    assert PriceBar.objects.filter(symbol__ticker="IBM").count() == 5
    assert stored_actions("IBM") == IBM_ACTIONS
    assert set(CorporateAction.objects.values_list("source", flat=True)) == {
        "alpha_vantage"
    }
    symbol = Symbol.objects.get(ticker="IBM")
    assert symbol.actions_available is True
    assert symbol.actions_fetched_at is not None
    assert result.corporate_actions == {
        "status": "stored",
        "received": 4,
        "inserted": 4,
        "updated": 0,
        "fetched_at": symbol.actions_fetched_at.isoformat(),
        "available": True,
    }
    assert (
        "Splits of IBM recorded: 1997-05-28 (factor 2), 1999-05-27 (factor 2); "
        "split-adjusted prices before each are divided by its factor."
    ) in result.notes
    assert calls_today() == 3


def test_actions_are_asked_for_at_most_once_a_day(provider_settings, fake_av):
    prices_fetch(ticker="IBM")
    fake_av.requests.clear()

    again = prices_fetch(ticker="IBM", reuse_within=NO_REUSE)

    assert functions(fake_av) == ["TIME_SERIES_DAILY"]
    assert again.corporate_actions is not None
    assert again.corporate_actions["status"] == "not_due"
    assert again.corporate_actions["available"] is True
    assert not any("splits and dividends" in note for note in again.notes)


def test_storing_the_same_answer_again_writes_nothing(provider_settings, fake_av):
    prices_fetch(ticker="IBM")
    before = list(CorporateAction.objects.order_by("pk").values())
    a_day_later("IBM")

    again = prices_fetch(ticker="IBM", reuse_within=NO_REUSE)

    assert functions(fake_av)[-2:] == ["SPLITS", "DIVIDENDS"]
    assert again.corporate_actions is not None
    assert again.corporate_actions["status"] == "stored"
    assert (
        again.corporate_actions["inserted"],
        again.corporate_actions["updated"],
    ) == (0, 0)
    assert list(CorporateAction.objects.order_by("pk").values()) == before
    assert not any(note.startswith("Splits of IBM") for note in again.notes)


def test_a_corrected_amount_updates_exactly_that_row(provider_settings, fake_av):
    prices_fetch(ticker="IBM")
    a_day_later("IBM")
    fake_av.set_actions(
        "IBM",
        dividends=[
            dividend_row(date(2024, 11, 12), "1.67"),
            dividend_row(date(2024, 5, 9), "1.66"),
        ],
    )

    again = prices_fetch(ticker="IBM", reuse_within=NO_REUSE)

    assert again.corporate_actions is not None
    assert (
        again.corporate_actions["inserted"],
        again.corporate_actions["updated"],
    ) == (0, 1)
    row = CorporateAction.objects.get(kind="dividend", date=date(2024, 5, 9))
    assert row.dividend_amount == Decimal("1.66")


FAILURES = {
    "daily limit": [FakeResponse.sample("information_rate_limit_daily_key_echo.json")],
    "burst limit": [FakeResponse.sample("information_burst_limit.json")],
    "empty object": [FakeResponse.json_body({})],
    "error message": [FakeResponse.sample("error_invalid_symbol.json")],
    "unknown shape": [FakeResponse.json_body({"symbol": "IBM", "splits": []})],
    "outage": [FakeResponse.html(503)] * 3,
}


@pytest.mark.parametrize("failure", list(FAILURES))
def test_a_failed_actions_call_keeps_the_prices_and_marks_actions_missing(
    provider_settings, fake_av, failure
):
    fake_av.script(ibm_price_answer(), *FAILURES[failure])

    result = prices_fetch(ticker="IBM")

    assert result.inserted == 5
    assert PriceBar.objects.filter(symbol__ticker="IBM").count() == 5
    assert CorporateAction.objects.count() == 0
    symbol = Symbol.objects.get(ticker="IBM")
    assert symbol.actions_available is False
    assert symbol.actions_fetched_at is not None
    assert result.corporate_actions is not None
    assert result.corporate_actions["status"] == "failed"
    assert result.corporate_actions["available"] is False
    note = next(n for n in result.notes if "splits and dividends" in n)
    assert note.startswith("The splits and dividends of IBM could not be fetched (")
    assert note.endswith(
        "nothing of them was stored. The prices are stored; until tomorrow's fetch, "
        "jumps like a split are only suspected."
    )
    assert SAMPLE_KEY not in " ".join(result.notes)
    # A failure is not retried the same day: the budget is small.
    fake_av.requests.clear()
    prices_fetch(ticker="IBM", reuse_within=NO_REUSE)
    assert functions(fake_av) == ["TIME_SERIES_DAILY"]


def test_a_failed_dividends_call_stores_no_splits_either(provider_settings, fake_av):
    fake_av.set_actions("IBM", dividends=[dividend_row(date(2024, 5, 9), "abc")])

    result = prices_fetch(ticker="IBM")

    assert functions(fake_av) == ["TIME_SERIES_DAILY", "SPLITS", "DIVIDENDS"]
    assert CorporateAction.objects.count() == 0
    assert Symbol.objects.get(ticker="IBM").actions_available is False
    assert any("amount is 'abc', not a number" in note for note in result.notes)


def test_a_later_good_answer_makes_actions_available_again(provider_settings, fake_av):
    fake_av.script(ibm_price_answer(), FakeResponse.json_body({}))
    prices_fetch(ticker="IBM")
    a_day_later("IBM")

    prices_fetch(ticker="IBM", reuse_within=NO_REUSE)

    assert Symbol.objects.get(ticker="IBM").actions_available is True
    assert len(stored_actions("IBM")) == 4


def test_when_the_budget_holds_only_the_prices_the_actions_are_skipped(
    provider_settings, fake_av
):
    provider_settings.ALPHA_VANTAGE_DAILY_LIMIT = 2

    result = prices_fetch(ticker="IBM")

    assert functions(fake_av) == ["TIME_SERIES_DAILY"]
    assert result.inserted == 5
    symbol = Symbol.objects.get(ticker="IBM")
    assert (symbol.actions_fetched_at, symbol.actions_available) == (None, None)
    assert result.corporate_actions is not None
    assert result.corporate_actions["status"] == "skipped"
    assert (
        "The splits and dividends of IBM were not asked for: today's provider budget "
        "is kept for price fetches (1 of 2 calls used). The prices are stored; the "
        "next fetch asks for them."
    ) in result.notes
    assert calls_today() == 1


@pytest.mark.parametrize(("waiting", "asked"), [(22, True), (23, False)])
def test_calls_are_kept_for_the_price_fetches_queued(
    provider_settings, fake_av, waiting, asked
):
    for number in range(waiting):
        job_create(kind=Job.Kind.FETCH, ticker=f"Q{number}")

    result = prices_fetch(ticker="IBM")

    # 25 calls: 1 for these prices, 1 for each fetch waiting, 2 for the actions.
    assert result.corporate_actions is not None
    assert result.corporate_actions["status"] == ("stored" if asked else "skipped")
    expected = (
        ["TIME_SERIES_DAILY", "SPLITS", "DIVIDENDS"] if asked else ["TIME_SERIES_DAILY"]
    )
    assert functions(fake_av) == expected


def test_a_split_inside_the_history_is_stored_and_adjusts_the_series(
    provider_settings, fake_av
):
    end = date(2024, 6, 7)
    split_day = date(2024, 4, 1)
    fake_av.generate_series("SPLT", days=90, end=end, seed=4, split=(split_day, 4))
    fake_av.generate_series("PLAIN", days=90, end=end, seed=4)

    prices_fetch(ticker="SPLT")
    prices_fetch(ticker="PLAIN")

    assert stored_actions("SPLT") == [("split", split_day, Decimal("4.000000"), None)]
    traded = bars_frame(Symbol.objects.get(ticker="SPLT"))
    plain = bars_frame(Symbol.objects.get(ticker="PLAIN"))
    before = traded["date"] < split_day
    # As traded: the bars before the split are at four times the price.
    ratio = traded.loc[before, "close"].astype(float) / plain.loc[
        before, "close"
    ].astype(float)
    assert ratio.round(3).unique().tolist() == [4.0]
    adjusted = bars_adjusted(Symbol.objects.get(ticker="SPLT")).frame
    for column in ("open", "high", "low", "close"):
        difference = adjusted[column].astype(float) - plain[column].astype(float)
        assert difference.abs().max() < 0.0001
    assert (adjusted["volume"] - plain["volume"]).abs().max() <= 2


def test_a_row_staff_recorded_is_kept(provider_settings, fake_av):
    symbol = make_symbol("IBM")
    CorporateAction.objects.create(
        symbol=symbol,
        kind="split",
        date=date(1999, 5, 27),
        split_factor=Decimal(3),
        source=CorporateAction.Source.CONFIRMED,
    )

    result = prices_fetch(ticker="IBM")

    row = CorporateAction.objects.get(kind="split", date=date(1999, 5, 27))
    assert (row.split_factor, row.source) == (Decimal(3), "confirmed")
    assert (
        "1 action of IBM recorded by staff (import or confirmed) differ from "
        "alpha_vantage's; staff's are kept."
    ) in result.notes
    # Only what was stored is told as recorded.
    assert (
        "Splits of IBM recorded: 1997-05-28 (factor 2); split-adjusted prices before "
        "each are divided by its factor."
    ) in result.notes
    assert len(stored_actions("IBM")) == 4


def test_the_request_deadline_skips_the_actions_not_the_prices(
    provider_settings, fake_av
):
    fake_av.script(
        ibm_price_answer(), FakeResponse.slow(3.0, FakeResponse.json_body({}))
    )

    result = prices_fetch(ticker="IBM", deadline=time.monotonic() + 1.0)

    assert result.inserted == 5
    assert result.corporate_actions is not None
    assert result.corporate_actions["status"] == "skipped"
    assert any("this request's time ran out" in note for note in result.notes)
    symbol = Symbol.objects.get(ticker="IBM")
    assert symbol.actions_available is None


def test_the_fetch_endpoint_answers_the_actions_block(
    provider_settings, token_client, fake_av
):
    fake_av.script(
        ibm_price_answer(), FakeResponse.sample("information_rate_limit_daily.json")
    )

    body = token_client.get("/fetch/IBM/").json()

    assert body["inserted"] == 5
    assert body["corporate_actions"]["status"] == "failed"
    assert body["corporate_actions"]["available"] is False
    assert any("Alpha Vantage rate limit reached" in note for note in body["notes"])

    again = token_client.get("/fetch/IBM/").json()
    assert again["deduplicated"] is True
    assert again["corporate_actions"] is None


def test_a_fetch_job_stores_the_actions(
    provider_settings, token_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        url = token_client.get("/fetch/IBM/?async=1").json()["url"]

    state = token_client.get(url).json()
    assert state["status"] == "succeeded"
    assert state["result"]["corporate_actions"]["status"] == "stored"
    assert len(stored_actions("IBM")) == 4


def test_the_nightly_refresh_fetches_actions_with_spare_calls_only(
    provider_settings, fake_av, django_capture_on_commit_callbacks
):
    provider_settings.ALPHA_VANTAGE_DAILY_LIMIT = 4
    end = date(2024, 6, 7)
    for seed, ticker in enumerate(("AAA", "BBB", "CCC")):
        make_symbol(ticker)
        fake_av.generate_series(ticker, days=20, end=end, seed=seed)
    fake_av.set_actions("AAA", splits=[split_row(date(2024, 5, 20), 2)])

    with django_capture_on_commit_callbacks(execute=True):
        assert refresh_watchlist_task() == {"queued": ["AAA", "BBB", "CCC"]}

    # 4 calls: three symbols' prices first; one left is not enough for two actions calls.
    assert [j.status for j in Job.objects.order_by("ticker")] == ["succeeded"] * 3
    assert functions(fake_av) == ["TIME_SERIES_DAILY"] * 3
    assert CorporateAction.objects.count() == 0

    fake_av.requests.clear()
    provider_settings.ALPHA_VANTAGE_DAILY_LIMIT = 25
    Symbol.objects.update(last_fetched_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        refresh_watchlist_task()

    assert functions(fake_av) == ["TIME_SERIES_DAILY", "SPLITS", "DIVIDENDS"] * 3
    assert stored_actions("AAA") == [("split", date(2024, 5, 20), Decimal(2), None)]
    assert set(Symbol.objects.values_list("actions_available", flat=True)) == {True}


def test_the_fake_cli_refuses_a_bad_split_flag(capsys):
    from tests.fakes.alphavantage import main

    with pytest.raises(SystemExit) as info:
        main(["--split", "ACME-2024-01-02-4"])

    assert info.value.code == 2
    assert "expected SYMBOL:YYYY-MM-DD:FACTOR" in capsys.readouterr().err
