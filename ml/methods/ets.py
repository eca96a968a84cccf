"""Exponential smoothing (ETS) on log closes, fitted by statsmodels' ETSModel.

Additive errors on log prices; the trend is none or additive damped, whichever has
the lower AICc at the fit (the selection is part of the fit, so the walk-forward
repeats it at every refit). A forecast runs the fitted parameters over the closes
up to its origin and projects the state with no further error, which is the ETS
point forecast. The artifact is the parameters as JSON: nothing in it is code.
"""

from __future__ import annotations

import json
import math
import warnings
from typing import Any

import numpy as np
import statsmodels
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

from ml.methods.base import HORIZON, ArtifactRejected

# (trend, damped_trend) of each candidate: a random walk with noise, and a local
# trend that dies out (an undamped trend on prices extrapolates without bound).
CANDIDATES: tuple[tuple[str | None, bool], ...] = ((None, False), ("add", True))
_FORMAT = 1


def _model(log_closes: np.ndarray, trend: str | None, damped: bool) -> ETSModel:
    return ETSModel(log_closes, error="add", trend=trend, damped_trend=damped)


def smoothed_states(fitted: dict[str, Any], log_closes: np.ndarray) -> np.ndarray:
    """The state (level, and trend when there is one) after each close, from the
    fitted parameters: a causal recursion, row o has read the closes up to o."""
    model = _model(log_closes, fitted["trend"], fitted["damped_trend"])
    return np.asarray(model.smooth(np.asarray(fitted["params"])).states)


class ETSMethod:
    key = "ets"
    algorithm = (
        "ETS on log closes (additive error; no trend or damped trend, chosen by AICc)"
    )
    label = "ETS (exponential smoothing)"
    library = "statsmodels"
    features: tuple[str, ...] = ()  # it reads the log closes themselves

    def library_version(self) -> str:
        return str(statsmodels.__version__)

    def fit(
        self, closes: np.ndarray, previous: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The candidate with the lower AICc. `previous` (a fit on fewer closes)
        starts each candidate's search from its earlier estimate: the walk-forward
        refits then cost a third, for estimates within 1e-4 of a cold start."""
        log_closes = np.log(np.asarray(closes, dtype=np.float64))
        starts = {
            (fit["trend"], fit["damped_trend"]): fit["params"]
            for fit in (previous or {}).get("candidates", [])
        }
        candidates: list[dict[str, Any]] = []
        for trend, damped in CANDIDATES:
            start = starts.get((trend, damped))
            with warnings.catch_warnings():
                # Estimates at a bound (a smoothing level of 0.9999 on a random
                # walk) are the answer, not a failure to report.
                warnings.simplefilter("ignore", ConvergenceWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                result = _model(log_closes, trend, damped).fit(
                    disp=False,
                    start_params=None if start is None else np.asarray(start),
                )
            candidates.append(
                {
                    "trend": trend,
                    "damped_trend": damped,
                    "param_names": list(result.param_names),
                    "params": [float(value) for value in result.params],
                    "aicc": float(result.aicc),
                }
            )
        best = min(candidates, key=lambda fit: fit["aicc"])
        return {"format": _FORMAT, **best, "candidates": candidates}

    def predict(
        self, fitted: dict[str, Any], closes: np.ndarray, origins: np.ndarray
    ) -> np.ndarray:
        log_closes = np.log(np.asarray(closes, dtype=np.float64))
        smoothed = smoothed_states(fitted, log_closes)
        # The point forecast from the state after close o: the level, plus the
        # trend damped step by step. (statsmodels' simulate with zero errors gives
        # the same path one origin per call, a thousand times slower; the tests
        # hold the two equal.)
        levels = smoothed[origins, 0]
        path = np.repeat(levels[:, np.newaxis], HORIZON, axis=1)
        if fitted["trend"] is not None:
            damping = fitted["params"][fitted["param_names"].index("damping_trend")]
            steps = np.cumsum(damping ** np.arange(1, HORIZON + 1))
            path += smoothed[origins, 1][:, np.newaxis] * steps
        return path - log_closes[origins, np.newaxis]

    def dumps(self, fitted: dict[str, Any]) -> bytes:
        return json.dumps(fitted, sort_keys=True).encode()

    def loads(self, artifact: bytes, *, library_version: str) -> dict[str, Any]:
        # The parameters mean the same in any statsmodels that has ETSModel, so a
        # model saved by another version still loads (unlike a pickled pipeline).
        try:
            fitted = json.loads(artifact)
        except ValueError as exc:
            raise ArtifactRejected(
                "untrusted_or_corrupt", "its parameters are not valid JSON"
            ) from exc
        if not _well_formed(fitted):
            raise ArtifactRejected(
                "wrong_type", "it does not hold the parameters of an ETS model"
            )
        return dict(fitted)


def _well_formed(fitted: Any) -> bool:
    if not isinstance(fitted, dict) or fitted.get("format") != _FORMAT:
        return False
    if (fitted.get("trend"), fitted.get("damped_trend")) not in CANDIDATES:
        return False
    names, params = fitted.get("param_names"), fitted.get("params")
    if not isinstance(names, list) or not isinstance(params, list):
        return False
    expected = _model(
        np.zeros(10) + 1.0, fitted["trend"], fitted["damped_trend"]
    ).param_names
    return names == list(expected) and all(
        isinstance(value, float) and math.isfinite(value) for value in params
    )


ETS = ETSMethod()
