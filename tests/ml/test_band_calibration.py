"""The 80 % band is calibrated on earlier walk-forward errors and its coverage read on
later ones: within 5 points of 80 % at 1, 5 and 30 days on a seeded random walk and
on GOOG's closes as shipped by backtesting.py."""

from __future__ import annotations

from datetime import date
from importlib.metadata import distribution

import numpy as np
import pandas as pd
import pytest

from ml.evaluation import CALIBRATION_WINDOW, calibrate_band
from ml.forecaster import BAND_SCALE, evaluate, fit, forecast
from ml.services import model_train
from tests.factories import make_bars, make_symbol

REPORTED = (1, 5, 30)


def goog_closes() -> np.ndarray:
    """GOOG's daily closes 2004-2013 from the backtesting.py distribution.

    Its top-level package is `backtesting`, the name of our own app, so it is never
    imported: the CSV is read from where the installed distribution put it.
    """
    path = distribution("backtesting").locate_file("backtesting/test/GOOG.csv")
    frame = pd.read_csv(str(path), index_col=0, parse_dates=True)
    assert len(frame) > 2000 and frame.index.is_monotonic_increasing
    return frame["Close"].to_numpy(dtype=np.float64)


def random_walk(n: int = 3000, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, n)))


def _coverage(evaluation: dict) -> dict[int, float]:
    return {h: evaluation["horizons"][str(h)]["inside_band_pct"] for h in REPORTED}


def _assert_calibrated(evaluation: dict) -> None:
    coverage = _coverage(evaluation)
    for h, pct in coverage.items():
        assert pct == pytest.approx(80.0, abs=5.0), (h, coverage)
        scores = evaluation["horizons"][str(h)]
        # Reported on origins the band was not calibrated on, and enough of them.
        assert scores["band_test_origins"] >= scores["band_calibration_origins"]
        assert scores["band_calibration_origins"] == CALIBRATION_WINDOW
        assert evaluation["band"]["coverage_pct"][h - 1] == pct


def test_on_a_seeded_random_walk_the_band_covers_80_pct_out_of_sample():
    _assert_calibrated(evaluate(random_walk()))


def test_on_googs_closes_the_band_covers_80_pct_out_of_sample():
    _assert_calibrated(evaluate(goog_closes()))


def test_on_googs_whole_history_the_band_covers_80_pct_out_of_sample():
    closes = goog_closes()
    _assert_calibrated(evaluate(closes, window=len(closes)))


def test_the_coverage_is_measured_on_residuals_the_band_never_saw():
    # Calm errors first, then errors four times as large: each wild origin's band
    # comes from the 300 residuals before it, mostly calm, so it misses. Measured
    # on the residuals it was built from, a band would read 80 % by construction.
    rng = np.random.default_rng(3)
    calm, wild = rng.normal(0, 1, 300), rng.normal(0, 4, 300)
    residuals = np.concatenate([calm, wild])
    in_sample = np.mean(np.abs(residuals) <= np.quantile(np.abs(residuals), 0.8))
    assert in_sample == pytest.approx(0.8, abs=0.01)
    band = calibrate_band(residuals, np.ones(600), 1, 0.8, window=300)
    assert band.calibration == 300 and band.tested == 300
    assert band.coverage_pct < 60.0
    # The band a forecast from the last day gets: the latest residuals.
    assert band.half_width == pytest.approx(np.quantile(np.abs(wild), 0.8))


def test_an_origins_band_uses_only_residuals_known_at_it():
    # Origin j's h-day residual is known h days later: changing the residuals of
    # the last h origins cannot change any tested origin's band.
    h = 5
    rng = np.random.default_rng(4)
    residuals = rng.normal(0, 1, 200)
    changed = residuals.copy()
    changed[-h:] *= 100.0
    base = calibrate_band(residuals, np.ones(200), h, 0.8, window=60)
    other = calibrate_band(changed, np.ones(200), h, 0.8, window=60)
    # Only the last h origins' own inside/outside can flip.
    assert abs(base.coverage_pct - other.coverage_pct) <= h / base.tested * 100 + 1e-9


def test_the_band_widens_with_the_volatility_at_the_origin():
    closes = random_walk(1200, seed=5)
    evaluation = evaluate(closes)
    model = fit(closes)
    band = evaluation["band"]
    calm = forecast(model, closes, band)
    # The same closes with the last 20 days' moves doubled: a wider band.
    log = np.log(closes)
    moves = np.diff(log)
    moves[-20:] *= 2.0
    wild_closes = np.exp(np.concatenate([[log[0]], log[0] + np.cumsum(moves)]))
    wild = forecast(model, wild_closes, band)
    calm_width = calm[-1].upper / calm[-1].lower
    wild_width = wild[-1].upper / wild[-1].lower
    assert wild_width > calm_width


def test_a_band_stored_before_the_calibration_is_read_as_it_was():
    closes = random_walk(800, seed=6)
    model = fit(closes)
    old = {"lower": [-0.05] * 30, "upper": [0.04] * 30}  # log-return units
    points = forecast(model, closes, old)
    for point in points:
        assert point.lower == pytest.approx(point.predicted * np.exp(-0.05))
        assert point.upper == pytest.approx(point.predicted * np.exp(0.04))


@pytest.mark.django_db
def test_a_trained_model_stores_the_calibrated_band_and_forecasts_with_it(
    token_client,
):
    symbol = make_symbol("GOOG", name="Alphabet (backtesting.py sample)")
    # Weekday dates from GOOG's first day; the closes are GOOG's, in order.
    make_bars(symbol, start=date(2004, 8, 19), closes=list(goog_closes()))
    model = model_train(ticker="GOOG")
    assert model.residual_quantiles["scale"] == BAND_SCALE
    assert len(model.residual_quantiles["upper"]) == 30

    body = token_client.get("/predict/GOOG/").json()
    for h in body["evaluation"]["horizons"]:
        assert h["band"]["out_of_sample"] is True
        assert h["inside_band_pct"] == pytest.approx(80.0, abs=5.0)
    assert "calibrated on earlier" in body["band"]
    rows = body["predictions"]
    assert all(r["lower"] < r["predicted_close"] < r["upper"] for r in rows)
    # Wider further out.
    assert rows[-1]["upper"] - rows[-1]["lower"] > rows[0]["upper"] - rows[0]["lower"]
