"""Report charts as inline SVG strings (matplotlib, Agg); no Django import."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

STRATEGY = "#0369a1"
HOLD = "#9ca3af"
FAST = "#f59e0b"
SLOW = "#7c3aed"
BUY = "#15803d"
SELL = "#b91c1c"
BAND = "#bae6fd"
STYLE = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.edgecolor": "#d1d5db",
    "axes.labelcolor": "#374151",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "svg.fonttype": "none",  # text stays text: smaller files, searchable PDFs
    "svg.hashsalt": "stockdesk",  # stable ids, so the same data gives the same SVG
}
WIDTH_IN = 7.0


def _thousands(value: float, _pos: int) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _format_dates(axis: plt.Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _legend_above(axis: plt.Axes, columns: int) -> None:
    # Above the plot, so the legend never hides a line.
    axis.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=columns,
        fontsize=7,
        borderaxespad=0.2,
    )


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    # Inline SVG needs no XML prologue or DOCTYPE.
    return text[text.index("<svg") :]


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean; NaN until `window` values exist."""
    values = np.asarray(values, dtype=float)
    out = np.full(len(values), np.nan)
    if len(values) >= window:
        sums = np.concatenate(([0.0], np.cumsum(values)))
        out[window - 1 :] = (sums[window:] - sums[:-window]) / window
    return out


def price_chart(
    dates: Sequence[date],
    closes: Sequence[float],
    *,
    fast: int,
    slow: int,
    buys: Sequence[tuple[date, float]] = (),
    sells: Sequence[tuple[date, float]] = (),
) -> str:
    """Close with its fast and slow SMAs, and the fills as buy/sell markers."""
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH_IN, 2.5))
        axis.plot(dates, closes, color="#111827", linewidth=0.9, label="Close")
        axis.plot(
            dates,
            moving_average(closes, fast),
            color=FAST,
            linewidth=1,
            label=f"SMA {fast}",
        )
        axis.plot(
            dates,
            moving_average(closes, slow),
            color=SLOW,
            linewidth=1,
            label=f"SMA {slow}",
        )
        if buys:
            axis.scatter(
                *zip(*buys, strict=True),
                marker="^",
                s=28,
                color=BUY,
                zorder=3,
                label="Buy",
            )
        if sells:
            axis.scatter(
                *zip(*sells, strict=True),
                marker="v",
                s=28,
                color=SELL,
                zorder=3,
                label="Sell",
            )
        axis.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axis.set_ylabel("Price")
        _format_dates(axis)
        _legend_above(axis, 5)
        return _svg(figure)


def equity_chart(
    dates: Sequence[date], equity: Sequence[float], buy_hold: Sequence[float]
) -> str:
    """Strategy equity against buy and hold, with the strategy's drawdown below."""
    equity = np.asarray(equity, dtype=float)
    peaks = np.maximum.accumulate(equity)
    drawdown_pct = (equity / peaks - 1.0) * 100.0
    with plt.rc_context(STYLE):
        figure, (top, bottom) = plt.subplots(
            2, 1, figsize=(WIDTH_IN, 3.0), sharex=True, height_ratios=(3, 1)
        )
        top.plot(dates, equity, color=STRATEGY, linewidth=1.1, label="Strategy")
        top.plot(dates, buy_hold, color=HOLD, linewidth=1.0, label="Buy and hold")
        top.yaxis.set_major_formatter(FuncFormatter(_thousands))
        top.set_ylabel("Equity")
        _legend_above(top, 2)
        bottom.fill_between(dates, drawdown_pct, 0, color=SELL, alpha=0.25, linewidth=0)
        bottom.plot(dates, drawdown_pct, color=SELL, linewidth=0.7)
        bottom.set_ylabel("Drawdown %")
        bottom.set_ylim(min(float(drawdown_pct.min()) * 1.1, -1.0), 0.5)
        _format_dates(bottom)
        return _svg(figure)


def forecast_chart(
    history_dates: Sequence[date],
    history_closes: Sequence[float],
    forecast_dates: Sequence[date],
    predicted: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    actual_dates: Sequence[date] = (),
    actual_closes: Sequence[float] = (),
) -> str:
    """Recent closes, then the forecast with its band and the actual closes so far."""
    with plt.rc_context(STYLE):
        figure, axis = plt.subplots(figsize=(WIDTH_IN, 2.6))
        axis.plot(
            history_dates, history_closes, color="#111827", linewidth=0.9, label="Close"
        )
        axis.fill_between(
            forecast_dates,
            lower,
            upper,
            color=BAND,
            alpha=0.8,
            linewidth=0,
            label="80 % band",
        )
        axis.plot(
            forecast_dates,
            predicted,
            color=STRATEGY,
            linewidth=1.2,
            linestyle="--",
            label="Forecast",
        )
        if len(actual_dates):
            axis.plot(
                actual_dates,
                actual_closes,
                color=BUY,
                linewidth=1.1,
                marker=".",
                markersize=3,
                label="Actual",
            )
        if len(history_dates):
            axis.axvline(
                history_dates[-1], color="#6b7280", linewidth=0.7, linestyle=":"
            )
        axis.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axis.set_ylabel("Price")
        _format_dates(axis)
        _legend_above(axis, 4)
        return _svg(figure)
