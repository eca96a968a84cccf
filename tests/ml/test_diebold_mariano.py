"""The Diebold-Mariano test behind every verdict: against the dieboldmariano package
and hand-worked cases, the verdict's three words, the drift baseline, and where the
verdict is stated (first in /predict/, on the admin pages, in the PDF above the
point forecast); a model stored before the test reads "not evaluated"."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from dieboldmariano import dm_test
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader
from scipy import stats

from ml.evaluation import (
    BEATS_NAIVE,
    NO_EVIDENCE,
    VERDICTS,
    WORSE_THAN_NAIVE,
    diebold_mariano,
    drift_log_returns,
    student_t_two_sided,
    verdict,
)
from ml.forecaster import evaluate
from ml.models import TrainedModel
from ml.selectors import NOT_TESTED
from ml.services import forecast_create, model_train

# --- the statistic ---------------------------------------------------------------


@pytest.mark.parametrize("h", [1, 5, 30])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_statistic_and_p_value_match_the_dieboldmariano_package(h, seed):
    rng = np.random.default_rng(seed)
    n = 400
    actual = np.cumsum(rng.normal(0, 1, n)) + 100
    # Overlapping h-step errors: moving sums of h shocks, autocorrelated to lag h-1.
    shocks = rng.normal(0, 1, n + h)
    first = actual + np.convolve(shocks, np.ones(h), "valid")[:n]
    second = (
        actual + 1.1 * np.convolve(rng.normal(0, 1, n + h), np.ones(h), "valid")[:n]
    )

    ours = diebold_mariano(np.abs(first - actual), np.abs(second - actual), h)
    statistic, p_value = dm_test(
        list(actual),
        list(first),
        list(second),
        h=h,
        loss=lambda u, v: abs(u - v),
        harvey_correction=True,
    )

    assert ours is not None and ours.variance == "hac-rectangular"
    assert ours.statistic == pytest.approx(statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(p_value, rel=1e-6)
    assert ours.as_dict()["lags"] == h - 1


def test_a_hand_worked_one_step_case():
    # d = 2, 0, 1, 3, -1, 1: mean 1, gamma_0 = 10/6, no lags at h = 1.
    # DM = 1 / sqrt(10/36) = 6 / sqrt(10); HLN factor sqrt((6 + 1 - 2) / 6).
    # Product: sqrt(3), read against t with 5 degrees of freedom.
    d = np.array([2.0, 0.0, 1.0, 3.0, -1.0, 1.0])
    test = diebold_mariano(d, np.zeros(6), 1)
    assert test is not None
    assert test.statistic == pytest.approx(math.sqrt(3.0), rel=1e-12)
    assert test.p_value == pytest.approx(2 * stats.t.sf(math.sqrt(3.0), 5), rel=1e-9)
    assert test.mean_difference == 1.0


def test_a_hand_worked_two_step_case_uses_one_autocovariance():
    # d = 1, 1, 0, 0, 2, 2: mean 1; centred 0, 0, -1, -1, 1, 1.
    # gamma_0 = 4/6, gamma_1 = (0 + 0 + 1 - 1 + 1)/6 = 1/6: long-run variance
    # 4/6 + 2/6 = 1, DM = sqrt(6); HLN sqrt((6 + 1 - 4 + 2/6) / 6) = sqrt(5/9).
    d = np.array([1.0, 1.0, 0.0, 0.0, 2.0, 2.0])
    test = diebold_mariano(d, np.zeros(6), 2)
    assert test is not None and test.variance == "hac-rectangular"
    expected = math.sqrt(6.0) * math.sqrt(5.0 / 9.0)  # sqrt(30) / 3
    assert test.statistic == pytest.approx(expected, rel=1e-12)
    assert test.p_value == pytest.approx(2 * stats.t.sf(expected, 5), rel=1e-9)


def test_a_non_positive_long_run_variance_falls_back_to_bartlett_weights():
    # d = 1, -1, 2, 0, 3: gamma_0 = 2, gamma_1 = -1, so 2 + 2(-1) = 0. Bartlett:
    # 2 + 2 (1/2)(-1) = 1; DM = 1 / sqrt(1/5) = sqrt(5); HLN sqrt(2.4 / 5).
    d = np.array([1.0, -1.0, 2.0, 0.0, 3.0])
    test = diebold_mariano(d, np.zeros(5), 2)
    assert test is not None and test.variance == "hac-bartlett"
    assert test.statistic == pytest.approx(math.sqrt(5.0) * math.sqrt(0.48))


def test_identical_forecasts_have_no_test():
    losses = np.abs(np.random.default_rng(0).normal(size=50))
    assert diebold_mariano(losses, losses, 5) is None
    assert verdict(None) == NO_EVIDENCE


@pytest.mark.parametrize(
    ("t", "df"), [(0.0, 10), (0.5, 3), (1.96, 1000), (2.5, 29), (4.0, 250), (12.0, 7)]
)
def test_the_t_p_value_matches_scipy(t, df):
    assert student_t_two_sided(t, df) == pytest.approx(
        2 * stats.t.sf(t, df), rel=1e-9, abs=1e-15
    )


# --- the verdict -------------------------------------------------------------------


def _test_of(scale: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    naive = np.abs(rng.normal(0, 1, 500))
    model = np.abs(rng.normal(0, scale, 500))
    return diebold_mariano(model, naive, 1)


def test_the_verdict_is_one_of_three_and_reads_the_test():
    assert verdict(_test_of(0.5)) == BEATS_NAIVE
    assert verdict(_test_of(2.0)) == WORSE_THAN_NAIVE
    # The same losses in another order: no difference on average, p = 1.
    losses = np.abs(np.random.default_rng(1).normal(0, 1, 500))
    same = diebold_mariano(losses[::-1], losses, 1)
    assert same is not None and same.p_value == pytest.approx(1.0)
    assert verdict(same) == NO_EVIDENCE
    assert set(VERDICTS) == {
        "beats naive (p < 0.05)",
        "no evidence of skill",
        "worse than naive (p < 0.05)",
    }
    assert verdict(_test_of(0.5), "drift") == "beats drift (p < 0.05)"


def test_a_lower_mae_alone_is_no_skill():
    # On a random walk the model's MAE may come out below naive's by chance; the
    # verdict still says no evidence (as the issue found: differences of 0.02 %).
    rng = np.random.default_rng(11)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.0, 0.01, 1500)))
    evaluation = evaluate(closes)
    for h in ("1", "5", "30"):
        scores = evaluation["horizons"][h]
        assert scores["vs_naive"]["verdict"] == NO_EVIDENCE, h
        assert scores["vs_naive"]["diebold_mariano"]["p_value"] >= 0.05


# --- the drift baseline ------------------------------------------------------------


def test_drift_is_the_mean_daily_log_return_of_the_training_window():
    closes = np.array([100.0, 110.0, 99.0, 121.0])
    # Fitted through day 3: (log 121 - log 100) / 3.
    assert drift_log_returns(closes, np.array([3]))[0] == pytest.approx(
        math.log(1.21) / 3
    )
    # On an exact exponential trend the drift forecast is exact at every horizon.
    trend = 50.0 * np.exp(0.001 * np.arange(600))
    evaluation = evaluate(trend)
    for h in ("1", "5", "30"):
        assert evaluation["horizons"][h]["drift"]["mae"] == pytest.approx(0, abs=1e-8)
        assert evaluation["horizons"][h]["naive"]["mae"] > 0.04


# --- where the verdict is stated ---------------------------------------------------


def test_predict_states_the_verdict_first_per_horizon_and_against_drift(
    token_client, acme
):
    model_train(ticker="ACME")
    body = token_client.get("/predict/ACME/").json()

    assert next(iter(body)) == "verdict"
    verdict_block = body["verdict"]
    assert verdict_block["summary"] in VERDICTS
    assert verdict_block["text"].startswith("Diebold-Mariano test against naive")
    assert [h["horizon_days"] for h in verdict_block["horizons"]] == [1, 5, 30]
    for h in verdict_block["horizons"]:
        assert h["verdict"] in VERDICTS
        assert 0.0 <= h["p_value"] <= 1.0
        assert f"{h['horizon_days']} day" in verdict_block["text"]
        assert h["vs_drift"]["verdict"] in {
            "beats drift (p < 0.05)",
            "no evidence of skill",
            "worse than drift (p < 0.05)",
        }
    for h in body["evaluation"]["horizons"]:
        assert next(iter(h)) == "verdict"
        dm = h["diebold_mariano"]
        assert dm["vs_naive"]["lags"] == h["horizon_days"] - 1
        assert dm["vs_drift"]["observations"] == h["origins"]
        assert h["drift"]["mae"] > 0
    assert body["evaluation"]["significance_test"] is True


# A model's evaluation as stored before the test and the calibrated band.
OLD_EVALUATION = {
    "method": "walk-forward over the last 252 trading days, refit every 21 days on "
    "data known at the refit day; naive = last close",
    "origins": 252,
    "first_origin_date": "2024-01-02",
    "horizons": {
        str(h): {
            "origins": 252 - h + 1,
            "model": {
                "mae": 1.0,
                "rmse": 1.2,
                "mape_pct": 1.0,
                "direction_hit_rate_pct": 51.0,
            },
            "naive": {
                "mae": 1.1,
                "rmse": 1.3,
                "mape_pct": 1.1,
                "direction_hit_rate_pct": None,
            },
            "beats_naive": True,
            "inside_band_pct": 80.0,
        }
        for h in (1, 5, 30)
    },
    "band": {"quantiles": [0.1, 0.9], "lower": [-0.02] * 30, "upper": [0.02] * 30},
}


@pytest.fixture
def old_model(acme) -> TrainedModel:
    model = model_train(ticker="ACME")
    # Set up the stored state of an older release (no writer makes it now).
    TrainedModel.objects.filter(pk=model.pk).update(
        evaluation=OLD_EVALUATION,
        residual_quantiles={"lower": [-0.02] * 30, "upper": [0.02] * 30},
    )
    model.refresh_from_db()
    return model


def test_a_model_from_before_the_test_reads_not_evaluated(token_client, old_model):
    response = token_client.get("/predict/ACME/")
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"]["summary"] == NOT_TESTED
    assert "retrain" in body["verdict"]["text"]
    for h in body["evaluation"]["horizons"]:
        assert h["verdict"] == NOT_TESTED and h["p_value"] is None
        assert h["drift"] is None and h["band"]["out_of_sample"] is False
    # Its band is the stored one, in log-return units.
    row = body["predictions"][0]
    assert row["upper"] / row["predicted_close"] == pytest.approx(
        math.exp(0.02), rel=1e-3
    )


def test_the_admin_pages_state_the_verdict_first(admin_client, acme):
    model = model_train(ticker="ACME")
    run, _ = forecast_create(ticker="ACME")
    summary = run.model.evaluation["horizons"]

    for url in (
        reverse("admin:ml_predictionrun_change", args=[run.pk]),
        reverse("admin:ml_trainedmodel_change", args=[model.pk]),
    ):
        page = admin_client.get(url).content.decode()
        assert 'id="forecast-verdict"' in page
        at = page.index('id="forecast-verdict"')
        # Above the figures and the walk-forward table.
        assert at < page.index("Scores at 1, 5 and 30 trading days")
        for h in summary.values():
            assert escape(h["vs_naive"]["verdict"].capitalize()) in page
            assert escape(h["vs_drift"]["verdict"].capitalize()) in page
    forecast_page = admin_client.get(
        reverse("admin:ml_predictionrun_change", args=[run.pk])
    ).content.decode()
    assert forecast_page.index('id="forecast-verdict"') < forecast_page.index(
        "Predicted change"
    )


def test_the_admin_pages_of_an_old_model_say_retrain(admin_client, old_model):
    run, _ = forecast_create(ticker="ACME")
    for url in (
        reverse("admin:ml_predictionrun_change", args=[run.pk]),
        reverse("admin:ml_trainedmodel_change", args=[old_model.pk]),
        reverse("admin:ml_trainedmodel_changelist"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
    page = admin_client.get(
        reverse("admin:ml_trainedmodel_change", args=[old_model.pk])
    ).content.decode()
    assert NOT_TESTED.capitalize() in page
    assert "in sample" in page


def _pdf_words(token_client) -> str:
    response = token_client.get("/report/ACME/", HTTP_ACCEPT="application/pdf")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    return " ".join(" ".join(p.extract_text() for p in reader.pages).split())


def test_the_pdf_states_the_verdict_above_the_point_forecast(token_client, acme):
    model_train(ticker="ACME")
    data = token_client.get("/report/ACME/").json()
    words = _pdf_words(token_client)
    summary = data["forecast"]["verdict"]["summary"]
    assert f"Verdict: {summary}." in words
    assert words.index(f"Verdict: {summary}.") < words.index(
        data["forecast"]["headline"]["predicted"]
    )
    for h in data["forecast"]["evaluation"]["horizons"]:
        assert h["display"]["p_value"] in words


def test_the_pdf_of_an_old_model_says_retrain(token_client, old_model):
    words = _pdf_words(token_client)
    assert f"Verdict: {NOT_TESTED}." in words
