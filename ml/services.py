"""The only writers of models and forecasts: train, activate, load safely, forecast."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

import numpy as np
import sklearn
import skops.io
from django.db import IntegrityError, transaction
from django.db.models import Max
from sklearn.pipeline import Pipeline

from core.adjustment import ADJUST_MODES, DEFAULT_ADJUST
from core.errors import Conflict, InvalidInput, NotEnoughData, NotFound, StockDeskError
from core.models import Symbol
from core.selectors import AdjustedBars, bars_adjusted, symbol_get
from core.services import Requester, author_or_none
from ml.calendar import next_sessions
from ml.features import FEATURE_NAMES, LOOKBACK
from ml.forecaster import (
    ALGORITHM,
    HORIZON,
    MIN_HISTORY,
    NotEnoughHistory,
    evaluate,
    fit,
    forecast,
)
from ml.models import Prediction, PredictionRun, TrainedModel

_PRICE_STEP = Decimal("0.0001")


class ModelUnusable(StockDeskError):
    """A stored model that must not be loaded: tampered, or from another scikit-learn."""

    status = 409
    code = "model_unusable"


def check_adjust(adjust: str) -> str:
    """The adjustment rule of models and forecasts: one of ADJUST_MODES (the same
    rule and words as backtesting.params.check_adjust, which ml may not import)."""
    if adjust not in ADJUST_MODES:
        modes = ", ".join(ADJUST_MODES)
        raise InvalidInput(
            f"adjust must be one of {modes}; got {str(adjust)[:20]!r}.",
            code="invalid_parameter",
            details={"parameter": "adjust"},
        )
    return adjust


def _series(symbol: Symbol, adjust: str) -> AdjustedBars:
    """Every stored bar of the symbol, adjusted by `adjust` (core.selectors)."""
    check_adjust(adjust)
    try:
        adjusted = bars_adjusted(symbol, adjust=adjust)
    except ValueError as exc:
        # core.adjustment refuses a dividend at or above the close before it.
        raise Conflict(
            f"{symbol.ticker}'s recorded dividends cannot adjust its prices: {exc}.",
            code="bad_corporate_action",
            details={"symbol": symbol.ticker, "adjust": adjust},
        ) from exc
    if adjusted.frame.empty:
        raise NotFound(f"{symbol.ticker} has no price bars.", code="no_data")
    return adjusted


def _closes(adjusted: AdjustedBars) -> tuple[np.ndarray, list]:
    bars = adjusted.frame
    return bars["close"].to_numpy(dtype=np.float64), list(bars["date"])


def _actions_digest(block: dict[str, Any]) -> str:
    """sha256 of the applied actions of an adjustment block, written canonically.

    The same rule as backtesting.services (ml may not import it: the same floor).
    """
    text = json.dumps(block["actions"], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --- Training and the registry -------------------------------------------------------


def model_train(
    *, ticker: str, adjust: str = DEFAULT_ADJUST, user: Requester = None
) -> TrainedModel:
    """Fit and evaluate a model on the symbol's stored closes, adjusted by `adjust`
    (split-adjusted by default); it becomes the active one."""
    symbol = symbol_get(ticker)
    series = _series(symbol, adjust)
    closes, dates = _closes(series)
    if len(closes) < MIN_HISTORY:
        raise NotEnoughData(
            f"{ticker} has {len(closes)} daily bars; training and evaluating a model "
            f"needs at least {MIN_HISTORY}.",
            details={"needed": MIN_HISTORY, "available": len(closes)},
        )
    evaluation = evaluate(closes)
    pipeline = fit(closes)
    artifact = skops.io.dumps(pipeline)
    evaluation["first_origin_date"] = dates[
        evaluation.pop("first_origin_index")
    ].isoformat()
    with transaction.atomic():
        latest = TrainedModel.objects.select_for_update().filter(symbol=symbol)
        version = (latest.aggregate(top=Max("version"))["top"] or 0) + 1
        latest.filter(is_active=True).update(is_active=False)
        return TrainedModel.objects.create(
            symbol=symbol,
            algorithm=ALGORITHM,
            version=version,
            features=list(FEATURE_NAMES),
            horizon=HORIZON,
            train_start=dates[0],
            train_end=dates[-1],
            train_rows=len(closes) - LOOKBACK - HORIZON,
            adjust=adjust,
            adjustment=series.block(),
            sklearn_version=sklearn.__version__,
            artifact=artifact,
            sha256=hashlib.sha256(artifact).hexdigest(),
            evaluation=evaluation,
            residual_quantiles={
                "lower": evaluation["band"]["lower"],
                "upper": evaluation["band"]["upper"],
            },
            is_active=True,
            created_by=author_or_none(user),
        )


@transaction.atomic
def model_activate(*, model: TrainedModel) -> TrainedModel:
    """Make this the symbol's active model (the one forecasts use)."""
    TrainedModel.objects.filter(symbol=model.symbol_id, is_active=True).exclude(
        pk=model.pk
    ).update(is_active=False)
    TrainedModel.objects.filter(pk=model.pk).update(is_active=True)
    model.is_active = True
    return model


def model_load(model: TrainedModel) -> Pipeline:
    """The fitted pipeline, after checking its hash, its scikit-learn and its types."""
    artifact = bytes(model.artifact)
    if hashlib.sha256(artifact).hexdigest() != model.sha256:
        raise ModelUnusable(
            f"Model {model.pk} failed its integrity check (sha256 mismatch): the stored "
            "artifact was changed. Train a new model.",
            details={"model": model.pk, "reason": "hash_mismatch"},
        )
    if model.sklearn_version != sklearn.__version__:
        raise ModelUnusable(
            f"Model {model.pk} was saved by scikit-learn {model.sklearn_version}; this "
            f"server runs {sklearn.__version__}. Train a new model "
            "(manage.py train_model) rather than load it.",
            details={"model": model.pk, "reason": "sklearn_version"},
        )
    try:
        # trusted=None: only the types skops trusts by default may be loaded.
        loaded = skops.io.loads(artifact, trusted=None)
    except Exception as exc:
        raise ModelUnusable(
            f"Model {model.pk} could not be loaded safely: {type(exc).__name__}.",
            details={"model": model.pk, "reason": "untrusted_or_corrupt"},
        ) from exc
    if not isinstance(loaded, Pipeline):
        raise ModelUnusable(
            f"Model {model.pk} is not a scikit-learn pipeline.",
            details={"model": model.pk, "reason": "wrong_type"},
        )
    return loaded


# --- Forecasts -----------------------------------------------------------------------


def _price(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_PRICE_STEP)


def forecast_create(
    *, ticker: str, adjust: str = DEFAULT_ADJUST, user: Requester = None
) -> tuple[PredictionRun, bool]:
    """Forecast the next 30 trading days with the symbol's active model, from its
    closes adjusted by `adjust` (split-adjusted by default).

    A forecast for the same symbol, model, as-of day and series (mode and actions
    applied) already stored is returned as it is (False): forecasts are never
    recomputed or edited.
    """
    symbol = symbol_get(ticker)
    series = _series(symbol, adjust)
    closes, dates = _closes(series)
    block = series.block()
    model = TrainedModel.objects.filter(symbol=symbol, is_active=True).first()
    if model is None:
        raise Conflict(
            f"{ticker} has no active model. Train one first: "
            f"`python manage.py train_model --symbol {ticker}` or the admin action "
            "Symbols → Train model.",
            code="no_active_model",
        )
    # The fields of the model's unique constraint.
    identity = {
        "symbol": symbol,
        "model": model,
        "as_of": dates[-1],
        "adjust": adjust,
        "actions_digest": _actions_digest(block),
    }
    as_of = dates[-1]
    existing = PredictionRun.objects.filter(**identity).first()
    if existing is not None:
        return existing, False
    try:
        points = forecast(model_load(model), closes, model.residual_quantiles)
    except NotEnoughHistory as exc:
        raise NotEnoughData(
            f"{ticker} has {exc.available} daily bars; a forecast needs at least "
            f"{exc.needed}.",
            details={"needed": exc.needed, "available": exc.available},
        ) from exc
    sessions = next_sessions(as_of, HORIZON)
    try:
        with transaction.atomic():
            run = PredictionRun.objects.create(
                **identity,
                adjustment=block,
                last_close=_price(float(closes[-1])),
                created_by=author_or_none(user),
            )
            Prediction.objects.bulk_create(
                Prediction(
                    run=run,
                    step=point.step,
                    date=day,
                    predicted_close=_price(point.predicted),
                    lower=_price(point.lower),
                    upper=_price(point.upper),
                )
                for point, day in zip(points, sessions, strict=True)
            )
    except IntegrityError:
        # Another request stored the same forecast a moment ago: use that one.
        return PredictionRun.objects.get(**identity), False
    return run, True
