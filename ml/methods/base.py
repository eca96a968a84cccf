"""What a forecasting method provides to the harness and the registry."""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

HORIZON = 30  # trading days ahead: every method predicts steps 1..HORIZON


class ArtifactRejected(ValueError):
    """A stored artifact this method will not load; `reason` is a short code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Method(Protocol):
    """A forecaster of log returns from daily closes.

    `predict` must use, for each origin o, only closes[: o + 1]: the harness
    relies on that for a walk-forward without look-ahead (and tests it).
    """

    key: str  # stored on TrainedModel.method
    label: str  # its short name for staff: "Linear regression"
    algorithm: str  # what it is, in a sentence
    library: str  # the library that fits it, e.g. "scikit-learn"
    features: tuple[str, ...]  # the derived inputs it reads, stored with the model

    def library_version(self) -> str: ...

    def fit(self, closes: np.ndarray, previous: Any = None) -> Any:
        """The fitted state, from every close (the harness passes a prefix).

        `previous`, the state fitted on a shorter prefix, may seed the search; the
        result must not depend on it beyond the optimiser's tolerance.
        """
        ...

    def predict(
        self, fitted: Any, closes: np.ndarray, origins: np.ndarray
    ) -> np.ndarray:
        """Predicted log returns from closes[o] to closes[o + h], one row per
        origin o, one column per h = 1..HORIZON."""
        ...

    def dumps(self, fitted: Any) -> bytes: ...

    def loads(self, artifact: bytes, *, library_version: str) -> Any:
        """The fitted state back, or ArtifactRejected."""
        ...
