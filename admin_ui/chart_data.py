"""The data of the admin's interactive charts (admin_ui/static/admin_ui/charts.js).

Each builder returns one plain dict, read by the page as a json_script element:

    {"kind": "price" | "equity" | "forecast",
     "symbol": "ACME", "currency": "USD",
     "candles": [{"time": "YYYY-MM-DD", "open", "high", "low", "close"}],   # price only
     "volume": [{"time", "value", "up": bool}],                            # price only
     "lines": [{"id", "name", "color", "dashed": bool, "width": int,
                "points": [{"time", "value"}]}],
     "markers": [{"series": "candles" | <line id>, "time", "position": "belowBar" |
                  "aboveBar", "shape": "arrowUp" | "arrowDown", "color", "text"}],
     "initial_bars": int | None,   # bars shown at first (and by Reset zoom)
     "notes": ["why something is missing", ...],
     "run": {"id", "fast", "slow", "adjust"},        # price: the backtest of the markers
     "band": {"upper": <line id>, "lower": <line id>}}  # forecast only

Prices are in the series the work used (the run's or forecast's adjustment mode), so
markers sit on the bars they were traded at.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

import backtesting.selectors as backtest_selectors
from backtesting.models import BacktestRun, Trade
from backtesting.params import BacktestParams
from backtesting.selectors import equity_points, latest_backtest
from core.adjustment import DEFAULT_ADJUST, NONE
from core.formatting import MINUS
from core.indicators import trailing_mean
from core.models import Symbol
from core.selectors import bars_adjusted
from ml.models import PredictionRun
from ml.selectors import closes_before_forecast, forecast_rows

# The symbol page draws the last CHART_YEARS of bars (about 1,260 sessions: a few
# hundred KB of JSON at most) and opens on the last INITIAL_BARS of them.
CHART_YEARS = 5
INITIAL_BARS = 250
FORECAST_HISTORY_BARS = 90  # actual closes drawn before a forecast's as-of day

UP_COLOUR, DOWN_COLOUR = "#16a34a", "#dc2626"
SMA_COLOURS = ("#f59e0b", "#7c3aed", "#0ea5e9", "#db2777")
STRATEGY_COLOUR, BUY_HOLD_COLOUR, BENCHMARK_COLOUR = "#0284c7", "#9ca3af", "#7c3aed"
ACTUAL_COLOUR, PREDICTED_COLOUR, BAND_COLOUR = "#0284c7", "#d97706", "#f59e0b"

CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}


# --- the symbol page ----------------------------------------------------------------


def sma_windows(run: BacktestRun | None) -> list[int]:
    """The desk's SMA 50 / 200, and the run's own windows when they differ, so the
    crossovers behind its markers show."""
    windows = [BacktestParams.DEFAULT_FAST, BacktestParams.DEFAULT_SLOW]
    if run is not None:
        windows += [w for w in (run.fast, run.slow) if w not in windows]
    return windows


def price_chart_data(symbol: Symbol, *, years: int = CHART_YEARS) -> dict[str, Any]:
    """Candles, volume, the SMAs and the latest backtest's trades of the last `years`.

    Drawn in the latest backtest's price series (split-adjusted when there is none).
    """
    run = latest_backtest(symbol)
    adjust = run.adjust if run is not None else DEFAULT_ADJUST
    windows = sma_windows(run)
    last = symbol.bars.order_by("-date").values_list("date", flat=True).first()
    data = _empty("price", symbol)
    if last is None:
        data["notes"].append("No bars yet: use Fetch prices above.")
        return data
    first_shown = last - timedelta(days=round(365.25 * years))
    # Enough earlier sessions that every SMA is defined from the first bar shown.
    warm_up = timedelta(days=math.ceil(max(windows) * 7 / 5) + 10)
    try:
        bars = bars_adjusted(symbol, adjust=adjust, start=first_shown - warm_up).frame
    except ValueError as exc:  # e.g. a recorded dividend the closes cannot carry
        data["notes"].append(f"Drawn as traded: the {adjust} series fails ({exc}).")
        adjust = NONE
        bars = bars_adjusted(symbol, adjust=NONE, start=first_shown - warm_up).frame
    days = [day.isoformat() for day in bars["date"]]
    shown = next(i for i, day in enumerate(bars["date"]) if day >= first_shown)
    closes = [float(c) for c in bars["close"]]

    data["candles"] = [
        {
            "time": days[i],
            "open": _price(bars["open"].iloc[i]),
            "high": _price(bars["high"].iloc[i]),
            "low": _price(bars["low"].iloc[i]),
            "close": _price(bars["close"].iloc[i]),
        }
        for i in range(shown, len(days))
    ]
    data["volume"] = [
        {
            "time": days[i],
            "value": int(bars["volume"].iloc[i]),
            "up": closes[i] >= float(bars["open"].iloc[i]),
        }
        for i in range(shown, len(days))
    ]
    for window, colour in zip(windows, SMA_COLOURS, strict=False):
        means = trailing_mean(closes, window)
        data["lines"].append(
            _line(
                f"sma{window}",
                f"SMA {window}",
                colour,
                [(days[i], means[i]) for i in range(shown, len(days))],
                width=1,
            )
        )
    data["initial_bars"] = INITIAL_BARS
    if run is None:
        data["notes"].append("No backtest yet: its trades would show as arrows.")
        return data
    data["markers"] = trade_markers(
        list(run.trades.all()),
        series="candles",
        currency=symbol.currency,
        since=date.fromisoformat(days[shown]),
    )
    data["run"] = {"id": run.pk, "fast": run.fast, "slow": run.slow, "adjust": adjust}
    return data


# --- the backtest page --------------------------------------------------------------


def equity_chart_data(run: BacktestRun) -> dict[str, Any]:
    """The strategy's equity, buy and hold, the benchmark when there is one, and
    the trades as markers on the strategy line."""
    data = _empty("equity", run.symbol)
    points = equity_points(run)
    data["lines"] = [
        _line(
            "strategy",
            "Strategy",
            STRATEGY_COLOUR,
            [(p["date"], p["equity"]) for p in points],
            width=2,
        ),
        _line(
            "buy_hold",
            "Buy and hold",
            BUY_HOLD_COLOUR,
            [(p["date"], p["buy_hold"]) for p in points],
        ),
    ]
    benchmark = _benchmark(run)
    if benchmark.get("available") and benchmark.get("equity"):
        data["lines"].append(
            _line(
                "benchmark",
                f"Benchmark {benchmark.get('ticker', '')}".strip(),
                BENCHMARK_COLOUR,
                [(day, value) for day, value in benchmark["equity"]],
                dashed=True,
            )
        )
    elif benchmark.get("note"):
        data["notes"].append(f"No benchmark line: {benchmark['note']}")
    data["markers"] = trade_markers(
        list(run.trades.all()), series="strategy", currency=run.symbol.currency
    )
    return data


def _benchmark(run: BacktestRun) -> dict[str, Any]:
    """backtesting.selectors.backtest_benchmark(run), or {} while it does not exist
    (another part of the work adds it) or cannot be computed for this run."""
    benchmark_of = getattr(backtest_selectors, "backtest_benchmark", None)
    if benchmark_of is None:
        return {}
    try:
        result = benchmark_of(run)
    except Exception as exc:  # a chart without its benchmark beats a broken page
        return {"available": False, "note": str(exc)}
    return result if isinstance(result, dict) else {}


def trade_markers(
    trades: list[Trade], *, series: str, currency: str, since: date | None = None
) -> list[dict[str, Any]]:
    """An up arrow under each entry bar and a down arrow over each exit bar, the
    exit labelled with the trade's P&L ("+$1,234 (+5.6 %)"); oldest first."""
    markers: list[dict[str, Any]] = []
    for trade in trades:
        if since is None or trade.entry_date >= since:
            markers.append(
                {
                    "series": series,
                    "time": trade.entry_date.isoformat(),
                    "position": "belowBar",
                    "shape": "arrowUp",
                    "color": UP_COLOUR,
                    "text": f"Buy {trade.shares:,}",
                }
            )
        if since is None or trade.exit_date >= since:
            text = pnl_text(trade.pnl, trade.return_pct, currency)
            markers.append(
                {
                    "series": series,
                    "time": trade.exit_date.isoformat(),
                    "position": "aboveBar",
                    "shape": "arrowDown",
                    "color": UP_COLOUR if trade.pnl >= 0 else DOWN_COLOUR,
                    "text": text + (" (open at end)" if trade.closed_at_end else ""),
                }
            )
    markers.sort(key=lambda marker: marker["time"])
    return markers


def pnl_text(pnl: Decimal | float, return_pct: float, currency: str) -> str:
    """'+$1,234 (+5.6 %)', a loss with a true minus sign; other currencies by code
    ('+1,234 CHF')."""
    value = float(pnl)
    sign = "+" if value >= 0 else MINUS
    amount = f"{abs(value):,.0f}"
    symbol = CURRENCY_SIGNS.get(currency or "USD")
    money = f"{sign}{symbol}{amount}" if symbol else f"{sign}{amount} {currency}"
    return f"{money} ({return_pct:+.1f} %)".replace("-", MINUS)


# --- the forecast page --------------------------------------------------------------


def forecast_chart_data(
    run: PredictionRun, rows: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Closes before as-of and as they arrive, the predicted line and the 80 % band
    (its lower and upper lines), all starting at the as-of close."""
    rows = forecast_rows(run) if rows is None else rows
    data = _empty("forecast", run.symbol)
    last_close = float(run.last_close)
    history = closes_before_forecast(
        run.symbol,
        adjust=run.adjust,
        as_of=run.as_of,
        last_close=last_close,
        count=FORECAST_HISTORY_BARS,
    )
    as_of = run.as_of.isoformat()
    history_points = [(day.isoformat(), close) for day, close in history]
    if not history_points or history_points[-1][0] != as_of:
        history_points.append((as_of, last_close))
    arrived = [
        (row["date"], row["actual_close"])
        for row in rows
        if row["actual_close"] is not None
    ]

    def from_as_of(key: str) -> list[tuple[str, float | None]]:
        return [(as_of, last_close), *((row["date"], row[key]) for row in rows)]

    data["lines"] = [
        _line(
            "actual", "Actual close", ACTUAL_COLOUR, history_points + arrived, width=2
        ),
        _line(
            "predicted",
            "Predicted close",
            PREDICTED_COLOUR,
            from_as_of("predicted_close"),
            dashed=True,
            width=2,
        ),
        _line("upper", "Upper (80 % band)", BAND_COLOUR, from_as_of("upper")),
        _line("lower", "Lower (80 % band)", BAND_COLOUR, from_as_of("lower")),
    ]
    data["band"] = {"upper": "upper", "lower": "lower"}
    if not arrived:
        data["notes"].append("No actual close after the as-of day has arrived yet.")
    return data


# --- shared -------------------------------------------------------------------------


def chart_html(data: dict[str, Any], *, chart_id: str, height: int = 380) -> SafeString:
    """The chart's block: its container, buttons, legend and the json_script."""
    return render_to_string(
        "admin_ui/charts/chart.html",
        {"data": data, "chart_id": chart_id, "height": height},
    )


def _empty(kind: str, symbol: Symbol) -> dict[str, Any]:
    return {
        "kind": kind,
        "symbol": symbol.ticker,
        "currency": symbol.currency or "USD",
        "candles": [],
        "volume": [],
        "lines": [],
        "markers": [],
        "initial_bars": None,
        "notes": [],
    }


def _price(value: Any) -> float:
    return round(float(value), 4)


def _line(
    line_id: str,
    name: str,
    colour: str,
    points: list[tuple[str, Any]],
    *,
    dashed: bool = False,
    width: int = 1,
) -> dict[str, Any]:
    """A line series; a point without a value (NaN or None) is left out."""
    return {
        "id": line_id,
        "name": name,
        "color": colour,
        "dashed": dashed,
        "width": width,
        "points": [
            {"time": day, "value": round(float(value), 4)}
            for day, value in points
            if value is not None and not math.isnan(float(value))
        ],
    }
