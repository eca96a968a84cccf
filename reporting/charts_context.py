"""Feeds the pure chart functions from a built report and the stored bars."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

import pandas as pd

from core.adjustment import NONE
from core.models import Symbol
from core.selectors import bars_adjusted, bars_frame
from ml.selectors import closes_before_forecast
from reporting import charts

HISTORY_BARS = 120


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _adjusted(
    symbol: Symbol,
    mode: str,
    *,
    start: date,
    end: date,
    series: pd.DataFrame | None,
    series_mode: str,
) -> pd.DataFrame:
    """The bars of the report's price series in [start, end]; as traded if its
    dividends cannot adjust them (the report's warnings say so).

    Cut from `series`, the whole series the report already read, when that is in
    `mode`: an adjustment depends only on the actions after each bar and the close
    before each dividend, the same whether the series is read whole or in part.
    """
    if series is not None and series_mode == mode:
        days = series["date"]
        return series[(days >= start) & (days <= end)]
    try:
        return bars_adjusted(symbol, adjust=mode, start=start, end=end).frame
    except ValueError:
        return bars_frame(symbol, start=start, end=end)


def _forecast_history(
    symbol: Symbol, forecast: dict[str, Any], as_of: date
) -> tuple[list[date], list[float]]:
    history = closes_before_forecast(
        symbol,
        adjust=forecast["adjustment"].get("mode", NONE),
        as_of=as_of,
        last_close=forecast["last_close"],
        count=HISTORY_BARS,
    )
    return [day for day, _ in history], [close for _, close in history]


def as_data_uri(svg: str) -> str:
    """An <img> source: WeasyPrint draws SVG images far faster than inline SVG."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def chart_images(
    symbol: Symbol, report: dict[str, Any], *, bars: pd.DataFrame | None = None
) -> dict[str, str]:
    return {
        name: as_data_uri(svg)
        for name, svg in chart_svgs(symbol, report, bars=bars).items()
    }


def chart_svgs(
    symbol: Symbol, report: dict[str, Any], *, bars: pd.DataFrame | None = None
) -> dict[str, str]:
    """Each chart of the report, keyed by its name in the template. `bars` is the
    report's whole price series (report["adjustment"]) when the caller has it; without
    it the price chart reads its bars."""
    svgs: dict[str, str] = {}
    backtest = report["backtest"]
    if backtest["available"]:
        span = backtest["run"]["data"]
        # The series the run traded on, so the fills sit on the drawn prices.
        traded = _adjusted(
            symbol,
            backtest["run"]["adjustment"].get("mode", NONE),
            start=_day(span["start"]),
            end=_day(span["end"]),
            series=bars,
            series_mode=report["adjustment"].get("mode", NONE),
        )
        params = backtest["run"]["parameters"]
        trades = backtest["trades"]
        svgs["price"] = charts.price_chart(
            list(traded["date"]),
            traded["close"].astype(float).tolist(),
            fast=params["fast"],
            slow=params["slow"],
            buys=[(_day(t["entry_date"]), float(t["entry_price"])) for t in trades],
            sells=[
                (_day(t["exit_date"]), float(t["exit_price"]))
                for t in trades
                if not t["closed_at_end"]
            ],
        )
        points = backtest["equity"]
        benchmark = backtest.get("benchmark") or {}
        svgs["equity"] = charts.equity_chart(
            [_day(p["date"]) for p in points],
            [p["equity"] for p in points],
            [p["buy_hold"] for p in points],
            benchmark=[
                (_day(day), float(value)) for day, value in benchmark.get("equity", [])
            ]
            if benchmark.get("available")
            else [],
            benchmark_label=benchmark.get("label") or "Benchmark",
        )
    sweep = report.get("sweep")
    if sweep and sweep.get("available"):
        heat = sweep["heatmap"]
        best = sweep["best"]
        svgs["heatmap"] = charts.heatmap_chart(
            heat.get("fasts", []),
            heat.get("slows", []),
            heat.get("values", []),
            metric=heat.get("label") or heat.get("metric", ""),
            best=(best["fast"], best["slow"]) if best.get("fast") else None,
        )
    forecast = report["forecast"]
    if forecast["available"]:
        as_of = _day(forecast["as_of"])
        history_days, history_closes = _forecast_history(symbol, forecast, as_of)
        rows = forecast["predictions"]
        arrived = [row for row in rows if row["actual_close"] is not None]
        svgs["forecast"] = charts.forecast_chart(
            history_days,
            history_closes,
            [_day(row["date"]) for row in rows],
            [row["predicted_close"] for row in rows],
            [row["lower"] for row in rows],
            [row["upper"] for row in rows],
            [_day(row["date"]) for row in arrived],
            [row["actual_close"] for row in arrived],
        )
    return svgs
