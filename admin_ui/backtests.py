"""Backtests: runs with their metrics, equity chart, benchmark, tearsheet and trades;
export to CSV/XLSX."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from import_export.admin import ExportActionModelAdmin
from unfold.admin import ModelAdmin, TabularInline
from unfold.contrib.filters.admin import RangeDateTimeFilter, RangeNumericFilter
from unfold.decorators import display

from admin_ui.backtest_tearsheet import TearsheetFields
from admin_ui.bases import Exports, RecordsOnly, formatted_field
from admin_ui.chart_data import chart_html, equity_chart_data
from admin_ui.evaluation import WIDE
from admin_ui.report_buttons import BacktestReportButton
from admin_ui.resources import BacktestRunResource, TradeResource
from backtesting.models import BacktestRun, Trade
from core.formatting import money, number, plain_pct, signed_pct, tone

METRIC_LABELS = [
    ("final_equity", "Final equity", money),
    ("total_return_pct", "Total return", signed_pct),
    ("buy_hold_return_pct", "Buy and hold", signed_pct),
    ("cagr_pct", "CAGR", signed_pct),
    ("max_drawdown_pct", "Max drawdown", signed_pct),
    ("max_drawdown_days", "Longest drawdown", lambda v: f"{v:,} days"),
    ("trades", "Trades", lambda v: f"{v:,}"),
    ("win_rate_pct", "Win rate", plain_pct),
    ("best_trade_pct", "Best trade", signed_pct),
    ("worst_trade_pct", "Worst trade", signed_pct),
    ("avg_trade_pct", "Average trade", signed_pct),
    ("profit_factor", "Profit factor", number),
    ("exposure_pct", "Time in market", plain_pct),
    ("volatility_pct", "Volatility (ann.)", plain_pct),
    ("sharpe", "Sharpe", number),
    ("sortino", "Sortino", number),
]
SIGNED = {"total_return_pct", "buy_hold_return_pct", "cagr_pct", "avg_trade_pct"}


class TradeInline(TabularInline):
    model = Trade
    extra = 0
    show_title = False
    can_delete = False
    fields = [
        "number",
        "entry_date",
        "entry_price",
        "exit_date",
        "exit_price",
        "shares",
        "pnl",
        "trade_return",
        "closed_at_end",
    ]
    readonly_fields = fields

    trade_return = formatted_field(
        "return_pct", signed_pct, description="Return", sortable=False
    )

    def has_add_permission(
        self, request: HttpRequest, obj: BacktestRun | None = None
    ) -> bool:
        return False


@admin.register(BacktestRun)
class BacktestRunAdmin(
    BacktestReportButton,
    TearsheetFields,
    Exports,
    RecordsOnly,
    ModelAdmin,
    ExportActionModelAdmin,
):
    resource_classes = [BacktestRunResource]
    actions_detail = ["generate_report_detail"]
    list_display = [
        "id",
        "symbol",
        "windows",
        "total_return",
        "buy_hold",
        "max_drawdown",
        "trade_count",
        "period",
        "created_at",
    ]
    list_display_links = ["id", "symbol"]
    list_filter = [
        "symbol",
        "adjust",
        ("total_return_pct", RangeNumericFilter),
        ("created_at", RangeDateTimeFilter),
    ]
    list_filter_submit = True
    search_fields = ["symbol__ticker", "symbol__name"]
    list_select_related = ["symbol"]
    ordering = ["-created_at"]
    inlines = [TradeInline]
    fieldsets = [
        (None, {"fields": ["symbol", "parameters", "prices", "period"]}),
        ("Results", {"fields": ["summary", "equity_chart"]}),
        *TearsheetFields.tearsheet_fieldsets,
    ]
    readonly_fields = flatten_fieldsets(fieldsets)  # every field on the page

    @display(description="SMA", ordering="fast")
    def windows(self, obj: BacktestRun) -> str:
        return f"{obj.fast} / {obj.slow}"

    total_return = formatted_field("total_return_pct", signed_pct, description="Return")
    buy_hold = formatted_field(
        "buy_hold_return_pct", signed_pct, description="Buy and hold"
    )
    max_drawdown = formatted_field(
        "max_drawdown_pct", signed_pct, description="Max drawdown"
    )

    @display(description="Bars")
    def period(self, obj: BacktestRun) -> str:
        return f"{obj.start_date} to {obj.end_date} ({obj.bar_count:,} bars)"

    @display(description="Parameters")
    def parameters(self, obj: BacktestRun) -> str:
        return (
            f"SMA {obj.fast} / {obj.slow}, initial {money(obj.initial_investment)}, "
            f"commission {float(obj.commission) * 100:.3f} % per side"
        )

    @display(description="Prices")
    def prices(self, obj: BacktestRun) -> str:
        """The series the run read and the corporate actions it applied."""
        actions = obj.adjustment.get("actions", [])
        applied = "; ".join(
            f"{a['kind']} {a['date']} ({a.get('factor') or a.get('amount')})"
            for a in actions
        )
        return f"adjust={obj.adjust}: " + (applied or "no corporate action applied")

    @display(description="Metrics")
    def summary(self, obj: BacktestRun) -> SafeString:
        metrics = obj.metrics
        figures = [
            {
                "label": label,
                "value": "—" if metrics.get(key) is None else show(metrics[key]),
                "tone": tone(metrics.get(key)) if key in SIGNED else "",
            }
            for key, label, show in METRIC_LABELS
        ]
        labels = {key: label for key, label, _ in METRIC_LABELS}
        notes = sorted(
            (labels.get(key, key), note)
            for key, note in metrics.get("notes", {}).items()
        )
        return render_to_string(
            "admin_ui/backtest_summary.html", {"figures": figures, "notes": notes}
        )

    @display(description="Equity vs buy and hold", wrapper_class=WIDE)
    def equity_chart(self, obj: BacktestRun) -> SafeString:
        return chart_html(equity_chart_data(obj), chart_id=f"equity-chart-{obj.pk}")


@admin.register(Trade)
class TradeAdmin(Exports, RecordsOnly, ModelAdmin, ExportActionModelAdmin):
    """Every backtest's trades in one list, to filter and export."""

    resource_classes = [TradeResource]
    list_display = [
        "run",
        "number",
        "entry_date",
        "bought_at",
        "exit_date",
        "sold_at",
        "shares",
        "profit",
        "trade_return",
        "closed_at_end",
    ]
    list_filter = ["run__symbol", "closed_at_end", ("return_pct", RangeNumericFilter)]
    list_filter_submit = True
    search_fields = ["run__symbol__ticker"]
    list_select_related = ["run__symbol"]
    ordering = ["-run__created_at", "number"]

    bought_at = formatted_field("entry_price", money, description="Entry price")
    sold_at = formatted_field("exit_price", money, description="Exit price")

    @display(
        description="P&L", ordering="pnl", label={"up": "success", "down": "danger"}
    )
    def profit(self, obj: Trade) -> tuple[str, str]:
        return ("up" if obj.pnl >= 0 else "down"), money(obj.pnl)

    trade_return = formatted_field("return_pct", signed_pct, description="Return")
