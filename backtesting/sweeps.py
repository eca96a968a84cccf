"""Parameter sweeps: the grid, its in-sample ranking, the held-out proof, walk-forward
and the verdict in words; numpy only, JSON-safe output.

docs/backtesting.md (Sweep) defines every rule used here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import numpy as np

from backtesting import kernels
from backtesting.engine import (
    PRICE_SCALE,
    PriceArrays,
    bars_needed,
    crossover_events,
    fill_signals,
    run_arrays,
    trade_figures,
)
from backtesting.metrics import (
    DAYS_PER_YEAR,
    TRADING_DAYS_PER_YEAR,
    Metrics,
    compute_metrics,
    daily_returns,
)
from backtesting.params import (
    DEFAULT_BENCHMARK,
    BacktestParams,
    check_adjust,
    check_commission,
)
from core.adjustment import DEFAULT_ADJUST
from core.errors import InvalidInput
from core.formatting import signed_pct

RANKING_METRIC = "sharpe"
RANKING_TIE_BREAK = "total_return_pct"
# Two-sided p-value below which a held-out difference counts as significant.
SIGNIFICANCE = 0.05
# Walk-forward windows in trading days: two years in sample, six months out, when
# the history holds at least WF_MIN_FOLDS of them; else the same 4:1 proportion.
WF_IN_SAMPLE_BARS = 504
WF_OUT_OF_SAMPLE_BARS = 126
WF_MIN_FOLDS = 3
WF_MIN_OUT_OF_SAMPLE_BARS = 21
# The in-sample figures kept with each row of the grid.
IN_SAMPLE_KEYS = (
    "total_return_pct",
    "cagr_pct",
    "sharpe",
    "max_drawdown_pct",
    "trades",
)

_RANGE = re.compile(r"([0-9]{1,4}):([0-9]{1,4}):([0-9]{1,4})")
_SINGLE = re.compile(r"[0-9]{1,4}")


def _invalid(parameter: str, message: str) -> InvalidInput:
    return InvalidInput(
        message, code="invalid_parameter", details={"parameter": parameter}
    )


@dataclass(frozen=True)
class WindowRange:
    """An inclusive range of SMA windows, written start:stop:step."""

    start: int
    stop: int
    step: int

    def values(self) -> list[int]:
        return list(range(self.start, self.stop + 1, self.step))

    def __str__(self) -> str:
        return f"{self.start}:{self.stop}:{self.step}"

    def check(self, name: str) -> None:
        low, high = BacktestParams.MIN_WINDOW, BacktestParams.MAX_WINDOW
        if self.step <= 0:
            raise _invalid(name, f"{name}: the step must be at least 1; got {self}.")
        if self.start > self.stop:
            raise _invalid(name, f"{name}: start must not be above stop; got {self}.")
        if self.start < low or self.stop > high:
            raise _invalid(
                name, f"{name}: windows must lie from {low} to {high}; got {self}."
            )


def parse_range(raw: str | None, *, name: str, default: WindowRange) -> WindowRange:
    """A range query parameter: "start:stop:step" (inclusive) or one window "20".

    Absent or empty is `default`; anything else malformed is InvalidInput naming
    the parameter.
    """
    if raw is None or raw == "":
        return default
    text = raw.strip() if raw.isascii() else ""
    if _SINGLE.fullmatch(text):
        window = WindowRange(int(text), int(text), 1)
    elif match := _RANGE.fullmatch(text):
        window = WindowRange(*(int(part) for part in match.groups()))
    else:
        raise _invalid(
            name,
            f"{name} must be start:stop:step in whole numbers (e.g. 5:70:5) or one "
            f"window; got {raw[:30]!r}.",
        )
    window.check(name)
    return window


@dataclass(frozen=True)
class SweepParams:
    """A sweep as asked for; checked before any work is done."""

    MAX_PAIRS: ClassVar[int] = 400
    DEFAULT_OOS: ClassVar[float] = 0.3
    MIN_OOS: ClassVar[float] = 0.1
    MAX_OOS: ClassVar[float] = 0.5
    DEFAULT_FAST_RANGE: ClassVar[WindowRange] = WindowRange(5, 70, 5)
    DEFAULT_SLOW_RANGE: ClassVar[WindowRange] = WindowRange(20, 240, 20)

    initial_investment: Decimal
    fast: WindowRange = DEFAULT_FAST_RANGE
    slow: WindowRange = DEFAULT_SLOW_RANGE
    start: date | None = None
    end: date | None = None
    commission: Decimal = Decimal(0)
    adjust: str = DEFAULT_ADJUST
    oos: float = DEFAULT_OOS
    # DEFAULT_BENCHMARK (SPY when stored), None (none) or a normalised ticker.
    benchmark: str | None = DEFAULT_BENCHMARK

    def __post_init__(self) -> None:
        self.fast.check("fast")
        self.slow.check("slow")
        pairs = len(self.pairs())
        if pairs == 0:
            raise _invalid(
                "fast/slow",
                f"No pair with fast < slow in fast={self.fast} and slow={self.slow}.",
            )
        if pairs > self.MAX_PAIRS:
            raise _invalid(
                "fast/slow",
                f"fast={self.fast} and slow={self.slow} make {pairs} pairs with "
                f"fast < slow; a sweep runs at most {self.MAX_PAIRS}. Use larger "
                "steps or narrower ranges.",
            )
        if not (
            isinstance(self.oos, float) and self.MIN_OOS <= self.oos <= self.MAX_OOS
        ):
            raise _invalid(
                "oos",
                f"oos must be a fraction from {self.MIN_OOS} to {self.MAX_OOS}; "
                f"got {self.oos!r}.",
            )
        check_commission(self.commission)
        check_adjust(self.adjust)
        if self.start and self.end and self.start >= self.end:
            raise _invalid(
                "start/end", f"start ({self.start}) must be before end ({self.end})."
            )

    def pairs(self) -> list[tuple[int, int]]:
        """Every (fast, slow) of the ranges with fast < slow, fast first."""
        slows = self.slow.values()
        return [(f, s) for f in self.fast.values() for s in slows if f < s]

    def as_json(self) -> dict[str, Any]:
        return {
            "initial_investment": str(self.initial_investment),
            "fast": str(self.fast),
            "slow": str(self.slow),
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "commission": str(self.commission),
            "adjust": self.adjust,
            "oos": self.oos,
            "benchmark": self.benchmark,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SweepParams:
        return cls(
            initial_investment=Decimal(data["initial_investment"]),
            fast=parse_range(data["fast"], name="fast", default=cls.DEFAULT_FAST_RANGE),
            slow=parse_range(data["slow"], name="slow", default=cls.DEFAULT_SLOW_RANGE),
            start=date.fromisoformat(data["start"]) if data.get("start") else None,
            end=date.fromisoformat(data["end"]) if data.get("end") else None,
            commission=Decimal(data.get("commission") or 0),
            adjust=data.get("adjust") or DEFAULT_ADJUST,
            oos=float(data.get("oos", cls.DEFAULT_OOS)),
            benchmark=data.get("benchmark", DEFAULT_BENCHMARK),
        )


# --- pieces of a price series -------------------------------------------------------


def price_slice(prices: PriceArrays, first: int, last: int) -> PriceArrays:
    """Bars first..last (inclusive) as arrays of their own, as prepare_bars gives them."""
    stop = last + 1
    sums = prices.tick_sums[first : stop + 1] - prices.tick_sums[first]
    return PriceArrays(
        prices.dates[first:stop],
        prices.opens[first:stop],
        prices.closes[first:stop],
        prices.close_ticks[first:stop],
        sums,
    )


@dataclass(frozen=True)
class HeldOut:
    """A strategy on bars split..stop, starting flat in cash at the close of `split`."""

    label: str
    fast: int | None
    slow: int | None
    dates: np.ndarray
    equity: np.ndarray
    metrics: Metrics

    def as_dict(self) -> dict[str, Any]:
        return {"fast": self.fast, "slow": self.slow, **self.metrics.as_dict()}


def held_out_run(
    prices: PriceArrays,
    *,
    fast: int,
    slow: int,
    split: int,
    stop: int,
    initial_investment: float,
    commission: float,
) -> HeldOut | None:
    """The SMA crossover counted from the close of bar `split` to bar `stop`.

    The engine runs on bars split-slow..stop, so both averages exist on bar split-1
    and split, but its first possible signal is the close of `split` (filled at the
    next open): the position is flat at the split and only bars up to each signal
    day decide it. None when fewer than `slow` bars precede the split.
    """
    if split - slow < 0 or stop <= split:
        return None
    window = price_slice(prices, split - slow, stop)
    days, kinds = crossover_events(window, fast, slow)
    equity, rows = fill_signals(window, days, kinds, initial_investment, commission)
    pnls, returns, held = trade_figures(rows)
    counted = equity[slow:]
    metrics = compute_metrics(
        dates=window.dates[slow:],
        equity=counted,
        closes=window.closes[slow:],
        initial_investment=initial_investment,
        trade_pnls=pnls,
        trade_returns_pct=returns,
        bars_in_market=held,
    )
    return HeldOut(
        f"SMA {fast}/{slow}", fast, slow, window.dates[slow:], counted, metrics
    )


def _pair_run(
    prices: PriceArrays,
    pair: tuple[int, int] | None,
    *,
    split: int,
    stop: int,
    initial_investment: float,
    commission: float,
) -> HeldOut | None:
    if pair is None:
        return None
    return held_out_run(
        prices,
        fast=pair[0],
        slow=pair[1],
        split=split,
        stop=stop,
        initial_investment=initial_investment,
        commission=commission,
    )


def buy_hold_run(
    prices: PriceArrays, *, split: int, stop: int, initial_investment: float
) -> HeldOut:
    """Buy and hold from the close of `split` to bar `stop` (fractional shares, as §4)."""
    closes = prices.closes[split : stop + 1]
    equity = initial_investment * closes / closes[0]
    metrics = compute_metrics(
        dates=prices.dates[split : stop + 1],
        equity=equity,
        closes=closes,
        initial_investment=initial_investment,
        trade_pnls=np.array([]),
        trade_returns_pct=np.array([]),
        bars_in_market=len(closes),
    )
    return HeldOut(
        "Buy and hold", None, None, prices.dates[split : stop + 1], equity, metrics
    )


# --- ranking --------------------------------------------------------------------------


def _rank_key(pair: tuple[int, int], figures: dict[str, Any]) -> tuple[float, ...]:
    """Higher Sharpe first, then higher return; a pair without a Sharpe goes last."""
    sharpe = figures.get(RANKING_METRIC)
    total = figures.get(RANKING_TIE_BREAK)
    return (
        -(sharpe if sharpe is not None else -math.inf),
        -(total if total is not None else -math.inf),
        pair[0],
        pair[1],
    )


def rank_pairs(figures: dict[tuple[int, int], dict[str, Any]]) -> list[tuple[int, int]]:
    """The pairs best first by in-sample Sharpe, ties by in-sample total return (then
    the smaller windows, so the order is always the same)."""
    return sorted(figures, key=lambda pair: _rank_key(pair, figures[pair]))


def _in_sample_figures(
    prices: PriceArrays,
    pairs: Sequence[tuple[int, int]],
    *,
    first: int,
    last: int,
    initial_investment: float,
    commission: float,
) -> dict[tuple[int, int], dict[str, Any]]:
    """In-sample figures of each pair that can run on bars first..last, a fresh
    backtest of that part alone (run_prepared's metrics)."""
    window = price_slice(prices, first, last)
    figures: dict[tuple[int, int], dict[str, Any]] = {}
    for fast, slow in pairs:
        if window.size < bars_needed(slow):
            continue
        metrics = run_arrays(window, fast, slow, initial_investment, commission)[2]
        figures[(fast, slow)] = {key: getattr(metrics, key) for key in IN_SAMPLE_KEYS}
    return figures


# --- the significance test --------------------------------------------------------


def newey_west_test(differences: np.ndarray) -> dict[str, Any]:
    """Whether the mean of daily return differences is 0: a t statistic with the
    Newey-West (HAC, Bartlett weights) variance and a two-sided normal p-value.

    Lags: floor(4 (T/100)^(2/9)), the usual rule of thumb. p_value is None when the
    differences never vary (the two curves moved alike every day).
    """
    days = len(differences)
    lags = math.floor(4 * (days / 100) ** (2 / 9)) if days else 0
    test: dict[str, Any] = {
        "method": "Newey-West HAC t-test of daily return differences",
        "days": days,
        "lags": lags,
        "mean_daily_difference_pct": None,
        "t_stat": None,
        "p_value": None,
    }
    if days < 2:
        return test
    mean = float(differences.mean())
    test["mean_daily_difference_pct"] = mean * 100.0
    centred = differences - mean
    variance = float(centred @ centred) / days
    for lag in range(1, min(lags, days - 1) + 1):
        weight = 1.0 - lag / (lags + 1)
        variance += 2.0 * weight * float(centred[lag:] @ centred[:-lag]) / days
    if variance <= 1e-18:
        return test
    t_stat = mean / math.sqrt(variance / days)
    test["t_stat"] = t_stat
    test["p_value"] = math.erfc(abs(t_stat) / math.sqrt(2.0))
    return test


def _curve_figures(dates: np.ndarray, equity: np.ndarray) -> dict[str, Any]:
    """Return, CAGR, Sharpe and max drawdown of a chained curve."""
    returns = daily_returns(equity)
    spread = float(returns.std(ddof=1)) if len(returns) > 1 else 0.0
    years = float((dates[-1] - dates[0]).astype("timedelta64[D]").astype(np.int64))
    years /= DAYS_PER_YEAR
    growth = float(equity[-1] / equity[0])
    peaks = np.maximum.accumulate(equity)
    return {
        "total_return_pct": (growth - 1.0) * 100.0,
        "cagr_pct": (growth ** (1.0 / years) - 1.0) * 100.0 if years > 0 else None,
        "sharpe": (
            float(returns.mean()) / spread * math.sqrt(TRADING_DAYS_PER_YEAR)
            if spread > 0
            else None
        ),
        "max_drawdown_pct": float((equity / peaks - 1.0).min()) * 100.0,
    }


# --- the analysis -----------------------------------------------------------------


def _iso(day: np.datetime64) -> str:
    return str(np.datetime64(day, "D"))


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep found: the rows of the grid and the proof, ready to store."""

    rows: list[dict[str, Any]]
    result: dict[str, Any]
    best: tuple[int, int] | None
    # The in-sample best pair's curves (full period and held out), for the benchmark.
    best_full: tuple[np.ndarray, np.ndarray] | None = None
    best_held_out: tuple[np.ndarray, np.ndarray] | None = None


def in_sample_size(bars: int, oos: float) -> int:
    """How many of the first bars are in sample: the first (1 - oos) of them."""
    return round(bars * (1.0 - oos))


def sweep_analysis(
    prices: PriceArrays,
    pairs: Sequence[tuple[int, int]],
    *,
    initial_investment: float,
    commission: float,
    oos: float,
    default: tuple[int, int] = (
        BacktestParams.DEFAULT_FAST,
        BacktestParams.DEFAULT_SLOW,
    ),
) -> SweepOutcome:
    """Run every pair on the full period, rank them on the in-sample part, and test
    the in-sample best out of sample and walk-forward against `default`."""
    rows: list[dict[str, Any]] = []
    best_full_equity: dict[tuple[int, int], np.ndarray] = {}
    for fast, slow in pairs:
        if prices.size < bars_needed(slow):
            rows.append(
                {
                    "fast": fast,
                    "slow": slow,
                    "error": f"{bars_needed(slow)} daily bars are needed (slow "
                    f"window + 2), {prices.size} available.",
                    "in_sample": None,
                }
            )
            continue
        equity, _, metrics = run_arrays(
            prices, fast, slow, initial_investment, commission
        )
        best_full_equity[(fast, slow)] = equity
        rows.append({"fast": fast, "slow": slow, "error": None, **metrics.as_dict()})

    in_bars = in_sample_size(prices.size, oos)
    split = in_bars - 1  # the last in-sample bar; held-out returns start at its close
    figures = _in_sample_figures(
        prices,
        pairs,
        first=0,
        last=split,
        initial_investment=initial_investment,
        commission=commission,
    )
    ranked = rank_pairs(figures)
    rank_of = {pair: place for place, pair in enumerate(ranked, start=1)}
    for row in rows:
        pair = (row["fast"], row["slow"])
        row["in_sample"] = figures.get(pair)
        row["rank"] = rank_of.get(pair)
    best = ranked[0] if ranked else None

    out_of_sample = _out_of_sample(
        prices,
        best=best,
        default=default,
        split=split,
        in_bars=in_bars,
        oos=oos,
        initial_investment=initial_investment,
        commission=commission,
        best_in_sample=figures.get(best) if best else None,
    )
    walk = walk_forward(
        prices,
        pairs,
        default=default,
        initial_investment=initial_investment,
        commission=commission,
    )
    ranking = {
        "metric": RANKING_METRIC,
        "tie_break": RANKING_TIE_BREAK,
        "on": "in_sample",
        "best": {"fast": best[0], "slow": best[1]} if best else None,
        "top": [
            {"fast": f, "slow": s, "rank": rank_of[(f, s)], **figures[(f, s)]}
            for f, s in ranked[:10]
        ],
    }
    result = {
        "ranking": ranking,
        "out_of_sample": out_of_sample.pop("public"),
        "walk_forward": walk,
    }
    result["verdict"] = verdict(result["out_of_sample"], walk)
    return SweepOutcome(
        rows=rows,
        result=result,
        best=best,
        best_full=(
            (prices.dates, best_full_equity[best]) if best in best_full_equity else None
        ),
        best_held_out=out_of_sample.get("best_curve"),
    )


def _out_of_sample(
    prices: PriceArrays,
    *,
    best: tuple[int, int] | None,
    default: tuple[int, int],
    split: int,
    in_bars: int,
    oos: float,
    initial_investment: float,
    commission: float,
    best_in_sample: dict[str, Any] | None,
) -> dict[str, Any]:
    last = prices.size - 1
    public: dict[str, Any] = {
        "available": False,
        "fraction": oos,
        "split_date": _iso(prices.dates[split]),
        "in_sample": {
            "start": _iso(prices.dates[0]),
            "end": _iso(prices.dates[split]),
            "bars": in_bars,
        },
        "held_out": {
            "start": _iso(prices.dates[min(split + 1, last)]),
            "end": _iso(prices.dates[last]),
            "bars": prices.size - in_bars,
        },
        "best": None,
        "default": None,
        "buy_hold": None,
        "test": None,
    }
    answer: dict[str, Any] = {"public": public}
    if split >= last:
        public["note"] = "No bar is left out of sample."
        return answer
    money = {"initial_investment": initial_investment, "commission": commission}
    hold = buy_hold_run(
        prices, split=split, stop=last, initial_investment=initial_investment
    )
    public["buy_hold"] = hold.as_dict()
    chosen = _pair_run(prices, best, split=split, stop=last, **money)
    baseline = _pair_run(prices, default, split=split, stop=last, **money)
    if baseline is not None:
        public["default"] = baseline.as_dict()
    else:
        public["default_note"] = (
            f"The in-sample part has {in_bars} bars, fewer than the default "
            f"{default[0]}/{default[1]} needs to have both averages at the split."
        )
    if chosen is None:
        public["note"] = (
            f"No pair could run on the {in_bars} in-sample bars, so none was chosen."
        )
        return answer
    public["available"] = True
    public["best"] = {**chosen.as_dict(), "in_sample": best_in_sample}
    answer["best_curve"] = (chosen.dates, chosen.equity)
    if baseline is not None:
        public["test"] = newey_west_test(
            daily_returns(chosen.equity) - daily_returns(baseline.equity)
        )
    return answer


def walk_forward_windows(bars: int) -> tuple[int, int, int] | None:
    """(in-sample bars, out-of-sample bars, folds) for a history of `bars` bars.

    Two years in, six months out while at least WF_MIN_FOLDS such folds fit; with a
    shorter history the same 4:1 proportion, sized so WF_MIN_FOLDS fit. None when
    the out-of-sample windows would be shorter than WF_MIN_OUT_OF_SAMPLE_BARS.
    """
    if bars >= WF_IN_SAMPLE_BARS + WF_MIN_FOLDS * WF_OUT_OF_SAMPLE_BARS:
        in_sample, out = WF_IN_SAMPLE_BARS, WF_OUT_OF_SAMPLE_BARS
    else:
        out = bars // (4 + WF_MIN_FOLDS)
        in_sample = 4 * out
    if out < WF_MIN_OUT_OF_SAMPLE_BARS:
        return None
    # A fold's out-of-sample returns start at the close of its last in-sample bar.
    return in_sample, out, (bars - in_sample) // out


def _chain(
    segments: Sequence[HeldOut | None], initial_investment: float
) -> tuple[np.ndarray, np.ndarray] | None:
    """The segments one after another, each scaled to the capital the last left;
    None when a segment is missing.

    Each segment starts on the day the one before ends, so the day is kept once.
    """
    present = [segment for segment in segments if segment is not None]
    if len(present) < len(segments) or not present:
        return None
    dates: list[np.ndarray] = []
    equity: list[np.ndarray] = []
    capital = initial_investment
    for number, segment in enumerate(present):
        scaled = segment.equity / segment.equity[0] * capital
        keep = slice(0 if number == 0 else 1, None)
        dates.append(segment.dates[keep])
        equity.append(scaled[keep])
        capital = float(scaled[-1])
    return np.concatenate(dates), np.concatenate(equity)


def window_figures(
    prices: PriceArrays,
    events: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]],
    *,
    first: int,
    last: int,
    initial_investment: float,
    commission: float,
) -> dict[tuple[int, int], dict[str, Any]]:
    """In-sample Sharpe and return of each pair on bars first..last alone, as
    run_prepared's metrics of a fresh run on that window give them
    (tests/backtesting/test_sweeps.py checks they are equal).

    `events` are each pair's crossover_events on the whole series: a signal on day
    t depends only on closes up to t, so a fresh run on the window sees exactly the
    signals from first + slow to last - 1. Walk-forward ranks every pair in every
    window, so all pairs run in one compiled call (kernels.window_figures).
    """
    pairs = list(events)
    if not pairs:
        return {}
    days = [events[pair][0] for pair in pairs]
    offsets = np.zeros(len(pairs) + 1, dtype=np.int64)
    np.cumsum([len(found) for found in days], out=offsets[1:])
    table = kernels.window_figures(
        prices.opens,
        prices.closes,
        first=first,
        last=last,
        days=np.concatenate(days).astype(np.int64, copy=False),
        kinds=np.concatenate([events[pair][1] for pair in pairs]).astype(
            np.int8, copy=False
        ),
        offsets=offsets,
        slows=np.array([slow for _, slow in pairs], dtype=np.int64),
        initial_investment=float(initial_investment),
        commission=float(commission),
    )
    size = last - first + 1
    figures: dict[tuple[int, int], dict[str, Any]] = {}
    for pair, (sharpe, total) in zip(pairs, table.tolist(), strict=True):
        if size < bars_needed(pair[1]):
            continue
        figures[pair] = {
            "sharpe": None if math.isnan(sharpe) else sharpe,
            "total_return_pct": total,
        }
    return figures


def walk_forward(
    prices: PriceArrays,
    pairs: Sequence[tuple[int, int]],
    *,
    default: tuple[int, int],
    initial_investment: float,
    commission: float,
) -> dict[str, Any]:
    """Rolling windows laid back from the last bar: each fold ranks the pairs on its
    in-sample part alone and runs the best on the out-of-sample part that follows,
    flat at its start; the out-of-sample parts chain into one curve.

    Each segment is run with the capital the chain holds at its start (whole shares
    of that), and a position still open at a segment's end is sold at its close,
    as at the end of any backtest.
    """
    layout = walk_forward_windows(prices.size)
    answer: dict[str, Any] = {"available": False, "windows": []}
    if layout is None or layout[2] < 1:
        answer["note"] = (
            f"{prices.size} bars are too few for walk-forward windows of at least "
            f"{WF_MIN_OUT_OF_SAMPLE_BARS} bars out of sample."
        )
        return answer
    in_bars, out_bars, folds = layout
    last = prices.size - 1
    first_split = last - folds * out_bars
    answer.update(
        in_sample_bars=in_bars,
        out_of_sample_bars=out_bars,
        folds=folds,
        scheme=(
            "2 years in sample, 6 months out"
            if in_bars == WF_IN_SAMPLE_BARS
            else "4:1 in sample to out of sample, sized to the history"
        ),
    )
    events = {
        (fast, slow): crossover_events(prices, fast, slow)
        for fast, slow in pairs
        if prices.size >= bars_needed(slow)
    }
    money = {"initial_investment": initial_investment, "commission": commission}
    chosen: list[HeldOut | None] = []
    baseline: list[HeldOut | None] = []
    holding: list[HeldOut] = []
    for fold in range(folds):
        split = first_split + fold * out_bars
        stop = split + out_bars
        figures = window_figures(
            prices,
            events,
            first=split - in_bars + 1,
            last=split,
            initial_investment=initial_investment,
            commission=commission,
        )
        ranked = rank_pairs(figures)
        pick = ranked[0] if ranked else None
        mine = _pair_run(prices, pick, split=split, stop=stop, **money)
        theirs = _pair_run(prices, default, split=split, stop=stop, **money)
        hold = buy_hold_run(
            prices, split=split, stop=stop, initial_investment=initial_investment
        )
        chosen.append(mine)
        baseline.append(theirs)
        holding.append(hold)
        answer["windows"].append(
            {
                "in_sample": {
                    "start": _iso(prices.dates[split - in_bars + 1]),
                    "end": _iso(prices.dates[split]),
                },
                "out_of_sample": {
                    "start": _iso(prices.dates[split + 1]),
                    "end": _iso(prices.dates[stop]),
                },
                "fast": pick[0] if pick else None,
                "slow": pick[1] if pick else None,
                "in_sample_sharpe": figures[pick]["sharpe"] if pick else None,
                "return_pct": mine.metrics.total_return_pct if mine else None,
                "default_return_pct": (
                    theirs.metrics.total_return_pct if theirs else None
                ),
                "buy_hold_return_pct": hold.metrics.total_return_pct,
            }
        )
    optimised = _chain(chosen, initial_investment)
    if optimised is None:
        answer["note"] = "In some window no pair could run on the in-sample part."
        return answer
    answer["available"] = True
    answer["start"] = _iso(optimised[0][0])
    answer["end"] = _iso(optimised[0][-1])
    answer["optimised"] = _curve_figures(*optimised)
    held = _chain(holding, initial_investment)
    answer["buy_hold"] = _curve_figures(*held) if held else None
    fixed = _chain(baseline, initial_investment)
    if fixed is None:
        answer["default"] = None
        answer["default_note"] = (
            f"The default {default[0]}/{default[1]} needs {default[1]} bars before "
            "each window; the first window starts too early."
        )
        answer["test"] = None
    else:
        answer["default"] = _curve_figures(*fixed)
        answer["test"] = newey_west_test(
            daily_returns(optimised[1]) - daily_returns(fixed[1])
        )
    return answer


# --- the verdict ------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return signed_pct(value, 1)


def verdict(out_of_sample: dict[str, Any], walk: dict[str, Any]) -> dict[str, Any]:
    """Whether the in-sample best pair beat the default out of sample, and whether
    that is evidence of an edge, in figures and in words.

    An edge is claimed only when the held-out difference is significant (Newey-West
    p < SIGNIFICANCE, the best ahead) and walk-forward agrees (its chained return
    above the default's over the same windows).
    """
    best = out_of_sample.get("best")
    default = out_of_sample.get("default")
    hold = out_of_sample.get("buy_hold")
    answer: dict[str, Any] = {
        "beat_default": None,
        "beat_buy_hold": None,
        "significant": False,
        "p_value": None,
        "walk_forward_agrees": None,
        "edge": False,
        "text": "",
    }
    if not out_of_sample.get("available") or best is None:
        answer["text"] = (
            "No pair could be ranked on the in-sample part, so there is nothing to "
            "test out of sample. " + out_of_sample.get("note", "")
        ).strip()
        return answer
    pair = f"SMA {best['fast']}/{best['slow']}"
    held = out_of_sample["held_out"]
    sentences = [
        f"Ranked by in-sample Sharpe, the best pair was {pair}; on the held-out "
        f"{out_of_sample['fraction'] * 100:.0f} % ({held['start']} to {held['end']}) "
        f"it returned {_pct(best['total_return_pct'])}"
    ]
    if hold is not None:
        answer["beat_buy_hold"] = best["total_return_pct"] > hold["total_return_pct"]
    if default is None:
        sentences[0] += (
            f" against {_pct(hold['total_return_pct'] if hold else None)} for buy and "
            "hold; the default 50/200 could not run on so short an in-sample part, "
            "so nothing shows whether the optimisation beat it."
        )
        answer["text"] = sentences[0]
        return answer
    same_pair = (best["fast"], best["slow"]) == (default["fast"], default["slow"])
    beat = best["total_return_pct"] > default["total_return_pct"]
    answer["beat_default"] = beat
    sentences[0] += (
        f", against {_pct(default['total_return_pct'])} for the default "
        f"{default['fast']}/{default['slow']} and "
        f"{_pct(hold['total_return_pct'] if hold else None)} for buy and hold"
    )
    if same_pair:
        sentences[0] += ": the optimisation chose the default itself."
    else:
        sentences[0] += (
            ", so the optimisation beat the default out of sample."
            if beat
            else ", so the optimisation did not beat the default out of sample."
        )
    test = out_of_sample.get("test") or {}
    p_value = test.get("p_value")
    answer["p_value"] = p_value
    mean = test.get("mean_daily_difference_pct")
    significant = (
        p_value is not None and p_value < SIGNIFICANCE and mean is not None and mean > 0
    )
    answer["significant"] = significant
    wf_agrees: bool | None = None
    if walk.get("available") and walk.get("default"):
        wf_agrees = (
            walk["optimised"]["total_return_pct"] > walk["default"]["total_return_pct"]
        )
        answer["walk_forward_agrees"] = wf_agrees
        sentences.append(
            f"Walk-forward ({walk['folds']} windows, re-choosing the pair each "
            f"time) returned {_pct(walk['optimised']['total_return_pct'])} against "
            f"{_pct(walk['default']['total_return_pct'])} for the default and "
            f"{_pct(walk['buy_hold']['total_return_pct'])} for buy and hold."
        )
    else:
        sentences.append("Walk-forward could not be run on this history.")
    edge = bool(beat and significant and wf_agrees)
    answer["edge"] = edge
    shown_p = "n/a" if p_value is None else f"{p_value:.3f}"
    if edge:
        sentences.append(
            f"The held-out difference is statistically significant (Newey-West "
            f"p = {shown_p}) and walk-forward agrees: evidence of an edge over "
            "the default."
        )
    elif not beat or same_pair:
        sentences.append("This is no evidence of an edge.")
    elif not significant:
        sentences.append(
            f"The difference is not statistically significant (Newey-West p = "
            f"{shown_p}), so this is no evidence of an edge."
        )
    else:
        sentences.append(
            f"The held-out difference is significant (p = {shown_p}) but "
            "walk-forward does not agree, so this is no evidence of an edge."
        )
    answer["text"] = " ".join(sentences)
    return answer


def warm_up() -> None:
    """Compile every kernel now (or load it from the cache, docs/backtesting.md,
    Engine) with a run and a whole sweep on 300 made-up bars, so the first request
    a process serves does not wait for it."""
    days = np.datetime64("2020-01-01", "D") + np.arange(300).astype("timedelta64[D]")
    closes = np.round(100.0 + 10.0 * np.sin(np.arange(300) / 15.0), 4)
    ticks = np.rint(closes * PRICE_SCALE).astype(np.int64)
    prices = PriceArrays(
        days, closes, closes, ticks, np.concatenate(([0], np.cumsum(ticks)))
    )
    sweep_analysis(
        prices,
        [(5, 20), (10, 40)],
        initial_investment=10_000.0,
        commission=0.001,
        oos=0.3,
        default=(5, 20),
    )
