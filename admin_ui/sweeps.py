"""Sweeps: the grid's heatmap (fast x slow, a chosen metric), the out-of-sample and
walk-forward tables and the verdict; each cell leads to that pair's single backtest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import URLPattern, path, reverse
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from admin_ui.bases import RecordsOnly, badge
from admin_ui.permissions import may_run
from admin_ui.report_buttons import SweepReportButton
from backtesting.models import Sweep
from backtesting.services import backtest_run_create
from backtesting.sweep_selectors import (
    DEFAULT_HEATMAP_METRIC,
    HEATMAP_METRICS,
    heatmap,
    pair_params,
    stored_pair_runs,
    sweep_has_pair,
)
from core.errors import StockDeskError
from core.formatting import NONE, money, number, plain_pct, signed_pct
from core.models import Job

# How a heatmap value reads, by metric; figures not named read as numbers.
_SHOW: dict[str, Callable[[Any], str]] = {
    "total_return_pct": lambda v: signed_pct(v, 1),
    "cagr_pct": lambda v: signed_pct(v, 1),
    "max_drawdown_pct": lambda v: signed_pct(v, 1),
    "in_sample_total_return_pct": lambda v: signed_pct(v, 1),
    "volatility_pct": plain_pct,
    "win_rate_pct": plain_pct,
    "exposure_pct": plain_pct,
    "trades": lambda v: f"{v:,}",
}
# Metrics where more is neither better nor worse: one hue, light to dark.
_NEUTRAL = {"trades", "exposure_pct", "volatility_pct"}
# Metrics whose sign matters: green above 0, red below.
_SIGNED = {
    "sharpe",
    "sortino",
    "total_return_pct",
    "cagr_pct",
    "in_sample_sharpe",
    "in_sample_total_return_pct",
}


def _show(metric: str, value: Any) -> str:
    if value is None:
        return NONE
    return _SHOW.get(metric, number)(value)


_GREEN, _RED, _BLUE = "22, 163, 74", "220, 38, 38", "2, 132, 199"


def _colour(metric: str, value: float | None, low: float, high: float) -> str:
    """An inline background for a cell; the stronger, the further along the range."""
    if value is None:
        return ""
    if metric in _SIGNED:
        reach = max(abs(low), abs(high)) or 1.0
        strength = min(abs(value) / reach, 1.0)
        rgb = _GREEN if value > 0 else _RED
    elif metric in _NEUTRAL:
        strength = (value - low) / ((high - low) or 1.0)
        rgb = _BLUE
    else:
        # Higher is better (a drawdown nearer 0 too): red at the low end, green high.
        position = (value - low) / ((high - low) or 1.0)
        rgb = _GREEN if position >= 0.5 else _RED
        strength = abs(position - 0.5) * 2
    return f"background-color: rgba({rgb}, {0.08 + 0.55 * strength:.2f})"


def heatmap_table(sweep: Sweep, metric: str, *, request: HttpRequest) -> dict[str, Any]:
    """The heatmap as the template draws it: rows of cells with text, colour, link.

    Staff who may run backtests get a link on every pair (the run is made when
    opened, or the stored one found); others only on pairs whose run is stored.
    """
    grid = heatmap(sweep, metric)
    metric = grid["metric"]
    values = [v for row in grid["values"] for v in row if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    runner = may_run(request.user, Job.Kind.BACKTEST)
    stored = {} if runner else stored_pair_runs(sweep)
    pairs = {(row["fast"], row["slow"]) for row in sweep.rows}
    best = (sweep.best_fast, sweep.best_slow)
    rows = []
    for fast, line in zip(grid["fasts"], grid["values"], strict=True):
        cells = []
        for slow, value in zip(grid["slows"], line, strict=True):
            pair = (fast, slow)
            if pair not in pairs:
                cells.append({"blank": True})
                continue
            if runner:
                href = reverse(
                    "admin:backtesting_sweep_run", args=[sweep.pk, fast, slow]
                )
            elif pair in stored:
                href = reverse(
                    "admin:backtesting_backtestrun_change", args=[stored[pair]]
                )
            else:
                href = None
            cells.append(
                {
                    "text": _show(metric, value),
                    "style": _colour(metric, value, low, high),
                    "href": href,
                    "title": f"SMA {fast}/{slow}: {grid['label']} {_show(metric, value)}",
                    "best": pair == best,
                    "default": pair == (50, 200),
                }
            )
        rows.append({"fast": fast, "cells": cells})
    return {
        "metric": metric,
        "label": grid["label"],
        "slows": grid["slows"],
        "rows": rows,
        "choices": list(HEATMAP_METRICS.items()),
        "links": "all" if runner else ("stored" if stored else "none"),
    }


def _held_out_rows(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The held-out table: the in-sample best pair, the default, buy and hold."""
    rows = []
    for key, name in (
        ("best", "In-sample best"),
        ("default", "Default"),
        ("buy_hold", "Buy and hold"),
    ):
        figures = block.get(key)
        if not figures:
            continue
        pair = (
            f"SMA {figures['fast']}/{figures['slow']}"
            if figures.get("fast") is not None
            else "—"
        )
        rows.append(
            {
                "name": name,
                "pair": pair,
                "total_return": signed_pct(figures["total_return_pct"]),
                "cagr": signed_pct(figures.get("cagr_pct")),
                "sharpe": number(figures.get("sharpe")),
                "max_drawdown": signed_pct(figures.get("max_drawdown_pct")),
                "trades": figures.get("trades", 0),
            }
        )
    return rows


def _walk_rows(walk: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "in_sample": f"{w['in_sample']['start']} to {w['in_sample']['end']}",
            "out_of_sample": (
                f"{w['out_of_sample']['start']} to {w['out_of_sample']['end']}"
            ),
            "pair": f"SMA {w['fast']}/{w['slow']}" if w["fast"] else NONE,
            "return": signed_pct(w["return_pct"]),
            "default": signed_pct(w["default_return_pct"]),
            "buy_hold": signed_pct(w["buy_hold_return_pct"]),
        }
        for w in walk.get("windows", [])
    ]


def _chained(walk: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, name in (
        ("optimised", "Walk-forward (re-chosen)"),
        ("default", "Default 50/200"),
        ("buy_hold", "Buy and hold"),
    ):
        figures = walk.get(key)
        if figures:
            rows.append(
                {
                    "name": name,
                    "total_return": signed_pct(figures["total_return_pct"]),
                    "sharpe": number(figures.get("sharpe")),
                    "max_drawdown": signed_pct(figures.get("max_drawdown_pct")),
                }
            )
    return rows


def benchmark_line(benchmark: dict[str, Any]) -> str:
    """The benchmark against the in-sample best pair, in one sentence."""
    full, held = benchmark.get("full") or {}, benchmark.get("held_out") or {}
    ticker = full.get("ticker") or benchmark.get("ticker")
    if not full.get("available"):
        return f"Benchmark: {full.get('note') or 'none.'}"
    line = (
        f"Benchmark {ticker}: {signed_pct(full['return_pct'])} over the full period "
        f"(the best pair's excess {signed_pct(full['excess_return_pct'])})"
    )
    if held.get("available"):
        line += (
            f", {signed_pct(held['return_pct'])} over the held-out part (excess "
            f"{signed_pct(held['excess_return_pct'])})"
        )
    return line + "."


def sweep_page(sweep: Sweep, request: HttpRequest) -> dict[str, Any]:
    """Everything the sweep's page shows below its parameters."""
    result = sweep.result
    held_out = result.get("out_of_sample", {})
    walk = result.get("walk_forward", {})
    test = held_out.get("test") or {}
    return {
        "sweep": sweep,
        "verdict": result.get("verdict", {}),
        "heatmap": heatmap_table(
            sweep, request.GET.get("metric", DEFAULT_HEATMAP_METRIC), request=request
        ),
        "held_out": held_out,
        "held_out_rows": _held_out_rows(held_out),
        "p_value": number(test.get("p_value"), 3),
        "benchmark": benchmark_line(result.get("benchmark", {})),
        "walk": walk,
        "walk_rows": _walk_rows(walk),
        "walk_chained": _chained(walk),
    }


@admin.register(Sweep)
class SweepAdmin(SweepReportButton, RecordsOnly, ModelAdmin):
    actions_detail = ["generate_report_detail"]
    list_display = [
        "id",
        "symbol",
        "ranges",
        "pair_count",
        "best_pair",
        "beat_default_badge",
        "period",
        "created_at",
    ]
    list_display_links = ["id", "symbol"]
    list_filter = [
        "symbol",
        "beat_default",
        "adjust",
        ("created_at", RangeDateTimeFilter),
    ]
    list_filter_submit = True
    search_fields = ["symbol__ticker", "symbol__name"]
    list_select_related = ["symbol"]
    ordering = ["-created_at"]
    fieldsets = [
        (None, {"fields": ["symbol", "parameters", "prices", "period"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)
    # The heatmap's metric chooser is a GET form: outside the page's own form.
    change_form_outer_after_template = "admin_ui/sweep_detail.html"

    @display(description="Grid")
    def ranges(self, obj: Sweep) -> str:
        return f"fast {obj.fast_range}, slow {obj.slow_range}"

    @display(description="Best in sample", ordering="best_fast")
    def best_pair(self, obj: Sweep) -> str:
        if obj.best_fast is None:
            return NONE
        return f"SMA {obj.best_fast}/{obj.best_slow}"

    @display(description="Beat 50/200 out of sample", ordering="beat_default")
    def beat_default_badge(self, obj: Sweep) -> SafeString | str:
        if obj.beat_default is None:
            return NONE
        edge = obj.result.get("verdict", {}).get("edge")
        if obj.beat_default:
            return badge("yes, an edge" if edge else "yes, not significant", "success")
        return badge("no", "danger")

    @display(description="Bars")
    def period(self, obj: Sweep) -> str:
        return f"{obj.start_date} to {obj.end_date} ({obj.bar_count:,} bars)"

    @display(description="Parameters")
    def parameters(self, obj: Sweep) -> str:
        compared = obj.result.get("benchmark", {}).get("full") or {}
        benchmark = compared.get("ticker") or "none"
        if compared.get("ticker") and not compared.get("available"):
            benchmark += " (no figures)"
        return (
            f"fast {obj.fast_range}, slow {obj.slow_range} ({obj.pair_count} pairs), "
            f"held out {obj.oos_fraction * 100:.0f} %, initial "
            f"{money(obj.initial_investment)}, commission "
            f"{float(obj.commission) * 100:.3f} % per side, benchmark {benchmark}"
        )

    @display(description="Prices")
    def prices(self, obj: Sweep) -> str:
        actions = obj.adjustment.get("actions", [])
        return f"adjust={obj.adjust}: " + (
            f"{len(actions)} corporate action(s) applied"
            if actions
            else "no corporate action applied"
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The heatmap reads the request (metric, who may run), which fields cannot.
        sweep = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if sweep is not None:
            extra["sweep_page"] = sweep_page(sweep, request)
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list[URLPattern]:
        run = path(
            "<int:sweep_id>/run/<int:fast>/<int:slow>/",
            self.admin_site.admin_view(self.run_pair_view),
            name="backtesting_sweep_run",
        )
        return [run, *super().get_urls()]

    def run_pair_view(
        self, request: HttpRequest, sweep_id: int, fast: int, slow: int
    ) -> HttpResponse:
        """Open one cell: the pair's single backtest on the sweep's bars, stored if it
        was not yet (backtest_run_create finds a stored one)."""
        if not may_run(request.user, Job.Kind.BACKTEST):
            raise PermissionDenied("Running a backtest needs backtesting.run_backtest.")
        sweep = get_object_or_404(Sweep, pk=sweep_id)
        if not sweep_has_pair(sweep, fast, slow):
            raise Http404(f"SMA {fast}/{slow} is not a pair of sweep {sweep.pk}.")
        try:
            run = backtest_run_create(
                ticker=sweep.symbol.ticker,
                params=pair_params(sweep, fast, slow),
                user=request.user,
            )
        except StockDeskError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return redirect("admin:backtesting_sweep_change", sweep.pk)
        return redirect("admin:backtesting_backtestrun_change", run.pk)
