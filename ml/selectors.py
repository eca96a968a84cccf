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
from ml.evaluation import overall_verdict
from ml.forecaster import REPORTED_HORIZONS
from ml.models import PredictionRun, TrainedModel
from ml.track_record import forecast_track_record

# A model trained before the Diebold-Mariano test carries no test to read.
NOT_TESTED = "not evaluated with the significance test; retrain"
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
        "method": model.method,
        "algorithm": model.algorithm,
        "library_version": model.library_version,
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


def _versus(scores: dict[str, Any], key: str) -> dict[str, Any]:
    """One baseline's test at one horizon; a model evaluated before the test has none."""
    test = scores.get(key)
    if test is None:
        return {"verdict": NOT_TESTED, "p_value": None, "diebold_mariano": None}
    dm = test["diebold_mariano"]
    return {
        "verdict": test["verdict"],
        "p_value": dm["p_value"] if dm is not None else None,
        "diebold_mariano": dm,
    }


def evaluation_summary(model: TrainedModel) -> dict[str, Any]:
    """The walk-forward record beside naive and drift, the verdict first: per horizon
    the Diebold-Mariano test against naive (one of VERDICTS) and against drift.

    A model trained before the test and the calibrated band reads as it was stored:
    its verdict says so (NOT_TESTED) and its in-band share is the in-sample one.
    """
    evaluation = model.evaluation
    tested = bool(evaluation.get("significance_test"))
    horizons = []
    for h in REPORTED_HORIZONS:
        scores = evaluation["horizons"].get(str(h))
        if scores is None:
            continue
        naive, drift = _versus(scores, "vs_naive"), _versus(scores, "vs_drift")
        horizons.append(
            {
                "verdict": naive["verdict"],
                "p_value": naive["p_value"],
                "horizon_days": h,
                "vs_drift": {"verdict": drift["verdict"], "p_value": drift["p_value"]},
                "diebold_mariano": {
                    "vs_naive": naive["diebold_mariano"],
                    "vs_drift": drift["diebold_mariano"],
                },
                "origins": scores["origins"],
                "model": scores["model"],
                "naive": scores["naive"],
                "drift": scores.get("drift"),
                "inside_band_pct": scores["inside_band_pct"],
                "band": {
                    "out_of_sample": "band_test_origins" in scores,
                    "calibration_origins": scores.get("band_calibration_origins"),
                    "test_origins": scores.get("band_test_origins"),
                },
            }
        )
    verdicts = [horizon["verdict"] for horizon in horizons]
    return {
        "verdict": overall_verdict(verdicts) if tested else NOT_TESTED,
        "significance_test": tested,
        "method": evaluation["method"],
        "first_origin_date": evaluation.get("first_origin_date"),
        "horizons": horizons,
        "band_method": evaluation.get("band", {}).get("method"),
    }


def verdict_summary(model: TrainedModel) -> dict[str, Any]:
    """The verdict in one place, to state before any forecast figure: overall, in
    words, and per horizon against naive and drift."""
    summary = evaluation_summary(model)
    horizons = [
        {
            "horizon_days": horizon["horizon_days"],
            "verdict": horizon["verdict"],
            "p_value": horizon["p_value"],
            "vs_drift": horizon["vs_drift"],
        }
        for horizon in summary["horizons"]
    ]
    if not summary["significance_test"]:
        text = (
            f"Model v{model.version} was not evaluated with the significance test; "
            "retrain it to see whether it beats the naive last-close forecast."
        )
    else:
        # Each p-value is written beside it, so the words drop their "(p < 0.05)".
        parts = "; ".join(
            f"{h['horizon_days']} day{'s' if h['horizon_days'] != 1 else ''} "
            f"{h['verdict'].split(' (')[0]}, {_p(h['p_value'])}"
            for h in horizons
        )
        text = f"Diebold-Mariano test against naive (last close): {parts}."
    return {"summary": summary["verdict"], "text": text, "horizons": horizons}


def _p(value: float | None) -> str:
    if value is None:
        return "no p-value: the errors do not differ"
    return "p < 0.001" if value < 0.001 else f"p = {value:.3f}"


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
    band = (
        "80 % band calibrated on earlier out-of-sample errors of the walk-forward "
        "evaluation, its coverage measured on later ones"
        if run.model.evaluation.get("significance_test")
        else "80 % band from out-of-sample errors of the walk-forward evaluation"
    )
    if run.is_hindcast:
        band += f" on the bars up to {run.model.train_end} only"
    return {
        # Stated first: whether the model has shown any skill over naive.
        "verdict": verdict_summary(run.model),
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
        # How the model's stored forecasts did so far (ml.track_record).
        "track_record": forecast_track_record(run),
    }
