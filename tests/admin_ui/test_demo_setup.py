"""manage.py demo_setup: the login and sample prices `make demo` sets up before
serving the site (the history it seeds: test_demo_history.py)."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from core.models import ApiToken, PriceBar
from ingestion.providers.sample import SAMPLE_NAMES
from ml.models import TrainedModel

pytestmark = pytest.mark.django_db


def run(tmp_path) -> str:
    out = io.StringIO()
    call_command("demo_setup", credentials=str(tmp_path / "login.json"), stdout=out)
    return out.getvalue()


def test_demo_setup_keeps_a_working_login_loads_prices_and_reuses_both(tmp_path):
    output = run(tmp_path)

    saved = json.loads((tmp_path / "login.json").read_text())
    # scripts/demo.sh prints the login once the site answers; the setup names the
    # file it is kept in and leaves the password out of its own output.
    assert f"Login of user 'demo' kept in {tmp_path / 'login.json'}" in output
    assert saved["password"] not in output
    assert (tmp_path / "login.json").stat().st_mode & 0o777 == 0o600
    user = get_user_model().objects.get(username="demo")
    assert (
        user.is_staff and user.is_superuser and user.check_password(saved["password"])
    )
    tickers = set(PriceBar.objects.values_list("symbol__ticker", flat=True))
    assert tickers == set(SAMPLE_NAMES)
    assert set(PriceBar.objects.values_list("source", flat=True)) == {"sample"}
    # Two years of weekdays per symbol, by default.
    assert PriceBar.objects.filter(symbol__ticker="AAPL").count() > 500
    client = Client()
    assert client.login(username="demo", password=saved["password"])
    assert client.get("/admin/").status_code == 200
    api = Client(HTTP_AUTHORIZATION=f"Bearer {saved['token']}")
    assert api.get("/jobs/999999/").status_code == 404  # authenticated, no such job
    # A trained, active model per symbol, so /predict/ works straight away, and an
    # ETS model beside it for the Models tab's leaderboard.
    active = TrainedModel.objects.filter(is_active=True)
    assert set(active.values_list("method", flat=True)) == {"linear_regression"}
    assert active.count() == len(tickers)
    assert TrainedModel.objects.filter(method="ets").count() == len(tickers)
    forecast = api.get("/predict/AAPL/")
    assert forecast.status_code == 200
    assert len(forecast.json()["predictions"]) == 30
    bars = PriceBar.objects.count()

    output = run(tmp_path)

    assert json.loads((tmp_path / "login.json").read_text()) == saved
    assert PriceBar.objects.count() == bars
    assert ApiToken.objects.count() == 1
    assert TrainedModel.objects.count() == 2 * len(SAMPLE_NAMES)  # not retrained
    assert "0 new, 0 changed" in output
