"""The per-symbol leaderboard of forecasting models: each method's newest model (and
the active one), ranked by walk-forward skill against naive, with the verdicts, the
band's out-of-sample coverage and the realised track record beside it."""

from __future__ import annotations

from statistics import fmean
from typing import Any

from core.models import Symbol
from ml.forecaster import REPORTED_HORIZONS
from ml.methods import method_for
from ml.models import TrainedModel
from ml.selectors import evaluation_summary
from ml.track_record import model_track_record

RANKING = (
    "mean walk-forward skill at 1, 5 and 30 days, skill = 1 - MAE / naive MAE on the "
    "same origins (above 0: closer than the last close); the verdicts say whether a "
    "difference is more than chance"
)


def _contenders(symbol: Symbol) -> list[TrainedModel]:
    """The newest live model of each method and price series, and the active model
    (which staff may have chosen among older ones)."""
    models = (
        TrainedModel.objects.filter(symbol=symbol)
        .select_related("symbol")
        .defer("artifact")
        .order_by("-trained_at", "-id")
    )
    chosen: dict[tuple[str, str], TrainedModel] = {}
    active = None
    for model in models:
        chosen.setdefault((model.method, model.adjust), model)
        if model.is_active:
            active = model
    picked = list(chosen.values())
    if active is not None and active not in picked:
        picked.append(active)
    return picked


def _skill(mae: float | None, naive_mae: float | None) -> float | None:
    if mae is None or not naive_mae:
        return None
    return 1.0 - mae / naive_mae


def _entry(model: TrainedModel) -> dict[str, Any]:
    summary = evaluation_summary(model)
    record = model_track_record(model)
    realised = {h["horizon_days"]: h for h in record["live"]["summary"]}
    horizons = []
    for horizon in summary["horizons"]:
        days = horizon["horizon_days"]
        live = realised.get(days)
        horizons.append(
            {
                "horizon_days": days,
                "mae": horizon["model"]["mae"],
                "naive_mae": horizon["naive"]["mae"],
                "skill": _skill(horizon["model"]["mae"], horizon["naive"]["mae"]),
                "verdict": horizon["verdict"],
                "p_value": horizon["p_value"],
                "vs_drift": horizon["vs_drift"],
                "inside_band_pct": horizon["inside_band_pct"],
                "realised_forecasts": live["forecasts"] if live else 0,
                "realised_skill": live["skill"] if live else None,
                "realised_inside_band_pct": live["inside_band_pct"] if live else None,
            }
        )
    skills = [h["skill"] for h in horizons if h["skill"] is not None]
    method = method_for(model.method)
    return {
        "model": model.pk,
        "version": model.version,
        "method": model.method,
        "method_label": method.label if method is not None else model.method,
        "algorithm": model.algorithm,
        "adjust": model.adjust,
        "trained_at": model.trained_at.isoformat(),
        "train_end": model.train_end.isoformat(),
        "is_active": model.is_active,
        "verdict": summary["verdict"],
        "significance_test": summary["significance_test"],
        "mean_skill": fmean(skills) if len(skills) == len(REPORTED_HORIZONS) else None,
        "horizons": horizons,
        "live_forecasts_scored": record["live"]["forecasts_scored"],
    }


def model_leaderboard(symbol: Symbol) -> dict[str, Any]:
    """The symbol's contending models, best first (models without a full walk-forward
    record last), each with its rank."""
    entries = [_entry(model) for model in _contenders(symbol)]
    entries.sort(
        key=lambda entry: (
            entry["mean_skill"] is None,
            -(entry["mean_skill"] or 0.0),
            entry["trained_at"],
        )
    )
    for rank, entry in enumerate(entries, start=1):
        entry["rank"] = rank
    return {"symbol": symbol.ticker, "ranking": RANKING, "models": entries}
