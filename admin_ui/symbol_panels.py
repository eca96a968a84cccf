"""The symbol page's read-only panels: data quality, price chart, recent bars,
backtests, forecasts, reports."""

from __future__ import annotations

import json
from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from unfold.decorators import display

from admin_ui.symbol_quality import price_text
from backtesting.params import BacktestParams
from core.data_quality import symbol_data_quality
from core.formatting import money, signed_pct
from core.indicators import trailing_mean
from core.models import CorporateAction, PriceBar, Symbol
from core.split_detection import ratio_words
from ml.selectors import forecast_rows, realised_scores

CHART_BARS = 250
SMA_FAST, SMA_SLOW = BacktestParams.DEFAULT_FAST, BacktestParams.DEFAULT_SLOW


class SymbolPanels:
    """The tabs on a symbol's page; SymbolAdmin lists them in readonly_fields."""

    @display(description="Data quality")
    def data_quality(self, obj: Symbol) -> str:
        if obj.pk is None:
            return "Save the symbol and fetch its prices to see their quality."
        block = symbol_data_quality(obj, now=timezone.now())
        facts = block.facts
        sources = PriceBar.Source
        latest = block.latest_action
        return render_to_string(
            "admin_ui/data_quality.html",
            {
                "block": block,
                "facts": facts,
                "sources": [
                    (dict(sources.choices).get(source, source), bars)
                    for source, bars in sorted(block.bars_by_source.items())
                ],
                "latest_action": _action_words(latest) if latest else None,
                "suspects": [
                    {
                        "day": s.day,
                        "close_before": price_text(s.close_before),
                        "open_on": price_text(s.open_on),
                        "ratio": ratio_words(s.factor),
                    }
                    for s in block.suspects
                ],
            },
        )

    @display(description="Close with SMA 50 and SMA 200")
    def price_chart(self, obj: Symbol) -> str:
        bars = (
            list(
                obj.bars.order_by("-date").values_list("date", "close")[
                    : CHART_BARS + SMA_SLOW
                ]
            )[::-1]
            if obj.pk
            else []
        )
        if not bars:
            return "No bars yet: use Fetch prices above."
        closes = [float(close) for _, close in bars]
        fast, slow = trailing_mean(closes, SMA_FAST), trailing_mean(closes, SMA_SLOW)
        shown = slice(max(0, len(bars) - CHART_BARS), None)

        def series(values: Any) -> list[float | None]:
            return [None if v != v else round(float(v), 2) for v in values[shown]]

        data = {
            "labels": [day.isoformat() for day, _ in bars[shown]],
            "datasets": [
                {
                    "label": "Close",
                    "data": series(closes),
                    "borderColor": "#111827",
                    "displayYAxis": True,
                    "maxTicksXLimit": 8,
                },
                {"label": "SMA 50", "data": series(fast), "borderColor": "#f59e0b"},
                {"label": "SMA 200", "data": series(slow), "borderColor": "#7c3aed"},
            ],
        }
        return render_to_string(
            "admin_ui/symbol_chart.html", {"data": json.dumps(data)}
        )

    @display(description="Last 10 bars")
    def recent_bars(self, obj: Symbol) -> str:
        bars = obj.bars.order_by("-date")[:10] if obj.pk else []
        return _table(
            ["Date", "Open", "High", "Low", "Close", "Volume", "Source"],
            [
                (
                    None,
                    [
                        bar.date,
                        money(bar.open),
                        money(bar.high),
                        money(bar.low),
                        money(bar.close),
                        f"{bar.volume:,}",
                        bar.get_source_display(),
                    ],
                )
                for bar in bars
            ],
            "No bars yet: use Fetch prices above.",
        )

    @display(description="Latest backtests")
    def backtests(self, obj: Symbol) -> str:
        runs = obj.backtests.order_by("-created_at")[:10] if obj.pk else []
        return _table(
            [
                "Run",
                "SMA",
                "Period",
                "Return",
                "Buy and hold",
                "Max drawdown",
                "Trades",
            ],
            [
                (
                    reverse("admin:backtesting_backtestrun_change", args=[run.pk]),
                    [
                        f"#{run.pk}, {run.created_at:%Y-%m-%d}",
                        f"{run.fast} / {run.slow}",
                        f"{run.start_date} to {run.end_date}",
                        signed_pct(run.total_return_pct),
                        signed_pct(run.buy_hold_return_pct),
                        signed_pct(run.max_drawdown_pct),
                        run.trade_count,
                    ],
                )
                for run in runs
            ],
            "No backtest yet: use Backtest above.",
        )

    @display(description="Latest forecasts")
    def forecasts(self, obj: Symbol) -> str:
        runs = (
            obj.forecasts.select_related("model").order_by("-as_of", "-id")[:10]
            if obj.pk
            else []
        )
        rows = []
        for run in runs:
            realised = realised_scores(forecast_rows(run))
            rows.append(
                (
                    reverse("admin:ml_predictionrun_change", args=[run.pk]),
                    [
                        f"as of {run.as_of}",
                        f"v{run.model.version}",
                        money(run.last_close),
                        f"{realised['days_known']} of 30",
                        money(realised["mae"]),
                    ],
                )
            )
        return _table(
            ["Forecast", "Model", "Last close", "Days arrived", "Realised MAE"],
            rows,
            "No forecast yet: use Forecast above (after training a model).",
        )

    @display(description="Reports")
    def reports(self, obj: Symbol) -> str:
        archived = list(obj.reports.order_by("-created_at")[:10]) if obj.pk else []
        if not archived:
            return "No report yet: use the Generate report action on the list."
        return format_html_join(
            mark_safe("<br>"),
            '<a class="text-primary-600 underline" href="{}">{}</a> ({} KB)',
            (
                (
                    reverse("admin:reporting_report_download", args=[r.pk]),
                    f"{r.created_at:%Y-%m-%d %H:%M}",
                    f"{r.size_bytes / 1024:,.0f}",
                )
                for r in archived
            ),
        )


def _table(headings: list[str], rows: list[tuple[str | None, list]], empty: str) -> str:
    return render_to_string(
        "admin_ui/simple_table.html",
        {
            "headings": headings,
            "rows": [{"url": url, "cells": cells} for url, cells in rows],
            "empty": empty,
        },
    )


def _action_words(action: CorporateAction) -> str:
    """'split 4-for-1 on 2024-05-15 (Confirmed by staff ...)' for the panel."""
    if action.kind == CorporateAction.Kind.SPLIT and action.split_factor:
        what = f"{ratio_words(action.split_factor)} split"
    else:
        what = f"dividend of {money(action.dividend_amount)} a share"
    return f"{what} on {action.date.isoformat()} ({action.get_source_display()})"
