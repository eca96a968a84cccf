"""The 30-day forecaster: fit, walk-forward evaluation beside naive, and the forecast."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ml.features import LOOKBACK, make_features, make_targets

ALGORITHM = "LinearRegression, direct multi-horizon (1-30 days) on log returns"
HORIZON = 30
REPORTED_HORIZONS = (1, 5, 30)
EVALUATION_WINDOW = 252  # origins: the last year of trading days
MIN_EVALUATION_ORIGINS = 60
REFIT_EVERY = 21  # trading days between refits in the walk-forward evaluation
MIN_TRAIN_ROWS = 100
BAND_QUANTILES = (0.10, 0.90)  # an 80 % band
MIN_HISTORY = LOOKBACK + HORIZON + MIN_TRAIN_ROWS + MIN_EVALUATION_ORIGINS


class NotEnoughHistory(ValueError):
    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"{needed} daily closes are needed, {available} available.")
        self.needed = needed
        self.available = available


def build_pipeline() -> Pipeline:
    return make_pipeline(StandardScaler(), LinearRegression())


def _training_rows(
    features: np.ndarray, targets: np.ndarray, known_until: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose features and every target are known on day `known_until`.

    Row s needs closes up to s + HORIZON, so s <= known_until - HORIZON.
    """
    last = known_until - HORIZON
    rows = slice(LOOKBACK, last + 1)
    return features[rows], targets[rows]


def fit(closes: np.ndarray) -> Pipeline:
    """Fit on every day whose 30 targets are known."""
    closes = np.asarray(closes, dtype=np.float64)
    if len(closes) < LOOKBACK + HORIZON + MIN_TRAIN_ROWS:
        raise NotEnoughHistory(LOOKBACK + HORIZON + MIN_TRAIN_ROWS, len(closes))
    x, y = _training_rows(
        make_features(closes), make_targets(closes, HORIZON), len(closes) - 1
    )
    return build_pipeline().fit(x, y)


@dataclass(frozen=True)
class WalkForward:
    """Out-of-sample predicted log returns, one row per origin, one column per horizon."""

    origins: np.ndarray
    predicted: np.ndarray
    refit_days: np.ndarray


def walk_forward(
    closes: np.ndarray,
    *,
    window: int = EVALUATION_WINDOW,
    refit_every: int = REFIT_EVERY,
) -> WalkForward:
    """Predict from each of the last `window` days with a model fit only on the past.

    The model for origins t0..t0+refit_every-1 is fit at t0 on rows whose targets
    end by t0, so no origin's forecast saw a price after that origin.
    """
    closes = np.asarray(closes, dtype=np.float64)
    n = len(closes)
    if n < MIN_HISTORY:
        raise NotEnoughHistory(MIN_HISTORY, n)
    first_origin = max(n - 1 - window, LOOKBACK + HORIZON + MIN_TRAIN_ROWS - 1)
    origins = np.arange(
        first_origin, n - 1
    )  # the last day has nothing to check against
    features, targets = make_features(closes), make_targets(closes, HORIZON)
    predicted = np.empty((len(origins), HORIZON))
    refit_days = origins[::refit_every]
    for start in range(0, len(origins), refit_every):
        refit_day = int(origins[start])
        x, y = _training_rows(features, targets, refit_day)
        model = build_pipeline().fit(x, y)
        block = origins[start : start + refit_every]
        predicted[start : start + len(block)] = model.predict(features[block])
    return WalkForward(origins=origins, predicted=predicted, refit_days=refit_days)


def _scores(predicted: np.ndarray, actual: np.ndarray, base: np.ndarray) -> dict:
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


def evaluate(closes: np.ndarray, *, window: int = EVALUATION_WINDOW) -> dict:
    """Walk-forward scores of the model and of the naive last-close forecast.

    Both are scored on exactly the same origins for each horizon. Also returns the
    per-horizon quantiles of out-of-sample log errors that make the forecast band.
    """
    closes = np.asarray(closes, dtype=np.float64)
    run = walk_forward(closes, window=window)
    n = len(closes)
    horizons: dict[str, dict] = {}
    lower_q, upper_q = [], []
    for h in range(1, HORIZON + 1):
        usable = run.origins + h <= n - 1
        origins = run.origins[usable]
        base = closes[origins]
        actual = closes[origins + h]
        log_pred = run.predicted[usable, h - 1]
        residuals = np.log(actual / base) - log_pred
        low, high = np.quantile(residuals, BAND_QUANTILES)
        lower_q.append(float(low))
        upper_q.append(float(high))
        if h in REPORTED_HORIZONS:
            model = _scores(base * np.exp(log_pred), actual, base)
            naive = _scores(base, actual, base)
            naive["direction_hit_rate_pct"] = None
            inside = (residuals >= low) & (residuals <= high)
            horizons[str(h)] = {
                "origins": len(origins),
                "model": model,
                "naive": naive,
                "beats_naive": model["mae"] < naive["mae"],
                "inside_band_pct": float(np.mean(inside) * 100.0),
            }
    quantiles = {"lower": lower_q, "upper": upper_q}
    return {
        "method": (
            f"walk-forward over the last {len(run.origins)} trading days, refit every "
            f"{REFIT_EVERY} days on data known at the refit day; naive = last close"
        ),
        "origins": len(run.origins),
        "first_origin_index": int(run.origins[0]),
        "horizons": horizons,
        "band": {"quantiles": list(BAND_QUANTILES), **quantiles},
    }


@dataclass(frozen=True)
class ForecastPoint:
    step: int
    predicted: float
    lower: float
    upper: float


def forecast(
    model: Pipeline, closes: np.ndarray, residual_quantiles: dict[str, list[float]]
) -> list[ForecastPoint]:
    """The next HORIZON closes from the last day's features, with the 80 % band."""
    closes = np.asarray(closes, dtype=np.float64)
    if len(closes) < LOOKBACK + 1:
        raise NotEnoughHistory(LOOKBACK + 1, len(closes))
    features = make_features(closes)[-1:]
    log_returns = model.predict(features)[0]
    last = float(closes[-1])
    lower, upper = residual_quantiles["lower"], residual_quantiles["upper"]
    return [
        ForecastPoint(
            step=h,
            predicted=last * math.exp(log_returns[h - 1]),
            lower=last * math.exp(log_returns[h - 1] + min(lower[h - 1], 0.0)),
            upper=last * math.exp(log_returns[h - 1] + max(upper[h - 1], 0.0)),
        )
        for h in range(1, HORIZON + 1)
    ]
