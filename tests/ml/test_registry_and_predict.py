"""The model registry (skops, hash and version checks) and /predict/."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta

import pytest
import skops.io
from django.core.management import CommandError, call_command

from core.models import PriceBar
from ml.models import Prediction, PredictionRun, TrainedModel
from ml.selectors import forecast_to_dict
from ml.services import (
    ModelUnusable,
    forecast_create,
    model_activate,
    model_load,
    model_train,
)
from tests.factories import ACME_START, make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


def closes(n: int) -> list[float]:
    return price_closes(n, drift=0.0003, volatility=0.012, seed=3)


@pytest.fixture
def trained(acme):
    return model_train(ticker="ACME")


class NotAllowed:
    """A type skops does not trust by default."""

    def __init__(self) -> None:
        self.payload = "anything"


def test_training_stores_an_evaluated_active_model(trained, acme):
    assert trained.is_active and trained.version == 1
    assert trained.sha256 == hashlib.sha256(bytes(trained.artifact)).hexdigest()
    assert trained.train_start == ACME_START  # its first bar
    assert set(trained.evaluation["horizons"]) == {"1", "5", "30"}
    assert len(trained.residual_quantiles["lower"]) == 30
    assert model_load(trained).predict  # a working pipeline


def test_a_new_model_becomes_active_and_staff_can_switch_back(trained, acme):
    second = model_train(ticker="ACME")
    trained.refresh_from_db()
    assert (second.version, second.is_active, trained.is_active) == (2, True, False)
    model_activate(model=trained)
    second.refresh_from_db()
    trained.refresh_from_db()
    assert trained.is_active and not second.is_active


def test_a_tampered_artifact_is_refused(trained):
    data = bytearray(trained.artifact)
    data[-10] ^= 0xFF
    TrainedModel.objects.filter(pk=trained.pk).update(artifact=bytes(data))
    trained.refresh_from_db()
    with pytest.raises(ModelUnusable, match="integrity check"):
        model_load(trained)


def test_a_model_from_another_scikit_learn_is_refused(trained):
    TrainedModel.objects.filter(pk=trained.pk).update(sklearn_version="0.24.2")
    trained.refresh_from_db()
    with pytest.raises(ModelUnusable, match=r"scikit-learn 0\.24\.2"):
        model_load(trained)


def test_an_artifact_with_untrusted_types_is_refused_even_with_a_good_hash(trained):
    evil = skops.io.dumps(NotAllowed())
    TrainedModel.objects.filter(pk=trained.pk).update(
        artifact=evil, sha256=hashlib.sha256(evil).hexdigest()
    )
    trained.refresh_from_db()
    with pytest.raises(ModelUnusable, match="could not be loaded safely"):
        model_load(trained)


def test_training_needs_enough_history():
    short = make_symbol("TINY")
    make_bars(short, start=date(2024, 1, 1), closes=closes(100))
    with pytest.raises(Exception, match="needs at least 239") as excinfo:
        model_train(ticker="TINY")
    assert excinfo.value.status == 422


def test_predict_answers_30_trading_days_with_model_and_evaluation(
    token_client, trained
):
    response = token_client.get("/predict/acme/")

    assert response.status_code == 200
    body = response.json()
    assert body["model"]["id"] == trained.pk and body["model"]["version"] == 1
    assert body["as_of"] == str(PriceBar.objects.order_by("date").last().date)
    rows = body["predictions"]
    assert len(rows) == 30 and [r["step"] for r in rows] == list(range(1, 31))
    days = [date.fromisoformat(r["date"]) for r in rows]
    assert all(d.weekday() < 5 for d in days) and days == sorted(set(days))
    assert all(r["lower"] <= r["predicted_close"] <= r["upper"] for r in rows)
    verdicts = {h["horizon_days"]: h["verdict"] for h in body["evaluation"]["horizons"]}
    assert set(verdicts) == {1, 5, 30}
    assert set(verdicts.values()) <= {
        "beats naive (p < 0.05)",
        "no evidence of skill",
        "worse than naive (p < 0.05)",
    }
    # The verdict comes first in the answer, before any forecast figure.
    assert next(iter(body)) == "verdict"
    assert body["verdict"]["summary"] in set(verdicts.values())
    assert PredictionRun.objects.count() == 1 and Prediction.objects.count() == 30


def test_the_forecast_skips_exchange_holidays():
    symbol = make_symbol("HOLI")
    # 520 weekday bars ending on Wed 2025-11-26: the next session skips Thanksgiving.
    start = date(2025, 11, 26) - timedelta(days=520 * 7 // 5 + 3)
    make_bars(symbol, start=start, closes=closes(600))
    PriceBar.objects.filter(symbol=symbol, date__gt=date(2025, 11, 26)).delete()
    model_train(ticker="HOLI")
    run, _ = forecast_create(ticker="HOLI")
    dates = list(run.predictions.values_list("date", flat=True))
    assert run.as_of == date(2025, 11, 26)
    assert dates[:2] == [date(2025, 11, 28), date(2025, 12, 1)]
    assert date(2025, 12, 25) not in dates


def test_the_same_forecast_is_stored_once(token_client, trained):
    first = token_client.get("/predict/ACME/").json()
    second = token_client.get("/predict/ACME/").json()
    assert first["id"] == second["id"]
    assert PredictionRun.objects.count() == 1


def test_actuals_appear_beside_predictions_as_they_arrive(token_client, trained, acme):
    body = token_client.get("/predict/ACME/").json()
    first = body["predictions"][0]
    assert first["actual_close"] is None and body["realised"]["days_known"] == 0
    arrived = date.fromisoformat(first["date"])
    make_bars(acme, start=arrived, closes=[first["predicted_close"] + 1])

    stored = forecast_to_dict(PredictionRun.objects.get(pk=body["id"]))
    newer = token_client.get("/predict/ACME/").json()

    row = stored["predictions"][0]
    assert row["actual_close"] == pytest.approx(first["predicted_close"] + 1, abs=0.01)
    assert row["error"] == pytest.approx(1.0, abs=0.01)
    assert stored["realised"]["days_known"] == 1
    assert stored["realised"]["mae"] == pytest.approx(1.0, abs=0.01)
    # The stored forecast is unchanged; a new bar means a new as-of day and a new run.
    assert [p["predicted_close"] for p in stored["predictions"]] == [
        p["predicted_close"] for p in body["predictions"]
    ]
    assert newer["id"] != body["id"] and newer["as_of"] == arrived.isoformat()


def test_no_active_model_is_409_saying_how_to_train(token_client, acme):
    response = token_client.get("/predict/ACME/")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "no_active_model"
    assert "train_model --symbol ACME" in error["message"]


def test_unknown_symbol_is_404(token_client):
    assert token_client.get("/predict/NOPE/").status_code == 404


def test_too_little_history_is_422_with_the_number_needed(token_client, trained, acme):
    keep = list(
        PriceBar.objects.filter(symbol=acme)
        .order_by("-date")[:20]
        .values_list("pk", flat=True)
    )
    PriceBar.objects.filter(symbol=acme).exclude(pk__in=keep).delete()
    response = token_client.get("/predict/ACME/")
    assert response.status_code == 422
    assert response.json()["error"]["details"] == {"needed": 50, "available": 20}


def test_a_tampered_active_model_is_a_clear_409(token_client, trained):
    TrainedModel.objects.filter(pk=trained.pk).update(sha256="0" * 64)
    response = token_client.get("/predict/ACME/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "model_unusable"


def test_train_model_command(acme):
    out = io.StringIO()
    call_command("train_model", "--symbol", "acme", stdout=out)
    assert "ACME: model v1 active" in out.getvalue()
    assert "30d MAE" in out.getvalue()
    with pytest.raises(CommandError, match="1 of 1 symbols failed"):
        call_command(
            "train_model", "--symbol", "NOPE", stdout=out, stderr=io.StringIO()
        )
