"""Forecasting features from daily closes; row t uses only closes up to day t."""

from __future__ import annotations

import numpy as np

from core.indicators import trailing_mean

RETURN_LAGS = (1, 2, 3, 5, 10, 20)
SMA_WINDOWS = (5, 10, 20, 50)
VOLATILITY_WINDOW = 20
FEATURE_NAMES = (
    *(f"log_return_{lag}d" for lag in RETURN_LAGS),
    *(f"close_vs_sma_{window}" for window in SMA_WINDOWS),
    f"volatility_{VOLATILITY_WINDOW}d",
)
# The longest look-back: rows before this index have incomplete features.
LOOKBACK = max(*RETURN_LAGS, *SMA_WINDOWS, VOLATILITY_WINDOW + 1) - 1


def make_features(closes: np.ndarray) -> np.ndarray:
    """One row per day, one column per FEATURE_NAMES entry; NaN before LOOKBACK."""
    closes = np.asarray(closes, dtype=np.float64)
    n = len(closes)
    log_close = np.log(closes)
    columns = []
    for lag in RETURN_LAGS:
        column = np.full(n, np.nan)
        column[lag:] = log_close[lag:] - log_close[:-lag]
        columns.append(column)
    for window in SMA_WINDOWS:
        columns.append(log_close - np.log(trailing_mean(closes, window)))
    daily = np.full(n, np.nan)
    daily[1:] = np.diff(log_close)
    mean = trailing_mean(daily[1:], VOLATILITY_WINDOW)
    mean_sq = trailing_mean(daily[1:] ** 2, VOLATILITY_WINDOW)
    volatility = np.full(n, np.nan)
    volatility[1:] = np.sqrt(np.maximum(mean_sq - mean**2, 0.0))
    columns.append(volatility)
    return np.column_stack(columns)


def make_targets(closes: np.ndarray, horizon: int) -> np.ndarray:
    """Log return from day t to day t+h for h = 1..horizon; NaN past the last day."""
    log_close = np.log(np.asarray(closes, dtype=np.float64))
    n = len(log_close)
    targets = np.full((n, horizon), np.nan)
    for h in range(1, horizon + 1):
        targets[: n - h, h - 1] = log_close[h:] - log_close[:-h]
    return targets
