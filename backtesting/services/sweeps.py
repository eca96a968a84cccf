"""The only writer of sweeps: run a grid of pairs on stored bars with its
out-of-sample proof (backtesting.sweeps) and keep it as one Sweep."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import transaction

from backtesting.engine import bars_needed, prepare_bars
from backtesting.models import Sweep
from backtesting.params import DEFAULT_BENCHMARK, BacktestParams
from backtesting.selectors import benchmark_for
from backtesting.services.runs import _actions_digest, _adjusted_bars
from backtesting.sweeps import SweepOutcome, SweepParams, sweep_analysis
from core.errors import NotEnoughData, NotFound
from core.models import Symbol
from core.selectors import symbol_get
from core.services import Requester, author_or_none


def _benchmark(
    symbol: Symbol,
    params: SweepParams,
    curve: tuple[np.ndarray, np.ndarray] | None,
) -> dict[str, Any]:
    """benchmark_for the in-sample best pair's curve, without the rebased line."""
    if curve is None:
        return {"available": False, "ticker": None, "note": "No pair was chosen."}
    dates, equity = curve
    compared = benchmark_for(
        symbol,
        start=dates[0].item(),
        end=dates[-1].item(),
        adjust=params.adjust,
        dates=dates,
        equity=equity,
        initial_investment=float(params.initial_investment),
        ticker=params.benchmark,
        with_equity=False,
    )
    compared.pop("equity", None)
    return compared


def sweep_create(*, ticker: str, params: SweepParams, user: Requester = None) -> Sweep:
    """Run every pair of params on the stored bars of ticker (adjusted by
    params.adjust) with the in-sample ranking, held-out test, walk-forward and
    verdict, and store the sweep.

    The same request on the same bars (first, last, count) and adjustment gives the
    sweep already stored, as backtest_run_create does for a run.
    """
    symbol = symbol_get(ticker)
    if params.benchmark is not None and params.benchmark != DEFAULT_BENCHMARK:
        # An unknown benchmark is the caller's mistake: say so before the work.
        symbol_get(params.benchmark)
    adjusted = _adjusted_bars(
        symbol,
        BacktestParams(
            initial_investment=params.initial_investment,
            start=params.start,
            end=params.end,
            adjust=params.adjust,
        ),
    )
    bars = adjusted.frame
    if bars.empty:
        raise NotFound(
            f"{ticker} has no price bars in the requested range.",
            code="no_data",
            details={"symbol": ticker},
        )
    pairs = params.pairs()
    smallest = min(slow for _, slow in pairs)
    if len(bars) < bars_needed(smallest):
        raise NotEnoughData(
            f"{ticker} has {len(bars)} bars in the range; the smallest slow window "
            f"of the sweep ({smallest}) needs at least {bars_needed(smallest)}.",
            details={"needed": bars_needed(smallest), "available": len(bars)},
        )
    inputs = {
        "symbol": symbol,
        "fast_range": str(params.fast),
        "slow_range": str(params.slow),
        "initial_investment": params.initial_investment,
        "commission": params.commission,
        "adjust": params.adjust,
        "actions_digest": _actions_digest(adjusted.block()),
        "start_date": bars["date"].iloc[0],
        "end_date": bars["date"].iloc[-1],
        "bar_count": len(bars),
        "oos_fraction": params.oos,
        "benchmark": params.benchmark or "",
    }
    stored = Sweep.objects.filter(**inputs).order_by("id").first()
    if stored is not None:
        return stored
    outcome = sweep_analysis(
        prepare_bars(bars),
        pairs,
        initial_investment=float(params.initial_investment),
        commission=float(params.commission),
        oos=params.oos,
    )
    full = _benchmark(symbol, params, outcome.best_full)
    benchmark = {
        "ticker": full.get("ticker"),
        "full": full,
        "held_out": _benchmark(symbol, params, outcome.best_held_out),
    }
    return _sweep_store(
        inputs=inputs,
        adjustment=adjusted.block(),
        outcome=outcome,
        benchmark=benchmark,
        user=user,
    )


@transaction.atomic
def _sweep_store(
    *,
    inputs: dict[str, Any],
    adjustment: dict[str, Any],
    outcome: SweepOutcome,
    benchmark: dict[str, Any],
    user: Requester,
) -> Sweep:
    best = outcome.best
    verdict = outcome.result["verdict"]
    return Sweep.objects.create(
        **inputs,
        adjustment=adjustment,
        pair_count=len(outcome.rows),
        best_fast=best[0] if best else None,
        best_slow=best[1] if best else None,
        beat_default=verdict["beat_default"],
        rows=outcome.rows,
        result={**outcome.result, "benchmark": benchmark},
        created_by=author_or_none(user),
    )
