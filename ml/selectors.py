"""Shared reads of models and forecasts (hindcasts too): one shape for the endpoint,
admin and reports."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from core.adjustment import NONE
from core.data_quality import price_warnings
from core.models import Symbol
from core.selectors import bars_adjusted, bars_frame, closes_on
from ml.calendar import last_session_on_or_before
from ml.forecaster import REPORTED_HORIZONS
from ml.models import PredictionRun, TrainedModel

BEATS = "beats the naive forecast"
DOES_NOT_BEAT = "does not beat the naive forecast"
SERIES_WORDS = {
    "splits": "split-adjusted prices",
    "total": "total-return prices",
    "none": "as-traded prices",
}
_PRICE_STEP = Decimal("0.0001")


def active_model(symbol: Symbol) -> TrainedModel | None:
    return TrainedModel.objects.filter(symbol=symbol, is_active=True).first()


def latest_forecast(
    symbol: Symbol, *, adjust: str | None = None
) -> PredictionRun | None:
    """The symbol's newest forecast, of that adjustment mode when one is given;
    hindcasts (forecasts of past days asked for later) are not its forecast."""
    runs = PredictionRun.objects.filter(symbol=symbol, is_hindcast=False)
    if adjust is not None:
        runs = runs.filter(adjust=adjust)
    return runs.order_by("-as_of", "-id").first()


def model_summary(model: TrainedModel) -> dict[str, Any]:
    return {
        "id": model.pk,
        "symbol": model.symbol.ticker,
        "version": model.version,
        "algorithm": model.algorithm,
        "trained_at": model.trained_at.isoformat(),
        "training_window": {
            "start": model.train_start.isoformat(),
            "end": model.train_end.isoformat(),
        },
        "sklearn_version": model.sklearn_version,
        "is_active": model.is_active,
        "adjustment": model.adjustment,
        "purpose": model.purpose,
        # A hindcast model's live model, whose pipeline it repeats (None: the
        # default pipeline, or a live model itself).
        "based_on": model.based_on_id,
    }


def evaluation_summary(model: TrainedModel) -> dict[str, Any]:
    """The walk-forward record beside naive, with a plain verdict per horizon."""
    evaluation = model.evaluation
    horizons = []
    for h in REPORTED_HORIZONS:
        scores = evaluation["horizons"].get(str(h))
        if scores is None:
            continue
        horizons.append(
            {
                "horizon_days": h,
                "origins": scores["origins"],
                "model": scores["model"],
                "naive": scores["naive"],
                "inside_band_pct": scores["inside_band_pct"],
                "verdict": BEATS if scores["beats_naive"] else DOES_NOT_BEAT,
            }
        )
    return {
        "method": evaluation["method"],
        "first_origin_date": evaluation.get("first_origin_date"),
        "horizons": horizons,
    }


def _actual_closes(run: PredictionRun, days: list[date]) -> dict[date, Decimal]:
    """The stored close of each day that has a bar, in the forecast's own price basis.

    A split (or, for adjust=total, a dividend) after as-of changes the as-traded
    price level; each close is the forecast's last close times the adjusted series'
    move since as-of, so predicted and actual stay comparable.
    """
    raw = closes_on(run.symbol_id, days)
    if run.adjust == NONE or not raw:
        return raw
    try:
        later = bars_adjusted(
            run.symbol, adjust=run.adjust, start=run.as_of, end=max(raw)
        )
    except ValueError:
        return raw
    bars = later.frame
    if not later.applied or bars.empty or bars["date"].iloc[0] != run.as_of:
        return raw
    scale = run.last_close / Decimal(bars["close"].iloc[0])
    return {
        day: (Decimal(close) * scale).quantize(_PRICE_STEP)
        for day, close in zip(bars["date"], bars["close"], strict=True)
        if day in raw
    }


def closes_before_forecast(
    symbol: Symbol, *, adjust: str, as_of: date, last_close: float, count: int
) -> list[tuple[date, float]]:
    """The last `count` closes up to as_of in a forecast's price basis, to draw
    before it: its last close times the adjusted series' move to as-of, so a split
    inside the history does not show as a jump beside the forecast."""
    # Enough calendar days for `count` sessions; earlier actions do not change the
    # moves inside the window.
    start = as_of - timedelta(days=count * 2 + 10)
    try:
        adjusted = bars_adjusted(symbol, adjust=adjust, start=start, end=as_of)
        bars, applied = adjusted.frame, adjusted.applied
    except ValueError:
        bars, applied = bars_frame(symbol, start=start, end=as_of), []
    bars = bars.tail(count)
    closes = [float(close) for close in bars["close"]]
    if applied and closes and bars["date"].iloc[-1] == as_of:
        scale = float(last_close) / closes[-1]
        closes = [close * scale for close in closes]
    return list(zip(bars["date"], closes, strict=True))


def forecast_rows(run: PredictionRun) -> list[dict[str, Any]]:
    """Each predicted day, with the actual close and the error once that bar exists."""
    predictions = list(run.predictions.order_by("step"))
    actuals = _actual_closes(run, [p.date for p in predictions])
    rows = []
    for prediction in predictions:
        actual: Decimal | None = actuals.get(prediction.date)
        rows.append(
            {
                "step": prediction.step,
                "date": prediction.date.isoformat(),
                "predicted_close": float(prediction.predicted_close),
                "lower": float(prediction.lower),
                "upper": float(prediction.upper),
                "actual_close": float(actual) if actual is not None else None,
                "error": float(actual - prediction.predicted_close)
                if actual is not None
                else None,
                "inside_band": (prediction.lower <= actual <= prediction.upper)
                if actual is not None
                else None,
            }
        )
    return rows


def realised_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """How the forecast has done so far on the days that have arrived."""
    known = [row for row in rows if row["actual_close"] is not None]
    if not known:
        return {"days_known": 0, "mae": None, "inside_band_pct": None}
    return {
        "days_known": len(known),
        "mae": sum(abs(row["error"]) for row in known) / len(known),
        "inside_band_pct": sum(row["inside_band"] for row in known) / len(known) * 100,
    }


def forecast_warnings(run: PredictionRun) -> list[str]:
    """What the prices the forecast read call for, in words (core.data_quality), and
    a model fitted on another series than the forecast's."""
    warnings = price_warnings(run.symbol, start=None, end=run.as_of, adjust=run.adjust)
    model = run.model
    trained_on = model.adjustment.get("actions", [])
    if model.adjust != run.adjust and (trained_on or run.adjustment.get("actions")):
        warnings.append(
            f"Model v{model.version} was trained on {SERIES_WORDS[model.adjust]} "
            f"(adjust={model.adjust}); this forecast reads "
            f"{SERIES_WORDS[run.adjust]} (adjust={run.adjust})."
        )
    return warnings


def hindcast_note(requested: date, used: date) -> str | None:
    """Why a hindcast asked for `requested` starts from `used`, in words; None when
    they are the same day."""
    if used == requested:
        return None
    session = last_session_on_or_before(requested)
    notes = []
    if session != requested:
        notes.append(
            f"{requested} is not a trading session (a weekend or an exchange "
            f"holiday); the hindcast is as of the last session before it, {session}."
        )
    if used != session:
        notes.append(
            f"No bar is stored for {session}; the hindcast is as of the last stored "
            f"bar before it, {used}."
        )
    return " ".join(notes)


def forecast_to_dict(run: PredictionRun) -> dict[str, Any]:
    rows = forecast_rows(run)
    band = "80 % band from out-of-sample errors of the walk-forward evaluation"
    if run.is_hindcast:
        band += f" on the bars up to {run.model.train_end} only"
    return {
        "id": run.pk,
        "symbol": run.symbol.ticker,
        "hindcast": run.is_hindcast,
        # The last bar the model was fitted on: as_of itself for a hindcast.
        "trained_through": run.model.train_end.isoformat(),
        "model": model_summary(run.model),
        "as_of": run.as_of.isoformat(),
        "last_close": float(run.last_close),
        "created_at": run.created_at.isoformat(),
        "adjustment": run.adjustment,
        "warnings": forecast_warnings(run),
        "predictions": rows,
        "realised": realised_scores(rows),
        "evaluation": evaluation_summary(run.model),
        "band": band,
    }
