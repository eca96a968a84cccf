"""The 30-day forecaster, whatever the method (ml.methods): fit, walk-forward
evaluation beside naive and drift (tests and band calibration in ml.evaluation), and
the forecast with its band. Every method goes through the same harness."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.evaluation import (
    CALIBRATION_WINDOW,
    calibrate_band,
    diebold_mariano,
    drift_log_returns,
    verdict,
)
from ml.features import FEATURE_NAMES, LOOKBACK, make_features
from ml.methods import HORIZON, LINEAR_REGRESSION, Method

ALGORITHM = LINEAR_REGRESSION.algorithm
REPORTED_HORIZONS = (1, 5, 30)
EVALUATION_WINDOW = 1260  # origins: the last five years of trading days
MIN_EVALUATION_ORIGINS = 60
REFIT_EVERY = 21  # trading days between refits in the walk-forward evaluation
MIN_TRAIN_ROWS = 100
BAND_QUANTILES = (0.10, 0.90)  # an 80 % band
MIN_HISTORY = LOOKBACK + HORIZON + MIN_TRAIN_ROWS + MIN_EVALUATION_ORIGINS
# The band's unit: its half-widths multiply this feature at the forecast's origin.
BAND_SCALE = "volatility_20d"


class NotEnoughHistory(ValueError):
    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"{needed} daily closes are needed, {available} available.")
        self.needed = needed
        self.available = available


def fit(closes: np.ndarray, method: Method = LINEAR_REGRESSION) -> Any:
    """Fit `method` on every close (its fitted state; targets need HORIZON more days
    than the last training row, which the method accounts for)."""
    closes = np.asarray(closes, dtype=np.float64)
    if len(closes) < LOOKBACK + HORIZON + MIN_TRAIN_ROWS:
        raise NotEnoughHistory(LOOKBACK + HORIZON + MIN_TRAIN_ROWS, len(closes))
    return method.fit(closes)


@dataclass(frozen=True)
class WalkForward:
    """Out-of-sample predicted log returns, one row per origin, one column per horizon.

    `fitted_through[i]` is the refit day of origin i's model: it saw closes 0..that.
    """

    origins: np.ndarray
    predicted: np.ndarray
    refit_days: np.ndarray
    fitted_through: np.ndarray


def walk_forward(
    closes: np.ndarray,
    *,
    window: int = EVALUATION_WINDOW,
    refit_every: int = REFIT_EVERY,
    method: Method = LINEAR_REGRESSION,
) -> WalkForward:
    """Predict from each of the last `window` days with a model fit only on the past.

    The model for origins t0..t0+refit_every-1 is fit at t0 on the closes up to t0,
    and each origin's forecast reads the closes up to it, so no origin's forecast saw
    a price after that origin.
    """
    closes = np.asarray(closes, dtype=np.float64)
    n = len(closes)
    if n < MIN_HISTORY:
        raise NotEnoughHistory(MIN_HISTORY, n)
    first_origin = max(n - 1 - window, LOOKBACK + HORIZON + MIN_TRAIN_ROWS - 1)
    origins = np.arange(
        first_origin, n - 1
    )  # the last day has nothing to check against
    predicted = np.empty((len(origins), HORIZON))
    fitted_through = np.empty(len(origins), dtype=np.int64)
    refit_days = origins[::refit_every]
    fitted: Any = None
    for start in range(0, len(origins), refit_every):
        refit_day = int(origins[start])
        fitted = method.fit(closes[: refit_day + 1], fitted)
        block = origins[start : start + refit_every]
        seen = closes[: int(block[-1]) + 1]
        predicted[start : start + len(block)] = method.predict(fitted, seen, block)
        fitted_through[start : start + len(block)] = refit_day
    return WalkForward(
        origins=origins,
        predicted=predicted,
        refit_days=refit_days,
        fitted_through=fitted_through,
    )


def _volatility(closes: np.ndarray) -> np.ndarray:
    """Each day's 20-day volatility of daily log returns (from closes up to it)."""
    return make_features(closes)[:, FEATURE_NAMES.index(BAND_SCALE)]


def _scores(
    predicted: np.ndarray, actual: np.ndarray, base: np.ndarray
) -> dict[str, Any]:
    errors = predicted - actual
    moves = np.sign(predicted - base)
    return {
        "mae": float(np.mean(np.abs(errors))),
        "rmse": float(math.sqrt(np.mean(errors**2))),
        "mape_pct": float(np.mean(np.abs(errors / actual)) * 100.0),
        # The share of origins whose predicted direction matched the actual one.
        "direction_hit_rate_pct": (
            float(np.mean(moves == np.sign(actual - base)) * 100.0)
            if moves.any()
            else None
        ),
    }


def _test(
    model_pred: np.ndarray, other: np.ndarray, actual: np.ndarray, h: int, name: str
) -> dict[str, Any]:
    """The Diebold-Mariano test of the model against another forecast, on absolute
    errors in price units (the loss MAE averages), and the verdict it supports."""
    result = diebold_mariano(
        np.abs(model_pred - actual), np.abs(other - actual), horizon=h
    )
    return {
        "diebold_mariano": result.as_dict() if result is not None else None,
        "verdict": verdict(result, name),
    }


def evaluate(
    closes: np.ndarray,
    *,
    window: int = EVALUATION_WINDOW,
    method: Method = LINEAR_REGRESSION,
) -> dict:
    """Walk-forward scores of the model, of the naive last-close forecast and of the
    drift forecast, with a Diebold-Mariano test of the model against each.

    All three are scored on exactly the same origins for each horizon. The band of
    each horizon is calibrated on one part of the out-of-sample log errors and its
    coverage measured on a later part (ml.evaluation.calibrate_band).
    """
    closes = np.asarray(closes, dtype=np.float64)
    run = walk_forward(closes, window=window, method=method)
    n = len(closes)
    drift = drift_log_returns(closes, run.fitted_through)
    volatility = _volatility(closes)
    level = BAND_QUANTILES[1] - BAND_QUANTILES[0]
    horizons: dict[str, dict] = {}
    widths, coverage, calibrated, tested = [], [], [], []
    for h in range(1, HORIZON + 1):
        usable = run.origins + h <= n - 1
        origins = run.origins[usable]
        base = closes[origins]
        actual = closes[origins + h]
        log_pred = run.predicted[usable, h - 1]
        residuals = np.log(actual / base) - log_pred
        band = calibrate_band(residuals, volatility[origins], h, level)
        widths.append(band.half_width)
        coverage.append(band.coverage_pct)
        calibrated.append(band.calibration)
        tested.append(band.tested)
        if h in REPORTED_HORIZONS:
            predicted = base * np.exp(log_pred)
            drifted = base * np.exp(h * drift[usable])
            model = _scores(predicted, actual, base)
            naive = _scores(base, actual, base)
            naive["direction_hit_rate_pct"] = None
            horizons[str(h)] = {
                "origins": len(origins),
                "model": model,
                "naive": naive,
                "drift": _scores(drifted, actual, base),
                # The lower MAE only; whether that is skill is the test's to say.
                "beats_naive": model["mae"] < naive["mae"],
                "vs_naive": _test(predicted, base, actual, h, "naive"),
                "vs_drift": _test(predicted, drifted, actual, h, "drift"),
                # Out of sample: the band of each tested origin came from earlier
                # residuals only.
                "inside_band_pct": band.coverage_pct,
                "band_calibration_origins": band.calibration,
                "band_test_origins": band.tested,
            }
    return {
        "method": (
            f"walk-forward over the last {len(run.origins)} trading days, refit every "
            f"{REFIT_EVERY} days on data known at the refit day; naive = last close; "
            "drift = last close moved by the training window's mean daily log return"
        ),
        "origins": len(run.origins),
        "first_origin_index": int(run.origins[0]),
        "horizons": horizons,
        "band": {
            "quantiles": list(BAND_QUANTILES),
            # Log-return half-widths in units of the origin's 20-day volatility.
            "scale": BAND_SCALE,
            "lower": [-width for width in widths],
            "upper": widths,
            "method": (
                "rolling split conformal on |error| / 20-day volatility, each "
                f"origin's band from up to {CALIBRATION_WINDOW} earlier origins "
                "whose outcome was known at it"
            ),
            "calibration_origins": calibrated,
            "test_origins": tested,
            "coverage_pct": coverage,
        },
        "significance_test": True,
    }


@dataclass(frozen=True)
class ForecastPoint:
    step: int
    predicted: float
    lower: float
    upper: float


def forecast(
    fitted: Any,
    closes: np.ndarray,
    residual_quantiles: dict[str, Any],
    method: Method = LINEAR_REGRESSION,
) -> list[ForecastPoint]:
    """The next HORIZON closes from the last day's features, with the 80 % band.

    A band stored with `scale` (BAND_SCALE) is in units of the last day's
    volatility; one without (models trained before the calibrated band) is in
    log-return units as it is.
    """
    closes = np.asarray(closes, dtype=np.float64)
    if len(closes) < LOOKBACK + 1:
        raise NotEnoughHistory(LOOKBACK + 1, len(closes))
    log_returns = method.predict(fitted, closes, np.array([len(closes) - 1]))[0]
    last = float(closes[-1])
    unit = 1.0
    if residual_quantiles.get("scale") == BAND_SCALE:
        unit = float(_volatility(closes)[-1])
    lower = [unit * q for q in residual_quantiles["lower"]]
    upper = [unit * q for q in residual_quantiles["upper"]]
    return [
        ForecastPoint(
            step=h,
            predicted=last * math.exp(log_returns[h - 1]),
            lower=last * math.exp(log_returns[h - 1] + min(lower[h - 1], 0.0)),
            upper=last * math.exp(log_returns[h - 1] + max(upper[h - 1], 0.0)),
        )
        for h in range(1, HORIZON + 1)
    ]
