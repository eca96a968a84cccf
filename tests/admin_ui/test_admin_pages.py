"""Symbol pages show their data, search and add; Fetch queues jobs; a token shows once."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from core.models import ApiToken, Job, PriceBar, Symbol
from core.services import api_token_create, job_create
from tests.factories import make_bars, make_symbol

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(admin_user):
    symbol = make_symbol("IBM", name="International Business Machines")
    make_bars(symbol, start=date(2024, 6, 3), closes=[170.0, 171.5, 169.25])
    job_create(kind=Job.Kind.FETCH, ticker="IBM", symbol=symbol)
    api_token_create(user=admin_user, name="ci")
    return symbol


def test_the_site_is_branded_and_lists_symbols_with_their_data(admin_client, populated):
    page = admin_client.get(reverse("admin:core_symbol_changelist")).content.decode()
    assert "StockDesk" in page
    assert "IBM" in page
    assert "169.25" in page  # the last close
    detail = admin_client.get(reverse("admin:core_symbol_change", args=[populated.pk]))
    assert "3 bars from 2024-06-03 to 2024-06-05" in detail.content.decode()


def test_symbols_can_be_searched_and_filtered(admin_client, populated):
    make_symbol("MSFT", name="Microsoft", is_active=False)
    url = reverse("admin:core_symbol_changelist")
    found = admin_client.get(url, {"q": "micro"}).content.decode()
    assert "MSFT" in found and "International Business" not in found
    active = admin_client.get(url, {"is_active__exact": "1"}).content.decode()
    assert "IBM" in active and "Microsoft" not in active


def test_adding_a_symbol_normalises_the_ticker(admin_client):
    response = admin_client.post(
        reverse("admin:core_symbol_add"),
        {
            "ticker": "aapl",
            "name": "Apple",
            "exchange": "NASDAQ",
            "currency": "USD",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Symbol.objects.get().ticker == "AAPL"


def test_fetch_action_queues_one_job_per_symbol(
    admin_client, provider_settings, fake_av, django_capture_on_commit_callbacks
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.generate_series("MSFT", days=10, end=date(2024, 6, 7))
    symbols = [make_symbol("IBM"), make_symbol("MSFT")]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:core_symbol_changelist"),
            {"action": "fetch_prices", "_selected_action": [s.pk for s in symbols]},
            follow=True,
        )

    assert "Queued 2 fetch job(s)" in response.content.decode()
    jobs = Job.objects.order_by("ticker")
    assert [(j.ticker, j.kind) for j in jobs] == [("IBM", "fetch"), ("MSFT", "fetch")]
    # Sync mode in the test settings: the jobs ran when the request committed.
    assert {j.status for j in jobs} == {Job.Status.SUCCEEDED}
    assert PriceBar.objects.count() == 15
    jobs_page = admin_client.get(reverse("admin:core_job_changelist")).content.decode()
    assert "Succeeded" in jobs_page


def test_a_new_api_token_is_shown_once(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:core_apitoken_add"),
        {"user": admin_user.pk, "name": "laptop"},
        follow=True,
    )
    page = response.content.decode()
    token = ApiToken.objects.get(name="laptop")
    assert f"{token.prefix}" in page and "not shown again" in page
    again = admin_client.get(reverse("admin:core_apitoken_change", args=[token.pk]))
    assert "not shown again" not in again.content.decode()
