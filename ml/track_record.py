"""Track records: how a model's stored forecasts did on the days whose prices have
arrived, live forecasts and hindcasts apart (the arithmetic in ml.track_scores).

Computed at read time from the stored forecasts and bars, in a fixed handful of
queries however many forecasts there are: forecasts are never edited, so the record
changes only when bars arrive or a corporate action is recorded, and reading it then
needs no stored summary to be brought up to date by every path that writes bars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet

from core.adjustment import NONE
from core.models import Symbol
from core.selectors import bars_adjusted, bars_frame, bars_stored_range
from ml.forecaster import REPORTED_HORIZONS
from ml.methods import HORIZON
from ml.models import Prediction, PredictionRun, TrainedModel
from ml.track_scores import ScoredDay, horizon_scores

LIVE = "live"
HINDCAST = "hindcast"
NAIVE = "the close of the forecast's as-of day (no change)"
_PRICE_STEP = Decimal("0.0001")


def forecast_track_record(run: PredictionRun) -> dict[str, Any]:
    """The track record of the model a forecast came from: its own for a live
    forecast; for a hindcast, that of the live model whose pipeline it repeats."""
    model = run.model.based_on if run.is_hindcast else run.model
    return track_record(run.symbol, model)


def model_track_record(model: TrainedModel) -> dict[str, Any]:
    """A live model's track record (a hindcast model's: its live model's)."""
    return track_record(model.symbol, model.based_on if model.is_hindcast else model)


def track_record(symbol: Symbol, model: TrainedModel | None) -> dict[str, Any]:
    """The record of a live model's forecasts and of the hindcasts repeating its
    pipeline; with no model, of the symbol's hindcasts made with the default
    pipeline (no live model was active), which have no live forecasts.

    Per kind: how many forecasts are stored, how many have an actual close, and per
    horizon 1..30 (with a summary at 1, 5 and 30 days) the realised MAE, the naive
    MAE on the same days, the skill 1 - MAE / naive MAE and the share inside the
    80 % band, each price in its forecast's own basis (as forecast_rows shows it).
    """
    chosen = _runs(symbol, model)
    runs = list(
        chosen.values_list("pk", "is_hindcast", "as_of", "adjust", "last_close")
    )
    _, last_bar = bars_stored_range(symbol)
    days = _scored_days(symbol, chosen, runs, last_bar) if runs and last_bar else {}
    record: dict[str, Any] = {
        "model": None
        if model is None
        else {"id": model.pk, "version": model.version, "algorithm": model.algorithm},
        "scope": _scope(symbol, model),
        "prices_through": last_bar.isoformat() if last_bar else None,
        "naive": NAIVE,
    }
    for kind, hindcast in ((LIVE, False), (HINDCAST, True)):
        ids = {pk for pk, is_hindcast, *_ in runs if is_hindcast == hindcast}
        scored = [day for pk in ids for day in days.get(pk, [])]
        horizons = [score.as_dict() for score in horizon_scores(scored, HORIZON)]
        record[kind] = {
            "forecasts": len(ids),
            "forecasts_scored": sum(1 for pk in ids if days.get(pk)),
            "days_scored": len(scored),
            "summary": [h for h in horizons if h["horizon_days"] in REPORTED_HORIZONS],
            "horizons": horizons,
        }
    return record


def _runs(symbol: Symbol, model: TrainedModel | None) -> QuerySet[PredictionRun]:
    if model is None:
        return PredictionRun.objects.filter(
            symbol=symbol, is_hindcast=True, model__based_on__isnull=True
        )
    return PredictionRun.objects.filter(symbol=symbol).filter(
        Q(is_hindcast=False, model=model) | Q(is_hindcast=True, model__based_on=model)
    )


def _scope(symbol: Symbol, model: TrainedModel | None) -> str:
    if model is None:
        return (
            f"{symbol.ticker} hindcasts made with the default pipeline, when no live "
            "model was active"
        )
    return (
        f"{symbol.ticker} model v{model.version}: its live forecasts, and the "
        "hindcasts made with its pipeline (each refitted on the bars up to its day)"
    )


def _scored_days(
    symbol: Symbol,
    chosen: QuerySet[PredictionRun],
    runs: list[tuple[Any, ...]],
    last_bar: date,
) -> dict[int, list[ScoredDay]]:
    """Each run's predicted days up to the last stored bar that have an actual close."""
    predictions = (
        Prediction.objects.filter(run__in=chosen.values("pk"), date__lte=last_bar)
        .order_by("run_id", "step")
        .values_list("run_id", "step", "date", "predicted_close", "lower", "upper")
    )
    by_run: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
    for row in predictions:
        by_run[row[0]].append(row)
    if not by_run:
        return {}
    start = min(as_of for pk, _, as_of, *_ in runs if pk in by_run)
    actuals = _Actuals(symbol, start, last_bar, {run[3] for run in runs})
    scored: dict[int, list[ScoredDay]] = {}
    for pk, _, as_of, adjust, last_close in runs:
        rows = by_run.get(pk, [])
        closes = actuals.of_run(as_of, adjust, last_close, [row[2] for row in rows])
        scored[pk] = [
            ScoredDay(
                step=step,
                predicted=float(predicted),
                lower=float(lower),
                upper=float(upper),
                naive=float(last_close),
                actual=float(closes[day]),
            )
            for _, step, day, predicted, lower, upper in rows
            if day in closes
        ]
    return scored


class _Actuals:
    """The stored closes from `start` to `end`, as traded and adjusted by each mode
    once, to bring every run's actual closes into its price basis.

    The same closes as ml.selectors' _actual_closes reads per run (the forecast's
    last close times the adjusted series' move since as-of, when an action after
    as-of applies), without a query per run: the adjusted closes of as-of and later
    days are the same from a wider window, since only actions after a day scale it.
    """

    def __init__(self, symbol: Symbol, start: date, end: date, modes: Iterable[str]):
        bars = bars_frame(symbol, start=start, end=end)
        self.raw: dict[date, Decimal] = dict(
            zip(bars["date"], bars["close"], strict=True)
        )
        self.adjusted: dict[str, tuple[dict[date, Decimal], list[date]]] = {}
        for mode in set(modes) - {NONE}:
            try:
                series = bars_adjusted(symbol, adjust=mode, start=start, end=end)
            except ValueError:
                # A dividend that cannot adjust the prices: as traded, as per run.
                continue
            frame = series.frame
            self.adjusted[mode] = (
                dict(zip(frame["date"], frame["close"], strict=True)),
                [item.action.day for item in series.applied],
            )

    def of_run(
        self, as_of: date, adjust: str, last_close: Decimal, days: list[date]
    ) -> dict[date, Decimal]:
        """The actual close of each of `days` that has a bar, in the basis of a run
        as of `as_of` on the `adjust` series whose last close was `last_close`."""
        adjusted = self.adjusted.get(adjust)
        if adjusted is not None:
            closes, action_days = adjusted
            if as_of in closes and any(day > as_of for day in action_days):
                scale = last_close / Decimal(closes[as_of])
                return {
                    day: (Decimal(closes[day]) * scale).quantize(_PRICE_STEP)
                    for day in days
                    if day in closes
                }
        return {day: self.raw[day] for day in days if day in self.raw}
