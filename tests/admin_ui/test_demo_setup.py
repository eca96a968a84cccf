"""manage.py demo_setup: what `make demo` runs before serving the site."""

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


def test_demo_setup_prints_a_working_login_and_loads_sample_prices(tmp_path):
    output = run(tmp_path)

    saved = json.loads((tmp_path / "login.json").read_text())
    assert f"password: {saved['password']}" in output
    assert "http://127.0.0.1:8000/admin/" in output
    user = get_user_model().objects.get(username="demo")
    assert user.is_staff and user.check_password(saved["password"])
    tickers = set(PriceBar.objects.values_list("symbol__ticker", flat=True))
    assert len(tickers) >= 3
    assert set(PriceBar.objects.values_list("source", flat=True)) == {"sample"}
    # Two years of weekdays per symbol, by default.
    assert PriceBar.objects.filter(symbol__ticker="AAPL").count() > 500
    client = Client()
    assert client.login(username="demo", password=saved["password"])
    assert client.get("/admin/").status_code == 200
    api = Client(HTTP_AUTHORIZATION=f"Bearer {saved['token']}")
    assert api.get("/jobs/1/").status_code == 404  # authenticated, no such job
    # A trained, active model per symbol, so /predict/ works straight away.
    assert TrainedModel.objects.filter(is_active=True).count() == len(tickers)
    forecast = api.get("/predict/AAPL/")
    assert forecast.status_code == 200
    assert len(forecast.json()["predictions"]) == 30


def test_running_demo_setup_again_reuses_what_exists(tmp_path):
    run(tmp_path)
    first = json.loads((tmp_path / "login.json").read_text())
    bars = PriceBar.objects.count()

    output = run(tmp_path)

    assert json.loads((tmp_path / "login.json").read_text()) == first
    assert f"password: {first['password']}" in output
    assert PriceBar.objects.count() == bars
    assert ApiToken.objects.count() == 1
    assert TrainedModel.objects.count() == len(SAMPLE_NAMES)  # not retrained
    assert "0 new, 0 changed" in output
