"""Shared reads of models and forecasts: one shape for the endpoint, admin and reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core.models import Symbol
from core.selectors import closes_on
from ml.forecaster import REPORTED_HORIZONS
from ml.models import PredictionRun, TrainedModel

BEATS = "beats the naive forecast"
DOES_NOT_BEAT = "does not beat the naive forecast"


def active_model(symbol: Symbol) -> TrainedModel | None:
    return TrainedModel.objects.filter(symbol=symbol, is_active=True).first()


def latest_forecast(symbol: Symbol) -> PredictionRun | None:
    return PredictionRun.objects.filter(symbol=symbol).order_by("-as_of", "-id").first()


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


def forecast_rows(run: PredictionRun) -> list[dict[str, Any]]:
    """Each predicted day, with the actual close and the error once that bar exists."""
    predictions = list(run.predictions.order_by("step"))
    actuals = closes_on(run.symbol_id, [p.date for p in predictions])
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


def forecast_to_dict(run: PredictionRun) -> dict[str, Any]:
    rows = forecast_rows(run)
    return {
        "id": run.pk,
        "symbol": run.symbol.ticker,
        "model": model_summary(run.model),
        "as_of": run.as_of.isoformat(),
        "last_close": float(run.last_close),
        "created_at": run.created_at.isoformat(),
        "predictions": rows,
        "realised": realised_scores(rows),
        "evaluation": evaluation_summary(run.model),
        "band": "80 % band from out-of-sample errors of the walk-forward evaluation",
    }
