"""The Benchmark and Tearsheet parts of a backtest's page: read-only fields that show
backtesting.selectors' benchmark and tearsheet of the stored run, in words and tables."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from unfold.decorators import display

from admin_ui.evaluation import WIDE
from backtesting.models import BacktestRun
from backtesting.selectors import backtest_benchmark, backtest_tearsheet
from core.formatting import NONE, number, plain_pct, signed_pct, tone

MONTHS = [
    ("Jan", "January"),
    ("Feb", "February"),
    ("Mar", "March"),
    ("Apr", "April"),
    ("May", "May"),
    ("Jun", "June"),
    ("Jul", "July"),
    ("Aug", "August"),
    ("Sep", "September"),
    ("Oct", "October"),
    ("Nov", "November"),
    ("Dec", "December"),
]
# A month's colour is fullest at this move (in %); beyond it the shade stays.
HEAT_FULL_AT = 10.0
# Rolling figures shown: the last bar of each of the last few months.
ROLLING_MONTHS = 6

BENCHMARK_LABELS = [
    ("return_pct", "Benchmark return", signed_pct),
    ("strategy_return_pct", "Strategy return (same dates)", signed_pct),
    ("excess_return_pct", "Excess return", signed_pct),
    ("beta", "Beta", number),
    ("correlation", "Correlation", number),
    ("information_ratio", "Information ratio", number),
    ("tracking_error_pct", "Tracking error (ann.)", plain_pct),
    ("common_days", "Common days", lambda v: f"{v:,}"),
]
RISK_LABELS = [
    ("calmar", "Calmar", number),
    ("var_95_pct", "VaR 95 % (1 day)", signed_pct),
    ("es_95_pct", "Expected shortfall 95 %", signed_pct),
]
PERIOD_LABELS = [
    ("ytd_pct", "Year to date", signed_pct),
    ("one_year_pct", "1 year", signed_pct),
    ("three_year_pct", "3 years", signed_pct),
]
SIGNED = {
    "return_pct",
    "strategy_return_pct",
    "excess_return_pct",
    "ytd_pct",
    "one_year_pct",
    "three_year_pct",
}


def _figures(values: dict[str, Any], labels: list[tuple[str, str, Any]]) -> list[dict]:
    return [
        {
            "label": label,
            "value": NONE if values.get(key) is None else show(values[key]),
            "tone": tone(values.get(key)) if key in SIGNED else "",
        }
        for key, label, show in labels
    ]


def _notes(notes: dict[str, str], labels: list[tuple[str, str, Any]]) -> list:
    names = {key: label for key, label, _ in labels}
    return sorted((names.get(key, key), note) for key, note in notes.items())


def heat_style(value: float | None) -> str:
    """A cell's background: green for a gain, red for a loss, fuller for a bigger move."""
    if value is None or value == 0:
        return ""
    strength = 0.12 + 0.48 * min(abs(value) / HEAT_FULL_AT, 1.0)
    colour = "22, 163, 74" if value > 0 else "220, 38, 38"
    return f"background-color: rgba({colour}, {strength:.2f})"


def monthly_rows(monthly: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for row in monthly["rows"]:
        year = row["year"]
        cells = [
            {
                "text": signed_pct(value, 1),
                "style": heat_style(value),
                "title": f"{name} {year}: {signed_pct(value)}"
                if value is not None
                else f"{name} {year}: no bars",
            }
            for (_, name), value in zip(MONTHS, row["months"], strict=True)
        ]
        total = row["year_pct"]
        rows.append(
            {
                "year": year,
                "cells": cells,
                "total": {
                    "text": signed_pct(total, 1),
                    "style": heat_style(total),
                    "title": f"{year}: {signed_pct(total)}",
                },
            }
        )
    return rows


def rolling_rows(rolling: dict[str, Any], months: int = ROLLING_MONTHS) -> list[dict]:
    """The figures on the last bar of each of the last `months` months with a full
    window, newest first."""
    picked: list[dict] = []
    seen: set[str] = set()
    pairs = zip(
        reversed(rolling["dates"]),
        reversed(rolling["sharpe"]),
        reversed(rolling["volatility_pct"]),
        strict=True,
    )
    for day, sharpe, volatility in pairs:
        if volatility is None or len(picked) == months:
            break
        if day[:7] not in seen:
            seen.add(day[:7])
            picked.append({"cells": [day, number(sharpe), plain_pct(volatility)]})
    return picked


def _sheet(obj: BacktestRun) -> dict[str, Any]:
    """The run's tearsheet, computed once per page (each field reads it)."""
    cached: dict[str, Any] | None = getattr(obj, "_tearsheet", None)
    if cached is None:
        cached = backtest_tearsheet(obj)
        obj._tearsheet = cached  # type: ignore[attr-defined]
    return cached


class TearsheetFields:
    """The read-only fields of the Benchmark and Tearsheet fieldsets."""

    tearsheet_fieldsets = [
        ("Benchmark", {"fields": ["benchmark_figures"]}),
        (
            "Tearsheet",
            {
                "fields": [
                    "risk_figures",
                    "worst_drawdowns",
                    "monthly_returns",
                    "rolling_figures",
                ]
            },
        ),
    ]

    @display(description="Against the benchmark")
    def benchmark_figures(self, obj: BacktestRun) -> SafeString:
        compared = backtest_benchmark(obj)
        if not compared["available"]:
            return render_to_string(
                "admin_ui/backtest_tearsheet.html", {"message": compared["note"]}
            )
        return render_to_string(
            "admin_ui/backtest_tearsheet.html",
            {
                "message": f"Against {compared['ticker']} ({obj.adjust} prices), "
                f"{compared['start']} to {compared['end']}.",
                "figures": _figures(compared, BENCHMARK_LABELS),
                "notes": _notes(compared["notes"], BENCHMARK_LABELS),
            },
        )

    @display(description="Risk and returns")
    def risk_figures(self, obj: BacktestRun) -> SafeString:
        sheet = _sheet(obj)
        values = {**sheet, **sheet["periods"]}
        labels = RISK_LABELS + PERIOD_LABELS
        return render_to_string(
            "admin_ui/backtest_tearsheet.html",
            {
                "figures": _figures(values, labels),
                "notes": _notes(
                    {k: v for k, v in sheet["notes"].items() if k != "rolling"},
                    labels,
                ),
            },
        )

    @display(description="Worst drawdowns", wrapper_class=WIDE)
    def worst_drawdowns(self, obj: BacktestRun) -> SafeString:
        rows = [
            {
                "cells": [
                    period["start"],
                    period["trough"],
                    period["recovery"] or "not yet",
                    signed_pct(period["depth_pct"]),
                    f"{period['days']:,}",
                ]
            }
            for period in _sheet(obj)["worst_drawdowns"]
        ]
        return render_to_string(
            "admin_ui/simple_table.html",
            {
                "headings": ["Peak", "Trough", "Recovered", "Depth", "Days"],
                "rows": rows,
                "empty": "The equity never fell below a previous peak.",
            },
        )

    @display(description="Monthly returns", wrapper_class=WIDE)
    def monthly_returns(self, obj: BacktestRun) -> SafeString:
        return render_to_string(
            "admin_ui/backtest_monthly_returns.html",
            {
                "months": MONTHS,
                "rows": monthly_rows(_sheet(obj)["monthly_returns"]),
            },
        )

    @display(description="Rolling 6-month Sharpe and volatility", wrapper_class=WIDE)
    def rolling_figures(self, obj: BacktestRun) -> SafeString:
        rolling = _sheet(obj)["rolling"]
        return render_to_string(
            "admin_ui/simple_table.html",
            {
                "headings": ["Date", "Sharpe", "Volatility (ann.)"],
                "rows": rolling_rows(rolling),
                "empty": f"Fewer than {rolling['window']} daily returns: "
                "no full window yet.",
            },
        )
