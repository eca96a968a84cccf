"""The only writers of models and forecasts: train, activate, load safely, forecast,
and hindcast (the forecast as of a past day from a model trained on the bars up to it)."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import sklearn
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core.adjustment import ADJUST_MODES, DEFAULT_ADJUST, NONE
from core.adjustment import adjust as adjust_frame
from core.errors import Conflict, InvalidInput, NotEnoughData, NotFound, StockDeskError
from core.models import PriceBar, Symbol
from core.selectors import (
    AdjustedBars,
    bars_adjusted,
    bars_frame,
    bars_stored_range,
    corporate_actions,
    symbol_get,
)
from core.services import Requester, author_or_none
from ml.calendar import last_session_on_or_before, next_sessions
from ml.features import LOOKBACK
from ml.forecaster import (
    MIN_HISTORY,
    ForecastPoint,
    NotEnoughHistory,
    evaluate,
    fit,
    forecast,
)
from ml.methods import (
    DEFAULT_METHOD,
    HORIZON,
    METHODS,
    ArtifactRejected,
    Method,
    method_for,
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


def check_method(key: str) -> Method:
    """The forecasting method named `key` (one of ml.methods.METHODS)."""
    method = method_for(key)
    if method is None:
        keys = ", ".join(METHODS)
        raise InvalidInput(
            f"method must be one of {keys}; got {str(key)[:30]!r}.",
            code="invalid_parameter",
            details={"parameter": "method"},
        )
    return method


def _series(symbol: Symbol, adjust: str) -> AdjustedBars:
    """Every stored bar of the symbol, adjusted by `adjust` (core.selectors)."""
    check_adjust(adjust)
    try:
        adjusted = bars_adjusted(symbol, adjust=adjust)
    except ValueError as exc:
        raise _bad_action(symbol, adjust, exc) from exc
    if adjusted.frame.empty:
        raise NotFound(f"{symbol.ticker} has no price bars.", code="no_data")
    return adjusted


def _bad_action(symbol: Symbol, adjust: str, exc: ValueError) -> Conflict:
    # core.adjustment refuses a dividend at or above the close before it.
    return Conflict(
        f"{symbol.ticker}'s recorded dividends cannot adjust its prices: {exc}.",
        code="bad_corporate_action",
        details={"symbol": symbol.ticker, "adjust": adjust},
    )


def _series_through(symbol: Symbol, adjust: str, day: date) -> AdjustedBars:
    """The symbol's bars up to `day`, adjusted by the actions effective by then only.

    A split or dividend after `day` was unknown on it: applying one would rescale the
    history by a factor read from later prices (a dividend's close before its date).
    """
    check_adjust(adjust)
    frame = bars_frame(symbol, end=day)
    if adjust == NONE or frame.empty:
        return AdjustedBars(frame, adjust, [])
    known = [action for action in corporate_actions(symbol) if action.day <= day]
    try:
        adjusted, applied = adjust_frame(frame, known, adjust)
    except ValueError as exc:
        raise _bad_action(symbol, adjust, exc) from exc
    return AdjustedBars(adjusted, adjust, applied)


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


def _fitted(
    closes: np.ndarray, dates: list, method: Method
) -> tuple[dict[str, Any], Any]:
    """The fields of a TrainedModel of `method` fitted and evaluated on `closes`
    (MIN_HISTORY or more), and its fitted state: the same for a live model and a
    hindcast's."""
    evaluation = evaluate(closes, method=method)
    fitted = fit(closes, method)
    artifact = method.dumps(fitted)
    evaluation["first_origin_date"] = dates[
        evaluation.pop("first_origin_index")
    ].isoformat()
    fields = {
        "method": method.key,
        "algorithm": method.algorithm,
        "features": list(method.features),
        "horizon": HORIZON,
        "train_start": dates[0],
        "train_end": dates[-1],
        "train_rows": len(closes) - LOOKBACK - HORIZON,
        "sklearn_version": sklearn.__version__,
        "library_version": f"{method.library} {method.library_version()}",
        "artifact": artifact,
        "sha256": hashlib.sha256(artifact).hexdigest(),
        "evaluation": evaluation,
        # The calibrated band's half-widths, in units of evaluation["band"]["scale"]
        # (ml.forecaster.forecast reads both forms: older models have no scale).
        "residual_quantiles": {
            "lower": evaluation["band"]["lower"],
            "upper": evaluation["band"]["upper"],
            "scale": evaluation["band"]["scale"],
        },
    }
    return fields, fitted


def model_train(
    *,
    ticker: str,
    adjust: str = DEFAULT_ADJUST,
    method: str = DEFAULT_METHOD,
    user: Requester = None,
) -> TrainedModel:
    """Fit and evaluate a model of `method` on the symbol's stored closes, adjusted
    by `adjust` (split-adjusted by default).

    It becomes the active model when the symbol has none or its active model is of
    the same method: a retrain replaces its predecessor, while a model of another
    method waits on the leaderboard until staff activate it.
    """
    chosen = check_method(method)
    symbol = symbol_get(ticker)
    series = _series(symbol, adjust)
    closes, dates = _closes(series)
    if len(closes) < MIN_HISTORY:
        raise NotEnoughData(
            f"{ticker} has {len(closes)} daily bars; training and evaluating a model "
            f"needs at least {MIN_HISTORY}.",
            details={"needed": MIN_HISTORY, "available": len(closes)},
        )
    fields, _ = _fitted(closes, dates, chosen)
    with transaction.atomic():
        # The registry's manager: hindcast models neither count nor lose activity.
        latest = TrainedModel.objects.select_for_update().filter(symbol=symbol)
        version = (latest.aggregate(top=Max("version"))["top"] or 0) + 1
        active = latest.filter(is_active=True).first()
        takes_over = active is None or active.method == chosen.key
        if takes_over:
            latest.filter(is_active=True).update(is_active=False)
        return TrainedModel.objects.create(
            symbol=symbol,
            version=version,
            adjust=adjust,
            adjustment=series.block(),
            is_active=takes_over,
            created_by=author_or_none(user),
            **fields,
        )


@transaction.atomic
def model_activate(*, model: TrainedModel) -> TrainedModel:
    """Make this the symbol's active model (the one forecasts use)."""
    if model.purpose != TrainedModel.Purpose.LIVE:
        raise Conflict(
            f"{model} was trained for one hindcast (on bars up to "
            f"{model.train_end} only) and cannot become the active model; train a "
            "model on every bar instead.",
            code="hindcast_model",
            details={"model": model.pk},
        )
    TrainedModel.objects.filter(symbol=model.symbol_id, is_active=True).exclude(
        pk=model.pk
    ).update(is_active=False)
    TrainedModel.objects.filter(pk=model.pk).update(is_active=True)
    model.is_active = True
    return model


def _unusable(model: TrainedModel, reason: str, why: str) -> ModelUnusable:
    return ModelUnusable(
        f"Model {model.pk} {why}.", details={"model": model.pk, "reason": reason}
    )


def model_method(model: TrainedModel) -> Method:
    """The method of a stored model, refused when this server does not know it."""
    method = method_for(model.method)
    if method is None:
        raise _unusable(
            model,
            "unknown_method",
            f"was fitted by a method this server does not know ({model.method[:30]})",
        )
    return method


def model_load(model: TrainedModel) -> Any:
    """The fitted state, after checking its hash, its library and its types."""
    method = model_method(model)
    artifact = bytes(model.artifact)
    if hashlib.sha256(artifact).hexdigest() != model.sha256:
        raise _unusable(
            model,
            "hash_mismatch",
            "failed its integrity check (sha256 mismatch): the stored artifact was "
            "changed. Train a new model",
        )
    # A scikit-learn model's version is sklearn_version (DESIGN §5), also on models
    # stored before library_version; another library's is library_version's last word.
    version = (
        model.sklearn_version
        if method.library == "scikit-learn"
        else model.library_version.rpartition(" ")[2]
    )
    try:
        return method.loads(artifact, library_version=version)
    except ArtifactRejected as exc:
        if exc.reason == "sklearn_version":
            raise _unusable(
                model,
                exc.reason,
                f"was saved by scikit-learn {model.sklearn_version}; this server runs "
                f"{sklearn.__version__}. Train a new model "
                "(manage.py train_model) rather than load it",
            ) from exc
        raise _unusable(model, exc.reason, f"could not be used: {exc}") from exc


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
    existing = PredictionRun.objects.filter(**identity).first()
    if existing is not None:
        return existing, False
    try:
        points = forecast(
            model_load(model), closes, model.residual_quantiles, model_method(model)
        )
    except NotEnoughHistory as exc:
        raise NotEnoughData(
            f"{ticker} has {exc.available} daily bars; a forecast needs at least "
            f"{exc.needed}.",
            details={"needed": exc.needed, "available": exc.available},
        ) from exc
    try:
        with transaction.atomic():
            run = _run_store(
                identity=identity,
                block=block,
                last_close=float(closes[-1]),
                points=points,
                user=user,
            )
    except IntegrityError:
        # Another request stored the same forecast a moment ago: use that one.
        return PredictionRun.objects.get(**identity), False
    return run, True


def _run_store(
    *,
    identity: dict[str, Any],
    block: dict[str, Any],
    last_close: float,
    points: list[ForecastPoint],
    user: Requester,
    is_hindcast: bool = False,
) -> PredictionRun:
    """A PredictionRun and its 30 predictions, on the sessions after as-of."""
    sessions = next_sessions(identity["as_of"], HORIZON)
    run = PredictionRun.objects.create(
        **identity,
        method=identity["model"].method,
        is_hindcast=is_hindcast,
        adjustment=block,
        last_close=_price(last_close),
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
    return run


# --- Hindcasts -----------------------------------------------------------------------


def _as_of_parameter_error(message: str, **details: Any) -> InvalidInput:
    return InvalidInput(
        message, code="invalid_parameter", details={"parameter": "as_of", **details}
    )


def _hindcast_day(symbol: Symbol, requested: date) -> date:
    """The stored bar a hindcast of `requested` starts from: the last NYSE session on
    or before it, or the last stored bar before that session when its bar is missing.
    """
    today = timezone.localdate()
    if requested > today:
        raise _as_of_parameter_error(
            f"as_of {requested} is in the future (today is {today}); a hindcast is "
            "the forecast as of a past trading day."
        )
    first, last = bars_stored_range(symbol)
    if first is None or last is None:
        raise NotFound(f"{symbol.ticker} has no price bars.", code="no_data")
    session = last_session_on_or_before(requested)
    if session > last:
        raise _as_of_parameter_error(
            f"{symbol.ticker}'s last stored bar is {last}; as_of {requested} is after "
            f"it, so the bars up to that day are not stored. Leave as_of out for the "
            "forecast from the last bar.",
            last_bar=last.isoformat(),
        )
    used = (
        PriceBar.objects.filter(symbol=symbol, date__lte=session)
        .order_by("-date")
        .values_list("date", flat=True)
        .first()
    )
    if used is None:
        raise _too_little_history(symbol, requested, available=0)
    return used


def _too_little_history(
    symbol: Symbol, as_of: date, *, available: int
) -> NotEnoughData:
    days = PriceBar.objects.filter(symbol=symbol).order_by("date")
    # The first session with enough bars up to it (a bar on a closed day is no
    # session: a hindcast of that day starts from the session before).
    later = days.values_list("date", flat=True)[MIN_HISTORY - 1 : MIN_HISTORY + 20]
    sessions = [day for day in later if last_session_on_or_before(day) == day]
    first_possible = sessions[0].isoformat() if sessions else None
    hint = (
        f" The first day a hindcast can start from is {first_possible}."
        if first_possible
        else ""
    )
    return NotEnoughData(
        f"{symbol.ticker} has {available} daily bars up to {as_of}; a hindcast trains "
        f"and evaluates a model on them and needs at least {MIN_HISTORY}.{hint}",
        details={
            "needed": MIN_HISTORY,
            "available": available,
            "first_possible_as_of": first_possible,
        },
    )


def hindcast_create(
    *,
    ticker: str,
    as_of: date,
    adjust: str = DEFAULT_ADJUST,
    user: Requester = None,
) -> tuple[PredictionRun, bool]:
    """The forecast a model trained only on the bars up to `as_of` would have made.

    The day is the last session on or before `as_of` that has a stored bar. A fresh
    model is fitted and evaluated (the band from its own walk-forward errors) on the
    bars up to that day, adjusted by the corporate actions effective by then, with the
    method of the symbol's active model (the default one when it has none). It is
    stored as a hindcast model, never active and outside the registry, and the
    forecast as a hindcast. The same symbol, method, day and series asked again
    returns the stored hindcast (False); nothing is recomputed.
    """
    check_adjust(adjust)
    symbol = symbol_get(ticker)
    active = TrainedModel.objects.filter(symbol=symbol, is_active=True).first()
    method = METHODS[DEFAULT_METHOD]
    if active is not None:
        known = method_for(active.method)
        if known is None:
            raise Conflict(
                f"{ticker}'s active model was fitted by a method this server does "
                f"not know ({active.method[:30]}), so a hindcast cannot repeat it; "
                "activate another model of the symbol first.",
                code="hindcast_unsupported",
                details={"model": active.pk},
            )
        method = known
    day = _hindcast_day(symbol, as_of)
    series = _series_through(symbol, adjust, day)
    closes, dates = _closes(series)
    block = series.block()
    identity = {
        "symbol": symbol,
        "as_of": day,
        "adjust": adjust,
        "actions_digest": _actions_digest(block),
    }
    # The fields of the hindcast's unique constraint.
    key = {**identity, "method": method.key, "is_hindcast": True}
    existing = PredictionRun.objects.filter(**key).first()
    if existing is not None:
        return existing, False
    if len(closes) < MIN_HISTORY:
        raise _too_little_history(symbol, day, available=len(closes))
    fields, fitted = _fitted(closes, dates, method)
    points = forecast(fitted, closes, fields["residual_quantiles"], method)
    try:
        with transaction.atomic():
            model = TrainedModel.all_objects.create(
                symbol=symbol,
                # The live model's version it repeats; 0: the default method, no
                # live model.
                version=active.version if active is not None else 0,
                purpose=TrainedModel.Purpose.HINDCAST,
                based_on=active,
                adjust=adjust,
                adjustment=block,
                is_active=False,
                created_by=author_or_none(user),
                **fields,
            )
            run = _run_store(
                identity={**identity, "model": model},
                block=block,
                last_close=float(closes[-1]),
                points=points,
                user=user,
                is_hindcast=True,
            )
    except IntegrityError:
        # Another request stored the same hindcast a moment ago: use that one.
        return PredictionRun.objects.get(**key), False
    return run, True
