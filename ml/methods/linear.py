"""The seed's method: scikit-learn linear regression, direct multi-horizon (one
output per horizon) on lagged-return, moving-average and volatility features."""

from __future__ import annotations

from typing import Any

import numpy as np
import sklearn
import skops.io
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from ml.features import FEATURE_NAMES, LOOKBACK, make_features, make_targets
from ml.methods.base import HORIZON, ArtifactRejected


def build_pipeline() -> Pipeline:
    return make_pipeline(StandardScaler(), LinearRegression())


class LinearRegressionMethod:
    key = "linear_regression"
    algorithm = "LinearRegression, direct multi-horizon (1-30 days) on log returns"
    label = "Linear regression"
    library = "scikit-learn"
    features = FEATURE_NAMES

    def library_version(self) -> str:
        return str(sklearn.__version__)

    def fit(self, closes: np.ndarray, previous: Pipeline | None = None) -> Pipeline:
        """Fit on every day whose HORIZON targets are known: row s needs closes up
        to s + HORIZON. (Least squares has one answer: `previous` is not needed.)"""
        features = make_features(closes)
        targets = make_targets(closes, HORIZON)
        rows = slice(LOOKBACK, len(closes) - HORIZON)
        return build_pipeline().fit(features[rows], targets[rows])

    def predict(
        self, fitted: Pipeline, closes: np.ndarray, origins: np.ndarray
    ) -> np.ndarray:
        # Row o of the features reads closes up to o only (ml.features).
        return np.asarray(fitted.predict(make_features(closes)[origins]))

    def dumps(self, fitted: Pipeline) -> bytes:
        return bytes(skops.io.dumps(fitted))

    def loads(self, artifact: bytes, *, library_version: str) -> Pipeline:
        if library_version != self.library_version():
            raise ArtifactRejected(
                "sklearn_version",
                f"it was saved by scikit-learn {library_version}; this server runs "
                f"{self.library_version()}",
            )
        try:
            # trusted=None: only the types skops trusts by default may be loaded.
            loaded: Any = skops.io.loads(artifact, trusted=None)
        except Exception as exc:
            raise ArtifactRejected(
                "untrusted_or_corrupt",
                f"it could not be loaded safely: {type(exc).__name__}",
            ) from exc
        if not isinstance(loaded, Pipeline):
            raise ArtifactRejected("wrong_type", "it is not a scikit-learn pipeline")
        return loaded


LINEAR_REGRESSION = LinearRegressionMethod()
