"""manage.py fetch_prices and create_api_token, as a shell user runs them."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from core.models import ApiToken, PriceBar

pytestmark = pytest.mark.django_db


def test_fetch_prices_prints_one_line_per_symbol(provider_settings, fake_av):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.generate_series("MSFT", days=20, end=date(2024, 6, 7))
    out = io.StringIO()

    call_command("fetch_prices", "ibm", "MSFT", stdout=out)

    lines = [line for line in out.getvalue().splitlines() if not line.startswith("  ")]
    assert lines[0].startswith("IBM: 5 received, 5 inserted, 0 updated")
    assert lines[1].startswith("MSFT: 20 received, 20 inserted")
    assert PriceBar.objects.count() == 25


def test_fetch_prices_fails_when_any_symbol_fails(provider_settings, fake_av):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 of 2 symbols failed"):
        call_command("fetch_prices", "IBM", "NOPE", stdout=out, stderr=err)

    assert "NOPE: failed (unknown_symbol)" in err.getvalue()
    assert "IBM: 5 received" in out.getvalue()


def test_create_api_token_prints_a_working_token_once(staff_user):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", staff_user.username, stdout=out, stderr=err)
    raw = out.getvalue().strip()

    token = ApiToken.objects.get()
    assert raw.startswith(token.prefix)
    assert raw not in token.key_hash
    assert Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/jobs/1/").status_code == 404
    assert "shown only once" in err.getvalue()


def test_create_api_token_for_an_unknown_user_fails():
    with pytest.raises(CommandError, match="no user"):
        call_command("create_api_token", "ghost")
