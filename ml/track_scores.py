"""A track record's arithmetic (no Django): per horizon, the realised MAE of stored
forecasts, the MAE of the naive as-of close on the same days, the skill between the
two and how often the actual close fell inside the band."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScoredDay:
    """One predicted day of one stored forecast whose actual close has arrived, every
    price in that forecast's own price basis."""

    step: int  # trading days after as-of
    predicted: float
    lower: float
    upper: float
    naive: float  # the naive forecast: the close of as-of
    actual: float


@dataclass(frozen=True)
class HorizonScore:
    """The record at one horizon, over every scored day at that step (None: none)."""

    horizon_days: int
    forecasts: int  # forecasts with an actual close at this horizon
    mae: float | None
    naive_mae: float | None
    # 1 - MAE / naive MAE: above 0 the forecasts beat the naive one at this horizon;
    # None when nothing is scored or the naive forecast was never wrong.
    skill: float | None
    inside_band_pct: float | None

    def as_dict(self) -> dict[str, int | float | None]:
        return {
            "horizon_days": self.horizon_days,
            "forecasts": self.forecasts,
            "mae": self.mae,
            "naive_mae": self.naive_mae,
            "skill": self.skill,
            "inside_band_pct": self.inside_band_pct,
        }


def horizon_score(horizon_days: int, days: list[ScoredDay]) -> HorizonScore:
    """The record of `days` (all at one horizon)."""
    count = len(days)
    if not count:
        return HorizonScore(horizon_days, 0, None, None, None, None)
    mae = sum(abs(day.actual - day.predicted) for day in days) / count
    naive_mae = sum(abs(day.actual - day.naive) for day in days) / count
    inside = sum(day.lower <= day.actual <= day.upper for day in days)
    return HorizonScore(
        horizon_days=horizon_days,
        forecasts=count,
        mae=mae,
        naive_mae=naive_mae,
        skill=1 - mae / naive_mae if naive_mae > 0 else None,
        inside_band_pct=inside / count * 100,
    )


def horizon_scores(days: Iterable[ScoredDay], horizon: int) -> list[HorizonScore]:
    """The record at each horizon 1..`horizon`, one entry per horizon (a horizon no
    forecast has reached yet has a count of 0 and no figures)."""
    by_step: dict[int, list[ScoredDay]] = defaultdict(list)
    for day in days:
        by_step[day.step].append(day)
    return [horizon_score(step, by_step[step]) for step in range(1, horizon + 1)]
