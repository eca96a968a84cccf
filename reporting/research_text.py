"""The report's words and displays for a run's tearsheet and benchmark and for a sweep.

Each function takes the dict the backtesting selectors answer and adds the exact
texts the PDF prints, so the JSON and the PDF show the same figures.
"""

from __future__ import annotations

from typing import Any

from core.formatting import NONE, number, plain_pct, signed_pct

MONTHS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
# A month's return at or beyond this many percent gets the full colour.
MONTH_SCALE_PCT = 10.0
GAIN_RGB = (21, 128, 61)
LOSS_RGB = (185, 28, 28)

TEARSHEET_FIGURES = (
    ("calmar", "Calmar ratio", number),
    ("var_95_pct", "Daily VaR 95 %", signed_pct),
    ("es_95_pct", "Expected shortfall 95 %", signed_pct),
)
PERIOD_FIGURES = (
    ("ytd_pct", "Year to date"),
    ("one_year_pct", "Last 1 year"),
    ("three_year_pct", "Last 3 years"),
)
BENCHMARK_FIGURES = (
    ("return_pct", "Benchmark return", signed_pct),
    ("excess_return_pct", "Excess return (strategy \u2212 benchmark)", signed_pct),
    ("beta", "Beta", number),
    ("correlation", "Correlation", number),
    ("information_ratio", "Information ratio", number),
    ("tracking_error_pct", "Tracking error (annual)", lambda v: signed_pct(v)[1:]),
)


def _figure(
    key: str, label: str, value: float | None, display: str, notes: dict[str, str]
) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "value": value,
        "display": display,
        "note": notes.get(key, ""),
    }


def month_colour(value: float | None) -> str:
    """A cell's background: green for a gain, red for a loss, stronger for more."""
    if value is None:
        return "#ffffff"
    share = min(abs(value) / MONTH_SCALE_PCT, 1.0) * 0.75
    red, green, blue = GAIN_RGB if value >= 0 else LOSS_RGB
    mixed = (round(255 + (channel - 255) * share) for channel in (red, green, blue))
    return "#{:02x}{:02x}{:02x}".format(*mixed)


def _cell(value: float | None) -> dict[str, Any]:
    return {
        "value": value,
        "display": NONE if value is None else f"{value:+.1f}".replace("-", "\u2212"),
        "colour": month_colour(value),
        # Dark cells need light text to stay readable.
        "light": value is not None and abs(value) >= 0.6 * MONTH_SCALE_PCT,
    }


def tearsheet_section(data: dict[str, Any] | None) -> dict[str, Any]:
    """backtesting.tearsheet's dict with its displays; `available` False without one."""
    if not data:
        return {"available": False}
    notes: dict[str, str] = data.get("notes", {})
    figures = [
        _figure(key, label, data.get(key), show(data.get(key)), notes)
        for key, label, show in TEARSHEET_FIGURES
    ]
    periods = data.get("periods", {})
    figures += [
        _figure(key, label, periods.get(key), signed_pct(periods.get(key)), notes)
        for key, label in PERIOD_FIGURES
    ]
    drawdowns = [
        {
            **period,
            "depth_display": signed_pct(period["depth_pct"]),
            "recovery_display": period["recovery"] or "not yet",
            "days_display": f"{period['days']:,}",
        }
        for period in data.get("worst_drawdowns", [])
    ]
    monthly = [
        {
            "year": row["year"],
            "cells": [_cell(value) for value in row["months"]],
            "year_cell": _cell(row.get("year_pct")),
        }
        for row in data.get("monthly_returns", {}).get("rows", [])
    ]
    # The rolling series are for the admin's chart; the PDF does not print them.
    return {
        "available": True,
        "figures": figures,
        "worst_drawdowns": drawdowns,
        "monthly": {"months": list(MONTHS), "rows": monthly},
        "notes": notes,
    }


def benchmark_section(data: dict[str, Any] | None) -> dict[str, Any]:
    """backtesting.selectors' benchmark block with its displays."""
    if not data:
        return {"available": False, "ticker": None, "note": ""}
    if not data.get("available"):
        return {
            "available": False,
            "ticker": data.get("ticker"),
            "note": data.get("note", ""),
        }
    notes: dict[str, str] = data.get("notes", {})
    ticker = data.get("ticker")
    return {
        "available": True,
        "ticker": ticker,
        "note": "",
        "common_days": data.get("common_days"),
        "figures": [
            _figure(key, label, data.get(key), show(data.get(key)), notes)
            for key, label, show in BENCHMARK_FIGURES
        ],
        "label": f"{ticker} (rebased)",
        # [[iso date, value]]: the benchmark bought with the run's investment.
        "equity": data.get("equity", []),
    }


# --- sweeps ---------------------------------------------------------------------------

OOS_ROWS = (
    ("best", "In-sample best"),
    ("default", "Default"),
    ("buy_hold", "Buy and hold"),
)
WALK_FORWARD_ROWS = (
    ("optimised", "Re-chosen each window"),
    ("default", "Default 50/200"),
    ("buy_hold", "Buy and hold"),
)
RESULT_FIGURES = (
    ("total_return_pct", "return", signed_pct),
    ("cagr_pct", "cagr", signed_pct),
    ("max_drawdown_pct", "max_drawdown", signed_pct),
    ("sharpe", "sharpe", number),
)


def _result_row(
    key: str, label: str, figures: dict[str, Any] | None, note: str = ""
) -> dict[str, Any]:
    """One line of a held-out table: return, CAGR, max drawdown and Sharpe."""
    figures = figures or {}
    if key != "buy_hold" and figures.get("fast") and figures.get("slow"):
        label = f"{label} SMA {figures['fast']}/{figures['slow']}"
    return {
        "key": key,
        "label": label,
        "available": bool(figures),
        "note": note,
        **{
            name: {"value": figures.get(source), "display": show(figures.get(source))}
            for source, name, show in RESULT_FIGURES
        },
    }


def _out_of_sample(data: dict[str, Any]) -> dict[str, Any]:
    held = data.get("held_out") or {}
    return {
        "available": bool(data.get("available")),
        "split_date": data.get("split_date"),
        "fraction": data.get("fraction"),
        "fraction_display": plain_pct((data.get("fraction") or 0) * 100, 0),
        "held_out": held,
        "note": data.get("note", ""),
        "rows": [
            _result_row(
                key,
                label,
                data.get(key),
                data.get("default_note", "") if key == "default" else "",
            )
            for key, label in OOS_ROWS
        ],
    }


def _walk_forward(data: dict[str, Any]) -> dict[str, Any]:
    available = bool(data.get("available"))
    return {
        "available": available,
        "folds": data.get("folds"),
        "scheme": data.get("scheme", ""),
        "start": data.get("start"),
        "end": data.get("end"),
        "note": data.get("note", ""),
        "rows": [
            _result_row(
                key,
                label,
                data.get(key),
                data.get("default_note", "") if key == "default" else "",
            )
            for key, label in WALK_FORWARD_ROWS
        ]
        if available
        else [],
    }


def _best(data: dict[str, Any]) -> dict[str, Any]:
    """The in-sample best pair with the in-sample figures it was ranked on."""
    best = data.get("best") or {}
    in_sample = best.get("in_sample") or {}
    return {
        "fast": best.get("fast"),
        "slow": best.get("slow"),
        "in_sample": in_sample,
        "in_sample_display": {
            "return": signed_pct(in_sample.get("total_return_pct")),
            "sharpe": number(in_sample.get("sharpe")),
        },
    }


def sweep_section(sweep: dict[str, Any], heat: dict[str, Any]) -> dict[str, Any]:
    """backtesting's sweep dict (sweep_to_dict) and its heatmap, with the PDF's texts.

    The rows of every pair are left out: the heatmap shows them.
    """
    oos = sweep.get("out_of_sample") or {}
    verdict = sweep.get("verdict") or {}
    return {
        "available": True,
        "id": sweep.get("id"),
        "parameters": sweep.get("parameters", {}),
        "data": sweep.get("data", {}),
        "pairs": sweep.get("pairs"),
        "ranking": sweep.get("ranking") or {},
        "best": _best(oos),
        "out_of_sample": _out_of_sample(oos),
        "walk_forward": _walk_forward(sweep.get("walk_forward") or {}),
        "verdict": {
            "beat_default": verdict.get("beat_default"),
            "edge": verdict.get("edge"),
            "text": verdict.get("text", ""),
        },
        "heatmap": heat,
    }
