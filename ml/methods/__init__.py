"""Forecasting methods the registry can hold, each behind one interface (base.Method):
fit on closes, predict 30 log returns from any origin, and save and load the fitted
state. The walk-forward harness (ml.forecaster) evaluates every method the same way."""

from __future__ import annotations

from ml.methods.base import HORIZON, ArtifactRejected, Method
from ml.methods.ets import ETS
from ml.methods.linear import LINEAR_REGRESSION

METHODS: dict[str, Method] = {method.key: method for method in (LINEAR_REGRESSION, ETS)}
DEFAULT_METHOD = LINEAR_REGRESSION.key


def method_for(key: str) -> Method | None:
    """The method stored under `key`, or None for a key this server does not know."""
    return METHODS.get(key)


__all__ = [
    "DEFAULT_METHOD",
    "ETS",
    "HORIZON",
    "LINEAR_REGRESSION",
    "METHODS",
    "ArtifactRejected",
    "Method",
    "method_for",
]
