"""The one report builder: a plain dict that the JSON view returns and the PDF renders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np

from backtesting.metrics import compute_metrics
from backtesting.models import BacktestRun
from backtesting.selectors import backtest_to_dict
from core.data_quality import symbol_data_quality
from core.formatting import NONE, money, money_range, number, plain_pct, signed_pct
from core.models import Symbol
from core.selectors import bar_sources, symbol_coverage
from ml.models import PredictionRun
from ml.selectors import forecast_to_dict
from reporting.adjustment_text import adjustment_section
from reporting.research_text import benchmark_section, tearsheet_section

REPORT_VERSION = 1
# What the report was asked for: its latest backtest, or a run or sweep by id.
CHOSEN_LATEST: dict[str, Any] = {
    "kind": "latest",
    "backtest": None,
    "sweep": None,
    "display": "The symbol's latest backtest and forecast",
}
MAX_TRADES_SHOWN = 20
DISCLAIMER = (
    "Hypothetical results. The backtest trades a simple moving-average rule on daily "
    "prices adjusted as stated under Data and method, fills at the next day's open, "
    "and ignores slippage and taxes. The forecast is a statistical model of daily "
    "prices, which behave much like a random walk; it is shown beside the naive "
    "last-close forecast so its real skill can be judged. Nothing here is investment "
    "advice."
)
SOURCE_NAMES = {
    "alpha_vantage": "Alpha Vantage daily prices (as traded)",
    "sample": "offline sample data (generated, not real prices)",
    "import": "imported from a file",
}


def _figure(value: float | None, display: str) -> dict[str, Any]:
    return {"value": value, "display": display}


def _kpis(strategy: dict[str, Any], hold: dict[str, Any], currency: str) -> list[dict]:
    """Strategy beside buy and hold, each figure with the exact text the PDF prints."""

    def pair(
        key: str, label: str, fmt, hold_figure: dict | None = None
    ) -> dict[str, Any]:
        return {
            "key": key,
            "label": label,
            "strategy": _figure(strategy.get(key), fmt(strategy.get(key))),
            "buy_hold": hold_figure or _figure(hold.get(key), fmt(hold.get(key))),
        }

    return [
        pair("final_equity", f"Final equity ({currency})", money),
        pair("total_return_pct", "Total return", signed_pct),
        pair("cagr_pct", "CAGR", signed_pct),
        pair("max_drawdown_pct", "Max drawdown", signed_pct),
        pair("max_drawdown_days", "Longest drawdown (days)", lambda v: number(v, 0)),
        pair("sharpe", "Sharpe", number),
        pair("sortino", "Sortino", number),
        pair("volatility_pct", "Volatility (annual)", plain_pct),
        # Buying and holding is not a series of trades.
        pair("trades", "Trades", lambda v: number(v, 0), _figure(None, NONE)),
        pair("win_rate_pct", "Win rate", plain_pct, _figure(None, NONE)),
        pair("exposure_pct", "Time in market", plain_pct),
    ]


def _buy_hold_metrics(points: list[dict[str, Any]], initial: float) -> dict[str, Any]:
    dates = np.array([p["date"] for p in points], dtype="datetime64[D]")
    curve = np.array([p["buy_hold"] for p in points], dtype=float)
    metrics = compute_metrics(
        dates=dates,
        equity=curve,
        closes=curve,
        initial_investment=initial,
        trade_pnls=np.array([]),
        trade_returns_pct=np.array([]),
        bars_in_market=len(curve),
    )
    return metrics.as_dict()


def _backtest_section(
    run: BacktestRun | None, note: str, currency: str
) -> dict[str, Any]:
    if run is None:
        return {"available": False, "note": note}
    data = backtest_to_dict(run, include_equity=True, include_rolling=True)
    initial = float(run.initial_investment)
    hold = _buy_hold_metrics(data["equity"], initial)
    kpis = _kpis(data["metrics"], hold, currency)
    trades = data["trades"]
    shown = trades if len(trades) <= MAX_TRADES_SHOWN else trades[:10] + trades[-10:]
    params = data["parameters"]
    return {
        "available": True,
        "note": note,
        "run": {
            key: data[key]
            for key in ("id", "created_at", "parameters", "data", "adjustment")
        },
        "warnings": data["warnings"],
        "parameters_display": {
            "initial_investment": money(float(params["initial_investment"])),
            "commission": plain_pct(params["commission"] * 100, 3),
        },
        "metrics": data["metrics"],
        "buy_hold_metrics": hold,
        "kpis": kpis,
        "kpi_halves": [kpis[:6], kpis[6:]],
        "trades": [
            {
                **trade,
                "entry_display": money(float(trade["entry_price"])),
                "exit_display": money(float(trade["exit_price"])),
                "pnl_display": money(float(trade["pnl"])),
                "return_display": signed_pct(trade["return_pct"]),
            }
            for trade in shown
        ],
        "trades_total": len(trades),
        "trades_hidden": len(trades) - len(shown),
        "equity": data["equity"],
        # backtesting.selectors adds both; a run read without them shows neither.
        "tearsheet": tearsheet_section(data.get("tearsheet")),
        "benchmark": benchmark_section(data.get("benchmark")),
    }


def _forecast_section(run: PredictionRun | None, note: str) -> dict[str, Any]:
    if run is None:
        return {"available": False, "note": note}
    data = forecast_to_dict(run)
    last = data["predictions"][-1]
    for row in data["predictions"]:
        row["predicted_display"] = money(row["predicted_close"])
        row["band_display"] = money_range(row["lower"], row["upper"])
        row["actual_display"] = money(row["actual_close"])
        row["error_display"] = money(row["error"])
    for horizon in data["evaluation"]["horizons"]:
        horizon["display"] = {
            "model_mae": number(horizon["model"]["mae"]),
            "naive_mae": number(horizon["naive"]["mae"]),
            "model_rmse": number(horizon["model"]["rmse"]),
            "naive_rmse": number(horizon["naive"]["rmse"]),
            "model_mape": plain_pct(horizon["model"]["mape_pct"], 2),
            "naive_mape": plain_pct(horizon["naive"]["mape_pct"], 2),
            "direction": plain_pct(horizon["model"]["direction_hit_rate_pct"]),
            "inside_band": plain_pct(horizon["inside_band_pct"]),
            "drift_mae": number(horizon["drift"]["mae"]) if horizon["drift"] else "",
            "p_value": _p_value(horizon["p_value"]),
            "drift_p_value": _p_value(horizon["vs_drift"]["p_value"]),
        }
    data["track_record"]["rows"] = _track_record_rows(data["track_record"])
    data["available"] = True
    data["note"] = note
    data["headline"] = {
        "date": last["date"],
        "predicted": money(last["predicted_close"]),
        "band": last["band_display"],
        "change": signed_pct((last["predicted_close"] / data["last_close"] - 1) * 100),
    }
    return data


def _p_value(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _track_record_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The track record at 1, 5 and 30 days, live forecasts beside hindcasts, with
    the exact text the PDF prints."""
    rows = []
    for at, horizon in enumerate(record["live"]["summary"]):
        row: dict[str, Any] = {"horizon_days": horizon["horizon_days"]}
        for kind in ("live", "hindcast"):
            score = record[kind]["summary"][at]
            skill = score["skill"]
            row[kind] = {
                "forecasts": f"{score['forecasts']:,}",
                "mae": number(score["mae"]),
                "naive_mae": number(score["naive_mae"]),
                "skill": signed_pct(None if skill is None else skill * 100, 1),
                "inside_band": plain_pct(score["inside_band_pct"]),
            }
        rows.append(row)
    return rows


def build_report(
    *,
    symbol: Symbol,
    backtest: BacktestRun | None,
    backtest_note: str,
    forecast: PredictionRun | None,
    forecast_note: str,
    adjustment: dict[str, Any],
    warnings: list[str],
    generated_at: datetime,
    chosen: dict[str, Any] | None = None,
    sweep: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report dict. `chosen` says what the caller picked (CHOSEN_LATEST when
    nothing); `sweep` is a sweep section (research_text.sweep_section) or None."""
    coverage = symbol_coverage(symbol)
    sources = bar_sources(symbol)
    return {
        "report_version": REPORT_VERSION,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "generated_display": f"{generated_at:%Y-%m-%d %H:%M} UTC",
        "symbol": symbol.ticker,
        "name": symbol.name,
        "exchange": symbol.exchange,
        "currency": symbol.currency,
        "data": {
            "sources": [SOURCE_NAMES.get(source, source) for source in sources],
            "first_date": _iso(coverage.first_date),
            "prices_as_of": _iso(coverage.last_date),
            "bars": coverage.bar_count,
            "missing_sessions": coverage.missing_sessions,
            "closed_day_bars": coverage.closed_day_bars,
        },
        "chosen": chosen or CHOSEN_LATEST,
        "sweep": sweep,
        "backtest": _backtest_section(backtest, backtest_note, symbol.currency),
        "forecast": _forecast_section(forecast, forecast_note),
        # The price series of the whole report (core.adjustment) and its warnings.
        "adjustment": adjustment_section(adjustment),
        "warnings": warnings,
        # What staff see on the symbol's admin page (core.data_quality).
        "data_quality": symbol_data_quality(symbol, now=generated_at).as_dict(),
        "disclaimer": DISCLAIMER,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
