"""More than one forecasting method: ETS (statsmodels) beside the seed's linear
regression, through the same walk-forward harness, registry and endpoints."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from django.core.management import call_command
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from core.errors import InvalidInput
from ml.forecaster import MIN_HISTORY, evaluate, walk_forward
from ml.leaderboard import model_leaderboard
from ml.methods import ETS, LINEAR_REGRESSION, ArtifactRejected
from ml.methods.ets import smoothed_states
from ml.models import PredictionRun, TrainedModel
from ml.services import (
    ModelUnusable,
    forecast_create,
    hindcast_create,
    model_activate,
    model_load,
    model_train,
)
from tests.factories import price_closes

pytestmark = pytest.mark.django_db


def trending(n: int, seed: int = 2) -> np.ndarray:
    return np.asarray(
        price_closes(n, drift=0.0006, volatility=0.012, seed=seed, decimals=None)
    )


def test_ets_forecasts_never_use_a_price_after_their_origin():
    closes = trending(MIN_HISTORY + 120)
    cut = len(closes) - 60
    changed = closes.copy()
    changed[cut + 1 :] *= 2.5  # a wild future

    original = walk_forward(closes, window=120, method=ETS)
    altered = walk_forward(changed, window=120, method=ETS)

    before = original.origins <= cut
    assert before.sum() > 40 and (~before).sum() > 40
    np.testing.assert_array_equal(original.predicted[before], altered.predicted[before])
    assert not np.allclose(original.predicted[~before], altered.predicted[~before])


@pytest.mark.parametrize("trend", [None, "add"])
def test_ets_point_forecasts_are_statsmodels_own(trend):
    """The path from each origin's state equals ETSResults.simulate with no errors,
    which statsmodels computes one origin at a time."""
    log_closes = np.log(trending(400))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ETSModel(
            log_closes, error="add", trend=trend, damped_trend=trend is not None
        ).fit(disp=False)
    fitted = {
        "format": 1,
        "trend": trend,
        "damped_trend": trend is not None,
        "param_names": list(result.param_names),
        "params": [float(value) for value in result.params],
    }
    origins = np.array([120, 250, 399])

    ours = ETS.predict(fitted, np.exp(log_closes), origins)

    for row, origin in enumerate(origins):
        path = result.simulate(30, anchor=int(origin), random_errors=np.zeros((30, 1)))
        expected = np.asarray(path).ravel() - log_closes[origin]
        np.testing.assert_allclose(ours[row], expected, rtol=0, atol=1e-12)
    assert smoothed_states(fitted, log_closes).shape[0] == len(log_closes)


def test_ets_is_scored_beside_naive_and_drift_by_the_same_harness():
    closes = trending(MIN_HISTORY + 200, seed=7)
    ets = evaluate(closes, window=200, method=ETS)
    linear = evaluate(closes, window=200, method=LINEAR_REGRESSION)

    # The same origins, the same naive scores: only the model's own differ.
    assert ets["origins"] == linear["origins"] == 200
    for h in ("1", "5", "30"):
        assert ets["horizons"][h]["naive"] == linear["horizons"][h]["naive"]
        assert ets["horizons"][h]["model"] != linear["horizons"][h]["model"]
        assert ets["horizons"][h]["vs_naive"]["diebold_mariano"] is not None
    assert len(ets["band"]["upper"]) == 30


def test_an_ets_artifact_is_parameters_only_and_checked_on_loading():
    fitted = ETS.fit(trending(300))
    artifact = ETS.dumps(fitted)
    stored = json.loads(artifact)
    assert set(stored["param_names"]) >= {"smoothing_level", "initial_level"}
    assert ETS.loads(artifact, library_version="0.0") == fitted

    stored["param_names"] = ["smoothing_level", "something_else"]
    with pytest.raises(ArtifactRejected, match="does not hold the parameters"):
        ETS.loads(json.dumps(stored).encode(), library_version="0.0")
    with pytest.raises(ArtifactRejected, match="not valid JSON"):
        ETS.loads(b"\x80not json", library_version="0.0")


def test_a_model_of_another_method_waits_until_staff_activate_it(acme):
    linear = model_train(ticker="ACME")
    ets = model_train(ticker="ACME", method="ets")

    linear.refresh_from_db()
    assert (linear.is_active, ets.is_active) == (True, False)
    assert (ets.method, ets.version) == ("ets", 2)
    assert ets.library_version.startswith("statsmodels ")
    assert ets.features == []

    # Retraining the active method replaces it; the ETS model stays as it was.
    newer = model_train(ticker="ACME")
    assert newer.is_active and newer.version == 3

    model_activate(model=ets)
    retrained = model_train(ticker="ACME")
    ets.refresh_from_db()
    assert ets.is_active and not retrained.is_active


def test_predict_uses_the_active_ets_model(token_client, acme):
    model_train(ticker="ACME")
    ets = model_activate(model=model_train(ticker="ACME", method="ets"))

    body = token_client.get("/predict/ACME/").json()

    assert body["model"]["id"] == ets.pk
    assert body["model"]["method"] == "ets"
    assert body["model"]["library_version"].startswith("statsmodels ")
    assert len(body["predictions"]) == 30
    assert body["verdict"]["summary"]
    run = PredictionRun.objects.get(pk=body["id"])
    assert run.method == "ets"
    assert all(
        row["lower"] <= row["predicted_close"] <= row["upper"]
        for row in body["predictions"]
    )


def test_hindcasts_repeat_the_active_method_one_per_method_and_day(acme):
    linear = model_train(ticker="ACME")
    as_of = acme.bars.order_by("date")[MIN_HISTORY + 5].date
    linear_run, _ = hindcast_create(ticker="ACME", as_of=as_of)
    ets = model_activate(model=model_train(ticker="ACME", method="ets"))

    ets_run, created = hindcast_create(ticker="ACME", as_of=as_of)
    again, created_again = hindcast_create(ticker="ACME", as_of=as_of)

    assert created and not created_again and again == ets_run
    assert (linear_run.method, ets_run.method) == ("linear_regression", "ets")
    assert ets_run.model.based_on == ets and ets_run.model.method == "ets"
    assert ets_run.model.train_end == as_of
    assert linear_run.model.based_on == linear


def test_a_model_of_a_method_this_server_does_not_know_is_refused(acme):
    model = model_train(ticker="ACME", method="ets")
    TrainedModel.objects.filter(pk=model.pk).update(method="prophet")
    model.refresh_from_db()

    with pytest.raises(ModelUnusable, match="method this server does not know"):
        model_load(model)
    model_activate(model=model)
    with pytest.raises(Exception, match="cannot repeat it") as refused:
        hindcast_create(ticker="ACME", as_of=acme.bars.order_by("date")[250].date)
    assert refused.value.code == "hindcast_unsupported"
    with pytest.raises(ModelUnusable):
        forecast_create(ticker="ACME")


def test_an_unknown_method_is_a_clear_invalid_parameter(acme):
    with pytest.raises(InvalidInput, match="method must be one of") as refused:
        model_train(ticker="ACME", method="magic")
    assert refused.value.details == {"parameter": "method"}
    assert not TrainedModel.objects.exists()


def test_the_leaderboard_ranks_each_methods_newest_model(acme):
    model_train(ticker="ACME")
    old_ets = model_train(ticker="ACME", method="ets")
    linear = model_train(ticker="ACME")
    ets = model_train(ticker="ACME", method="ets")
    model_activate(model=old_ets)

    board = model_leaderboard(acme)

    listed = {entry["model"] for entry in board["models"]}
    # Each method's newest, and the active one staff chose among older ones.
    assert listed == {linear.pk, ets.pk, old_ets.pk}
    skills = [entry["mean_skill"] for entry in board["models"]]
    assert skills == sorted(skills, reverse=True)
    assert [entry["rank"] for entry in board["models"]] == [1, 2, 3]
    active = [entry for entry in board["models"] if entry["is_active"]]
    assert [entry["model"] for entry in active] == [old_ets.pk]
    first = board["models"][0]["horizons"][0]
    expected = 1 - first["mae"] / first["naive_mae"]
    assert first["skill"] == pytest.approx(expected)


def test_the_train_command_trains_every_method_when_asked(acme, capsys):
    call_command("train_model", "--symbol", "ACME", "--method", "all")

    models = TrainedModel.objects.filter(symbol=acme).order_by("version")
    assert [(m.method, m.is_active) for m in models] == [
        ("linear_regression", True),
        ("ets", False),
    ]
    out = capsys.readouterr().out
    assert "ACME: model v2 not active (ETS (exponential smoothing):" in out
