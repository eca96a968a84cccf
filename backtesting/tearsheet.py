"""The tearsheet of an equity curve: Calmar, VaR/ES, worst drawdowns, monthly
returns, rolling Sharpe/volatility and trailing period returns; numpy only,
JSON-safe output.

Every figure is defined in docs/backtesting.md (Tearsheet) and reads the same daily
returns as the §4 metrics (backtesting.metrics), 252 sessions a year.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import numpy as np

from backtesting.metrics import (
    DAYS_PER_YEAR,
    TRADING_DAYS_PER_YEAR,
    daily_returns,
    drawdown,
)

ROLLING_WINDOW = 126  # sessions: six months
WORST_DRAWDOWNS = 5
VAR_LEVEL = 0.05  # the 5 % tail: VaR/ES 95 %
# Below this a 5 % tail holds no whole observation, so VaR/ES would be one day's move.
MIN_TAIL_RETURNS = 20


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _pct(value: float) -> float | None:
    return _finite(float(value) * 100.0)


def _iso(dates: np.ndarray) -> list[str]:
    days: list[str] = np.datetime_as_string(dates, unit="D").tolist()
    return days


def _day(value: np.datetime64) -> str:
    # datetime.date's isoformat: the same text as numpy's, in a third of the time.
    day: date = value.astype("datetime64[D]").item()
    return day.isoformat()


def _calendar_days(later: np.datetime64, earlier: np.datetime64) -> int:
    return int((later - earlier).astype("timedelta64[D]").astype(np.int64))


def calmar(dates: np.ndarray, equity: np.ndarray) -> tuple[float | None, str | None]:
    """CAGR over calendar years (as backtesting.metrics) / |max drawdown|."""
    deepest = float(drawdown(equity).min())
    if deepest >= 0:
        return None, "no drawdown, so Calmar is unbounded"
    years = _calendar_days(dates[-1], dates[0]) / DAYS_PER_YEAR
    if years <= 0 or equity[0] <= 0:
        return None, "the bars span less than a day"
    cagr = (float(equity[-1]) / float(equity[0])) ** (1.0 / years) - 1.0
    return _finite(cagr / abs(deepest)), None


def value_at_risk(returns: np.ndarray) -> tuple[float | None, float | None]:
    """Daily historical VaR and ES at 95 %, as fractions (losses are negative).

    VaR is the 5th percentile (linear interpolation, numpy's default); ES is the mean
    of the returns at or below it.
    """
    if len(returns) < MIN_TAIL_RETURNS:
        return None, None
    var = _percentile(returns, VAR_LEVEL)
    tail = returns[returns <= var]
    return var, float(tail.mean())


def _percentile(values: np.ndarray, fraction: float) -> float:
    """np.percentile(values, fraction * 100) as its default (linear) method computes
    it, from a partition rather than numpy's general machinery (a third of the time).
    """
    if not np.isfinite(values).all():
        return float(np.percentile(values, fraction * 100.0))
    position = fraction * (len(values) - 1)
    below = math.floor(position)
    above = min(below + 1, len(values) - 1)
    parted = np.partition(values, (below, above))
    low, high = float(parted[below]), float(parted[above])
    weight, step = position - below, high - low
    # numpy's interpolation, from the nearer of the two neighbours.
    return high - step * (1.0 - weight) if weight >= 0.5 else low + step * weight


def worst_drawdowns(
    dates: np.ndarray, equity: np.ndarray, count: int = WORST_DRAWDOWNS
) -> list[dict[str, Any]]:
    """The `count` deepest under-water periods, deepest first."""
    under = equity < np.maximum.accumulate(equity)
    if not under.any():
        return []
    edges = np.diff(np.concatenate(([False], under, [False])).astype(np.int8))
    starts = np.flatnonzero(edges == 1)  # first day under water
    ends = np.flatnonzero(edges == -1)  # first day back at the peak, or len(equity)
    falls = drawdown(equity)
    depths = np.minimum.reduceat(falls, starts)
    # reduceat runs each segment to the next start; the days between are at a peak
    # (fall 0), which cannot lower a segment's minimum.
    last = len(equity) - 1
    periods = []
    for index in np.argsort(depths, kind="stable")[:count].tolist():
        first, stop = int(starts[index]), int(ends[index])
        peak = first - 1  # day 0 is never under water
        trough = first + int(np.argmin(falls[first:stop]))
        recovered = stop <= last
        periods.append(
            {
                "start": _day(dates[peak]),
                "trough": _day(dates[trough]),
                "recovery": _day(dates[stop]) if recovered else None,
                "depth_pct": float(depths[index]) * 100.0,
                "days": _calendar_days(dates[stop if recovered else last], dates[peak]),
            }
        )
    return periods


def _growth(returns: np.ndarray) -> np.ndarray:
    """Compounded growth of 1 at each bar: 1 on the first bar."""
    return np.concatenate(([1.0], np.cumprod(1.0 + returns)))


def _period_return(growth: np.ndarray, end: int, base: int) -> float | None:
    if growth[base] == 0:
        return None
    return _pct(growth[end] / growth[base] - 1.0)


def _period_returns(
    growth: np.ndarray, ends: np.ndarray, bases: np.ndarray
) -> list[float | None]:
    """_period_return of each (end, base) pair, computed as arrays."""
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (growth[ends] / growth[bases] - 1.0) * 100.0
    return [value if math.isfinite(value) else None for value in values.tolist()]


def monthly_returns(dates: np.ndarray, returns: np.ndarray) -> dict[str, Any]:
    """Compounded daily returns per calendar month, and per year, in %.

    The first month runs from the first bar; a month with no bar is None.
    """
    growth = _growth(returns)
    months = dates.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    # Index of each month's last bar, and of the bar that closes the month before.
    month_ends = np.flatnonzero(np.diff(np.append(months, months[-1] + 1)) != 0)
    month_bases = np.concatenate(([0], month_ends[:-1]))
    years = months // 12 + 1970
    rows: dict[int, dict[str, Any]] = {}
    for month, value in zip(
        months[month_ends].tolist(),
        _period_returns(growth, month_ends, month_bases),
        strict=True,
    ):
        year = month // 12 + 1970
        row = rows.setdefault(year, {"year": year, "months": [None] * 12})
        row["months"][month % 12] = value
    year_ends = np.flatnonzero(np.diff(np.append(years, years[-1] + 1)) != 0)
    year_bases = np.concatenate(([0], year_ends[:-1]))
    for year, value in zip(
        years[year_ends].tolist(),
        _period_returns(growth, year_ends, year_bases),
        strict=True,
    ):
        rows[year]["year_pct"] = value
    return {"rows": [rows[year] for year in sorted(rows)]}


def _window_sums(
    values: np.ndarray, window: int, only: slice | None = None
) -> np.ndarray:
    """Sum of each run of `window` consecutive values (those of `only`, a slice of
    the runs, when given)."""
    totals = np.concatenate(([0.0], np.cumsum(values)))
    ends, starts = totals[window:], totals[:-window]
    if only is not None:
        ends, starts = ends[only], starts[only]
    sums: np.ndarray = ends - starts
    return sums


def rolling(
    dates: np.ndarray,
    returns: np.ndarray,
    window: int = ROLLING_WINDOW,
    *,
    series: bool = True,
) -> dict[str, Any]:
    """Sharpe and volatility over the last `window` sessions, annualised as
    backtesting.metrics: `latest` at the last bar, and with `series` the figures at
    every bar (None until the window is full)."""
    count = len(dates)
    sharpe: list[float | None] = [None] * count
    volatility: list[float | None] = [None] * count
    latest_sharpe = latest_volatility = None
    if len(returns) >= window:
        # Window sums by cumulative sums, of returns less their overall mean so the
        # sum of squares does not cancel; a window of only flat days has spread 0.
        # Without the series, only the last window's (the same sums, one subtraction).
        last = None if series else slice(-1, None)
        centred = returns - returns.mean()
        sums = _window_sums(centred, window, last)
        squares = _window_sums(centred * centred, window, last)
        moving = _window_sums((returns != 0).astype(np.float64), window, last) > 0
        variance = np.maximum(squares - sums * sums / window, 0.0) / (window - 1)
        spreads = np.where(moving, np.sqrt(variance), 0.0)
        means = sums / window + returns.mean()
        scale = math.sqrt(TRADING_DAYS_PER_YEAR)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(spreads > 0, means / spreads * scale, np.nan)
        vol_pct = spreads * scale * 100.0
        latest_sharpe, latest_volatility = _finite(ratios[-1]), float(vol_pct[-1])
        if series:
            # Return i is bar i + 1's, so the first full window ends on bar `window`.
            sharpe[window:] = [None if math.isnan(v) else v for v in ratios.tolist()]
            volatility[window:] = vol_pct.tolist()
    figures: dict[str, Any] = {
        "window": window,
        "latest": {
            "date": _day(dates[-1]) if count else None,
            "sharpe": latest_sharpe,
            "volatility_pct": latest_volatility,
        },
    }
    if series:
        figures.update(dates=_iso(dates), sharpe=sharpe, volatility_pct=volatility)
    return figures


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def _trailing(
    dates: np.ndarray, growth: np.ndarray, since: date, *, inclusive: bool
) -> float | None:
    """Return from the last bar on (or, not inclusive, before) `since` to the end."""
    day = np.datetime64(since, "D")
    # The count of bars on or before (before) `since`, less one: the base bar.
    base = int(np.count_nonzero(dates <= day if inclusive else dates < day)) - 1
    if base < 0:
        return None
    return _period_return(growth, len(growth) - 1, base)


def periods(dates: np.ndarray, returns: np.ndarray) -> dict[str, float | None]:
    """YTD, 1-year and 3-year returns in %, ending at the last bar."""
    growth = _growth(returns)
    last: date = dates[-1].item()
    new_year = date(last.year, 1, 1)
    ytd = _trailing(dates, growth, new_year, inclusive=False)
    if ytd is None:  # the history starts this year: from the first bar
        ytd = _period_return(growth, len(growth) - 1, 0)
    return {
        "ytd_pct": ytd,
        "one_year_pct": _trailing(
            dates, growth, _years_before(last, 1), inclusive=True
        ),
        "three_year_pct": _trailing(
            dates, growth, _years_before(last, 3), inclusive=True
        ),
    }


def tearsheet(
    dates: np.ndarray, equity: np.ndarray, *, rolling_series: bool = True
) -> dict[str, Any]:
    """Every tearsheet figure of one equity curve (dates datetime64[D], oldest first).

    None where a figure does not exist; `notes` says why. Without `rolling_series`
    the rolling figures are the last bar's only (an answer of a few kilobytes
    instead of three lists as long as the curve).
    """
    dates = np.asarray(dates, dtype="datetime64[D]")
    equity = np.asarray(equity, dtype=np.float64)
    notes: dict[str, str] = {}
    returns = daily_returns(equity)
    calmar_ratio, why = calmar(dates, equity)
    if why:
        notes["calmar"] = why
    var, es = value_at_risk(returns)
    if var is None:
        notes["var_95_pct"] = notes["es_95_pct"] = (
            f"fewer than {MIN_TAIL_RETURNS} daily returns"
        )
    figures = periods(dates, returns)
    if figures["one_year_pct"] is None:
        notes["one_year_pct"] = "less than a year of history"
    if figures["three_year_pct"] is None:
        notes["three_year_pct"] = "less than three years of history"
    if len(returns) < ROLLING_WINDOW:
        notes["rolling"] = f"fewer than {ROLLING_WINDOW} daily returns"
    return {
        "calmar": calmar_ratio,
        "var_95_pct": None if var is None else _pct(var),
        "es_95_pct": None if es is None else _pct(es),
        "worst_drawdowns": worst_drawdowns(dates, equity),
        "monthly_returns": monthly_returns(dates, returns),
        "rolling": rolling(dates, returns, series=rolling_series),
        "periods": figures,
        "notes": notes,
    }
