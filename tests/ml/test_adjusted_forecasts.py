"""Models and forecasts on adjusted prices, and the mode each one states and keeps."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.models import PriceBar
from ml.models import PredictionRun, TrainedModel
from ml.selectors import forecast_to_dict
from ml.services import model_train
from tests.factories import make_bars
from tests.split_series import SPLIT_DAY, plain_symbol, record_action, split_symbol

pytestmark = pytest.mark.django_db

SPLIT_ACTION = {
    "kind": "split",
    "date": SPLIT_DAY.isoformat(),
    "factor": "4",
    "price_factor": "0.25",
}


def predict(client, ticker: str, query: str = "") -> dict:
    response = client.get(f"/predict/{ticker}/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_model_and_forecast_across_a_recorded_split_match_the_series_without_it(
    token_client,
):
    plain_symbol()
    split_symbol()
    plain_model = model_train(ticker="PLAIN")
    split_model = model_train(ticker="SPLT")

    without = predict(token_client, "PLAIN")
    adjusted = predict(token_client, "SPLT")

    assert (split_model.adjust, split_model.adjustment) == (
        "splits",
        {"mode": "splits", "actions": [SPLIT_ACTION]},
    )
    assert split_model.evaluation == plain_model.evaluation
    assert [p["predicted_close"] for p in adjusted["predictions"]] == [
        p["predicted_close"] for p in without["predictions"]
    ]
    assert adjusted["adjustment"] == {"mode": "splits", "actions": [SPLIT_ACTION]}
    assert adjusted["model"]["adjustment"] == adjusted["adjustment"]
    assert adjusted["warnings"] == []
    run = PredictionRun.objects.get(pk=adjusted["id"])
    assert (run.adjust, run.adjustment) == ("splits", adjusted["adjustment"])


def test_adjust_none_is_its_own_forecast_and_says_what_it_read(token_client):
    split_symbol()
    model_train(ticker="SPLT")

    adjusted = predict(token_client, "SPLT")
    traded = predict(token_client, "SPLT", "?adjust=none")
    again = predict(token_client, "SPLT", "?adjust=none")

    assert traded["id"] != adjusted["id"] and again["id"] == traded["id"]
    assert traded["adjustment"] == {"mode": "none", "actions": []}
    assert traded["warnings"] == [
        f"Prices are as traded (adjust=none): the 4:1 split of SPLT on "
        f"{SPLIT_DAY.isoformat()} shows as a jump.",
        "Model v1 was trained on split-adjusted prices (adjust=splits); this "
        "forecast reads as-traded prices (adjust=none).",
    ]
    assert sorted(PredictionRun.objects.values_list("adjust", flat=True)) == [
        "none",
        "splits",
    ]


def test_an_invalid_adjust_is_400_and_stores_no_forecast(token_client):
    split_symbol()
    model_train(ticker="SPLT")

    response = token_client.get("/predict/SPLT/?adjust=adjusted")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": "adjust"}
    assert not PredictionRun.objects.exists()


def test_a_split_after_the_forecast_does_not_show_as_its_error(token_client):
    """Actual closes are joined in the forecast's price basis: a 2:1 split on the
    first forecast day halves the traded price, not the company."""
    symbol = split_symbol()
    model_train(ticker="SPLT")
    body = predict(token_client, "SPLT")
    first = body["predictions"][0]
    day = date.fromisoformat(first["date"])
    traded_close = round(first["predicted_close"] / 2, 2)
    make_bars(symbol, start=day, closes=[traded_close])
    record_action(symbol, kind="split", day=day, split_factor=Decimal(2))

    arrived = forecast_to_dict(PredictionRun.objects.get(pk=body["id"]))["predictions"][
        0
    ]

    assert PriceBar.objects.get(symbol=symbol, date=day).close == Decimal(
        str(traded_close)
    )
    assert arrived["actual_close"] == pytest.approx(traded_close * 2, abs=0.0001)
    assert abs(arrived["error"]) < 0.02
    assert arrived["inside_band"] is True


def test_the_train_command_trains_on_the_series_asked_for(acme):
    out = io.StringIO()
    call_command("train_model", "--symbol", "ACME", "--adjust", "none", stdout=out)

    model = TrainedModel.objects.get()
    assert model.adjust == "none"
    assert model.adjustment == {"mode": "none", "actions": []}
    assert "ACME: model v1 active" in out.getvalue()


def test_a_queued_forecast_reads_the_series_of_its_job(
    django_capture_on_commit_callbacks,
):
    from core.models import Job
    from core.services import job_enqueue

    symbol = split_symbol()
    model_train(ticker="SPLT")
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.PREDICT, symbol=symbol, parameters={"adjust": "total"}
        )

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert PredictionRun.objects.get(pk=job.result["forecast"]).adjust == "total"
