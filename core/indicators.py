"""Price indicators shared by features, charts and the admin; numpy only."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def trailing_mean(values: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Mean of the last `window` values up to and including each day; NaN before."""
    values = np.asarray(values, dtype=np.float64)
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        sums = np.concatenate(([0.0], np.cumsum(values)))
        out[window - 1 :] = (sums[window:] - sums[:-window]) / window
    return out
