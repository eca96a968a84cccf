"""Comparisons: the same backtest on several symbols, a table of their runs and one chart
of their prices rebased to 100."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.decorators import display

from admin_ui.bases import RecordsOnly
from backtesting.comparison_selectors import (
    comparison_row,
    comparison_runs,
    rebased_prices,
)
from backtesting.models import Comparison
from core.formatting import money, number, signed_pct, tone

# One colour per line, as many as a comparison may have symbols (MAX_SYMBOLS).
LINE_COLOURS = [
    "#0284c7",
    "#dc2626",
    "#16a34a",
    "#9333ea",
    "#ea580c",
    "#0d9488",
    "#db2777",
    "#4b5563",
    "#ca8a04",
    "#4f46e5",
]
# (key of comparison_row, heading, format, coloured by sign)
COLUMNS = [
    ("total_return_pct", "Return", signed_pct, True),
    ("cagr_pct", "CAGR", signed_pct, True),
    ("max_drawdown_pct", "Max drawdown", signed_pct, False),
    ("sharpe", "Sharpe", number, False),
    ("trades", "Trades", lambda v: f"{v:,}", False),
    ("buy_hold_return_pct", "Buy and hold", signed_pct, True),
]


@admin.register(Comparison)
class ComparisonAdmin(RecordsOnly, ModelAdmin):
    list_display = [
        "id",
        "symbols",
        "windows",
        "investment",
        "adjust",
        "created_by",
        "created_at",
    ]
    list_display_links = ["id", "symbols"]
    list_filter = ["adjust"]
    search_fields = ["runs__symbol__ticker"]
    list_select_related = ["created_by"]
    ordering = ["-created_at"]
    fieldsets = [
        (None, {"fields": ["symbols", "parameters", "created_by", "created_at"]}),
        ("Results", {"fields": ["table", "rebased_chart"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)  # every field on the page

    @display(description="Symbols")
    def symbols(self, obj: Comparison) -> str:
        return ", ".join(obj.tickers)

    @display(description="SMA", ordering="fast")
    def windows(self, obj: Comparison) -> str:
        return f"{obj.fast} / {obj.slow}"

    @display(description="Initial", ordering="initial_investment")
    def investment(self, obj: Comparison) -> str:
        return money(obj.initial_investment)

    @display(description="Parameters")
    def parameters(self, obj: Comparison) -> str:
        dates = f"from {obj.start_date or 'the first bar'} to {obj.end_date or 'the last bar'}"
        return (
            f"SMA {obj.fast} / {obj.slow}, initial {money(obj.initial_investment)}, "
            f"commission {float(obj.commission) * 100:.3f} % per side, {dates}, "
            f"adjust={obj.adjust}"
        )

    @display(description="Backtests")
    def table(self, obj: Comparison) -> SafeString:
        rows = []
        for run in comparison_runs(obj):
            row = comparison_row(run)
            rows.append(
                {
                    "symbol": row["symbol"],
                    "url": reverse(
                        "admin:backtesting_backtestrun_change", args=[run.pk]
                    ),
                    "run_id": run.pk,
                    "period": f"{run.start_date} to {run.end_date}",
                    "cells": [
                        {
                            "value": "—" if row[key] is None else show(row[key]),
                            "tone": tone(row[key]) if signed else "",
                        }
                        for key, _, show, signed in COLUMNS
                    ],
                }
            )
        return render_to_string(
            "admin_ui/comparison_table.html",
            {"headings": [heading for _, heading, _, _ in COLUMNS], "rows": rows},
        )

    @display(description="Prices rebased to 100")
    def rebased_chart(self, obj: Comparison) -> SafeString:
        rebased = rebased_prices(obj, comparison_runs(obj))
        lines: list[dict[str, Any]] = []
        for index, (ticker, values) in enumerate(rebased["series"].items()):
            line: dict[str, Any] = {
                "label": ticker,
                "data": values,
                "borderColor": LINE_COLOURS[index % len(LINE_COLOURS)],
            }
            if index == 0:
                # unfold's chart reads these to show the y axis and thin the dates.
                line.update(displayYAxis=True, maxTicksXLimit=8)
            lines.append(line)
        data = {"labels": rebased["dates"], "datasets": lines}
        return render_to_string(
            "admin_ui/comparison_chart.html",
            {"data": json.dumps(data), "lines": lines, "note": rebased["note"]},
        )
