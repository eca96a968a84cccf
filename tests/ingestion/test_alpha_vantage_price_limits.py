"""A bar is refused unless each price fits PriceBar's NUMERIC(14, 4) as stored.

Prices are rounded to 4 decimals (half to even) when stored, so the check is made on
the rounded value: 9999999999.99995 would be stored as 10**10 and overflow.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.market import PRICE_LIMIT
from core.models import Job, PriceBar, Symbol
from ingestion.providers.errors import MalformedResponse
from tests.fakes.alphavantage import FakeAlphaVantage, FakeResponse
from tests.ingestion.provider_helpers import Build, ibm_rows_with

DAY = "2024-06-05"

REFUSED = [
    ("high", "10000000000.0000", "too large to store"),
    ("high", "10000000000", "too large to store"),
    # Rounds (half to even) to 10000000000.0000.
    ("high", "9999999999.99995", "too large to store"),
    # More digits than Decimal's default context can round to 4 decimals.
    ("high", "123456789012345678901234567890.5", "too large to store"),
    ("open", "10000000000.0000", "too large to store"),
    ("close", "99999999999", "too large to store"),
    ("low", "0.00004", "which is 0 at the 4 decimals stored"),
    # Other scripts' digits: Decimal() reads them, \d matches them.
    ("open", "\u0661\u0667\u0660.\u0665", "not a number"),
    ("close", "\uff11\uff17\uff10", "not a number"),
    ("volume", "\u0661\u0660\u0660", "not a whole number"),
]


@pytest.mark.parametrize(("field", "value", "problem"), REFUSED)
def test_a_price_that_cannot_be_stored_is_a_malformed_answer(
    fake_av: FakeAlphaVantage, build: Build, field: str, value: str, problem: str
) -> None:
    fake_av.script(FakeResponse.series(ibm_rows_with(DAY, **{field: value})))

    with pytest.raises(MalformedResponse) as info:
        build(plan="free").fetch_daily("IBM")

    error = info.value
    assert error.details["date"] == DAY
    assert error.details["field"] == field
    assert f"on {DAY}: {field} is " in error.message
    assert problem in error.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("high", "stored"),
    [
        ("9999999999.9999", Decimal("9999999999.9999")),
        ("9999999999.99994999", Decimal("9999999999.9999")),
    ],
)
def test_the_largest_storable_price_is_accepted_and_stored(
    provider_settings, fake_av, token_client, high, stored
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(FakeResponse.series(ibm_rows_with(DAY, high=high)))

    response = token_client.get("/fetch/IBM/")

    assert response.status_code == 200, response.content
    bar = PriceBar.objects.get(symbol__ticker="IBM", date=DAY)
    assert bar.high == stored < PRICE_LIMIT


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["10000000000.0000", "9999999999.99995"])
def test_fetch_answers_a_provider_error_and_stores_nothing(
    provider_settings, fake_av, token_client, value
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(FakeResponse.series(ibm_rows_with(DAY, high=value)))

    response = token_client.get("/fetch/IBM/")

    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "provider_bad_response"
    assert f"on {DAY}: high is '{value}', too large to store" in error["message"]
    assert error["details"]["field"] == "high"
    assert not PriceBar.objects.exists()
    assert not Symbol.objects.filter(ticker="IBM").exists()


@pytest.mark.django_db
def test_an_async_fetch_of_a_too_large_price_fails_its_job(
    provider_settings, fake_av, token_client, django_capture_on_commit_callbacks
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(FakeResponse.series(ibm_rows_with(DAY, close="10000000000")))

    with django_capture_on_commit_callbacks(execute=True):
        response = token_client.get("/fetch/IBM/?async=1")

    assert response.status_code == 202
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert job.error_code == "provider_bad_response"
    assert f"on {DAY}: close is '10000000000', too large to store" in job.error
    assert not PriceBar.objects.exists()
