"""The symbol page's read-only panels: data quality, price chart, recent bars,
backtests, forecasts, reports."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from unfold.decorators import display

from admin_ui.chart_data import chart_html, price_chart_data
from admin_ui.evaluation import WIDE
from admin_ui.symbol_quality import price_text
from core.data_quality import symbol_data_quality
from core.formatting import money, signed_pct
from core.models import CorporateAction, PriceBar, Symbol
from core.split_detection import ratio_words
from ml.selectors import forecast_rows, realised_scores


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

    @display(
        description="Candles and volume, the SMAs and the latest backtest's trades",
        wrapper_class=WIDE,
    )
    def price_chart(self, obj: Symbol) -> str:
        if obj.pk is None or not obj.bars.exists():
            return "No bars yet: use Fetch prices above."
        return chart_html(price_chart_data(obj), chart_id=f"price-chart-{obj.pk}")

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
