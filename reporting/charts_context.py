"""Feeds the pure chart functions from a built report and the stored bars."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any

from core.models import Symbol
from core.selectors import bars_frame
from reporting import charts

HISTORY_BARS = 120


def _day(text: str) -> date:
    return date.fromisoformat(text)


def as_data_uri(svg: str) -> str:
    """An <img> source: WeasyPrint draws SVG images far faster than inline SVG."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def chart_images(symbol: Symbol, report: dict[str, Any]) -> dict[str, str]:
    return {name: as_data_uri(svg) for name, svg in chart_svgs(symbol, report).items()}


def chart_svgs(symbol: Symbol, report: dict[str, Any]) -> dict[str, str]:
    svgs: dict[str, str] = {}
    backtest = report["backtest"]
    if backtest["available"]:
        span = backtest["run"]["data"]
        bars = bars_frame(symbol, start=_day(span["start"]), end=_day(span["end"]))
        params = backtest["run"]["parameters"]
        trades = backtest["trades"]
        svgs["price"] = charts.price_chart(
            list(bars["date"]),
            bars["close"].astype(float).tolist(),
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
        svgs["equity"] = charts.equity_chart(
            [_day(p["date"]) for p in points],
            [p["equity"] for p in points],
            [p["buy_hold"] for p in points],
        )
    forecast = report["forecast"]
    if forecast["available"]:
        as_of = _day(forecast["as_of"])
        history = bars_frame(symbol, end=as_of).tail(HISTORY_BARS)
        rows = forecast["predictions"]
        arrived = [row for row in rows if row["actual_close"] is not None]
        svgs["forecast"] = charts.forecast_chart(
            list(history["date"]),
            history["close"].astype(float).tolist(),
            [_day(row["date"]) for row in rows],
            [row["predicted_close"] for row in rows],
            [row["lower"] for row in rows],
            [row["upper"] for row in rows],
            [_day(row["date"]) for row in arrived],
            [row["actual_close"] for row in arrived],
        )
    return svgs
