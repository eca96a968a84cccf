"""Symbols: the watchlist, its coverage, and the actions that queue jobs for it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from import_export.admin import ExportActionModelAdmin
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from admin_ui.bases import Exports, LongList, dialog_done, formatted_field
from admin_ui.evaluation import WIDE
from admin_ui.forms import (
    AdjustedWorkDialogForm,
    BacktestActionForm,
    BacktestDialogForm,
    CompareForm,
    SweepActionForm,
    SymbolDialogForm,
    TrainDialogForm,
)
from admin_ui.model_leaderboard import LeaderboardPanel
from admin_ui.permissions import run_permission
from admin_ui.resources import SymbolResource
from admin_ui.symbol_panels import SymbolPanels
from admin_ui.symbol_quality import DataQualityFilter, SymbolDataQuality
from backtesting.models import BacktestRun
from backtesting.services import comparison_create
from backtesting.services.comparisons import MAX_SYMBOLS, MIN_SYMBOLS
from core.errors import InvalidInput, StockDeskError
from core.formatting import NONE, money, signed_pct, tone
from core.market import normalise_ticker
from core.models import Job, Symbol
from core.selectors import symbol_coverage
from core.services import jobs_enqueue, symbol_save


class SymbolForm(forms.ModelForm):
    class Meta:
        model = Symbol
        fields = ["ticker", "name", "exchange", "currency", "is_active"]

    def clean_ticker(self) -> str:
        # Staff type "aapl"; the database stores "AAPL".
        try:
            return normalise_ticker(self.cleaned_data["ticker"])
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc


@admin.register(Symbol)
class SymbolAdmin(
    LongList,
    LeaderboardPanel,
    SymbolPanels,
    SymbolDataQuality,
    Exports,
    ModelAdmin,
    ExportActionModelAdmin,
):
    form = SymbolForm
    resource_classes = [SymbolResource]
    list_display = [
        "ticker",
        "name",
        "exchange",
        "close_last",
        "bars_stored",
        "first_bar",
        "last_bar",
        "latest_backtest",
        "last_fetched_at",
        "is_active",
        "data_quality_badge",
    ]
    list_display_links = ["ticker", "name"]
    search_fields = ["ticker", "name"]
    list_filter = ["is_active", "exchange", "currency", DataQualityFilter]
    list_filter_submit = True
    ordering = ["ticker"]
    actions = [
        "fetch_prices",
        "run_backtest",
        "run_sweep",
        "compare_symbols",
        "train_model",
        "forecast_30_days",
        "generate_report",
    ]
    readonly_fields = [
        "coverage",
        "last_fetched_at",
        "created_at",
        "data_quality",
        "price_chart",
        "recent_bars",
        "backtests",
        "forecasts",
        "model_leaderboard",
        "reports",
    ]
    fieldsets = [
        (None, {"fields": ["ticker", "name", "exchange", "currency", "is_active"]}),
        ("Data", {"fields": ["coverage", "last_fetched_at", "created_at"]}),
        ("Data quality", {"fields": ["data_quality"]}),
        ("Price chart", {"classes": ["tab"], "fields": ["price_chart"]}),
        ("Recent bars", {"classes": ["tab"], "fields": ["recent_bars"]}),
        ("Backtests", {"classes": ["tab"], "fields": ["backtests"]}),
        ("Forecasts", {"classes": ["tab"], "fields": ["forecasts"]}),
        ("Models", {"classes": ["tab"], "fields": ["model_leaderboard"]}),
        ("Reports", {"classes": ["tab"], "fields": ["reports"]}),
    ]
    actions_detail = [
        "detail_fetch",
        "detail_backtest",
        "detail_train",
        "detail_forecast",
        "detail_report",
        "detail_confirm_split",
    ]

    # What each action and button needs (DESIGN §11): Viewers see and run none.
    has_run_fetch_permission = run_permission(Job.Kind.FETCH)
    has_run_backtest_permission = run_permission(Job.Kind.BACKTEST)
    has_run_compare_permission = run_permission(Job.Kind.COMPARE)
    has_run_sweep_permission = run_permission(Job.Kind.SWEEP)
    has_train_model_permission = run_permission(Job.Kind.TRAIN)
    has_run_forecast_permission = run_permission(Job.Kind.PREDICT)
    has_generate_report_permission = run_permission(Job.Kind.REPORT)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Symbol]:
        # The bars' figures are the Symbol's own fields, kept by the writer of bars
        # (core.services.symbol_figures_refresh): no join over the bars per page.
        latest_run = BacktestRun.objects.filter(symbol=OuterRef("pk")).order_by(
            "-created_at", "-id"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                # Two subqueries, not a query per row (DESIGN §7's column).
                _latest_return=Subquery(latest_run.values("total_return_pct")[:1]),
                _latest_run=Subquery(latest_run.values("pk")[:1]),
            )
        )

    close_last = formatted_field("last_close", money, description="Last close")

    @display(description="Bars", ordering="bar_count")
    def bars_stored(self, obj: Symbol) -> str:
        return f"{obj.bar_count:,}"

    @display(description="First day", ordering="first_bar_date")
    def first_bar(self, obj: Symbol) -> Any:
        return obj.first_bar_date or "—"

    @display(description="Last day", ordering="last_bar_date")
    def last_bar(self, obj: Symbol) -> Any:
        return obj.last_bar_date or "—"

    @display(description="Latest backtest", ordering="_latest_return")
    def latest_backtest(self, obj: Symbol) -> SafeString | str:
        """The newest run's total return, coloured by sign, linking to the run."""
        if obj._latest_run is None:
            return NONE
        colour = {
            "up": "text-green-700 dark:text-green-400",
            "down": "text-red-700 dark:text-red-400",
        }.get(tone(obj._latest_return), "")
        return format_html(
            '<a class="{}" href="{}" title="Backtest #{}">{}</a>',
            colour,
            reverse("admin:backtesting_backtestrun_change", args=[obj._latest_run]),
            obj._latest_run,
            signed_pct(obj._latest_return),
        )

    @display(description="Coverage")
    def coverage(self, obj: Symbol) -> str:
        if obj.pk is None:
            return "Fetch prices after saving to see the coverage."
        cov = symbol_coverage(obj)
        if not cov.bar_count:
            return "No bars yet: use the Fetch prices action on the list."
        return cov.summary()

    def save_model(
        self, request: HttpRequest, obj: Symbol, form: Any, change: bool
    ) -> None:
        symbol_save(symbol=obj)

    def _queue(
        self,
        request: HttpRequest,
        queryset: QuerySet[Symbol],
        kind: str,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Queue one Job of `kind` per selected symbol and say how many."""
        jobs = jobs_enqueue(
            kind=kind, symbols=queryset, parameters=parameters, user=request.user
        )
        what = QUEUED_WORDS[kind]
        self.message_user(
            request,
            f"Queued {len(jobs)} {what} job(s); follow them on the Jobs page.",
            messages.SUCCESS,
        )

    def _action_page(
        self,
        request: HttpRequest,
        queryset: QuerySet[Symbol],
        *,
        form: forms.Form,
        title: str,
        action_name: str,
        template: str,
    ) -> TemplateResponse:
        """The page of an action that asks for parameters before it queues.

        After "select all" (Django's select_across) the page names the first
        NAMED_SYMBOLS and posts select_across back, so the second POST acts on the
        list's query (its filters are in the URL) rather than carrying every id:
        1,000 ids would pass DATA_UPLOAD_MAX_NUMBER_FIELDS, and listing them all
        would cost as much again.
        """
        select_across = request.POST.get("select_across") == "1"
        rows = queryset.values_list("pk", "ticker")
        named = list(rows[:NAMED_SYMBOLS] if select_across else rows)
        count = queryset.count() if select_across else len(named)
        ids = [pk for pk, _ in named]
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.model._meta,
            "form": form,
            "tickers": [ticker for _, ticker in named],
            "symbol_count": count,
            "more": count - len(named),
            "select_across": select_across,
            # Django's admin reaches an action only with an id selected, even
            # when select_across makes it act on every row.
            "selected_ids": ids[:1] if select_across else ids,
            "action_name": action_name,
        }
        return TemplateResponse(request, template, context)

    @action(description="Fetch prices", icon="download", permissions=["run_fetch"])
    def fetch_prices(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        self._queue(request, queryset, Job.Kind.FETCH)

    @action(description="Run backtest", icon="monitoring", permissions=["run_backtest"])
    def run_backtest(
        self, request: HttpRequest, queryset: QuerySet[Symbol]
    ) -> TemplateResponse | None:
        """Ask for the parameters on an intermediate page, then queue one Job each."""
        form = BacktestActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._queue(request, queryset, Job.Kind.BACKTEST, form.params.as_json())
            return None
        return self._action_page(
            request,
            queryset,
            form=form,
            title="Run backtest",
            action_name="run_backtest",
            template="admin_ui/backtest_action.html",
        )

    @action(description="Run sweep", icon="grid_on", permissions=["run_sweep"])
    def run_sweep(
        self, request: HttpRequest, queryset: QuerySet[Symbol]
    ) -> TemplateResponse | None:
        """Ask for the grid on an intermediate page, then queue one sweep Job each."""
        form = SweepActionForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._queue(request, queryset, Job.Kind.SWEEP, form.params.as_json())
            return None
        return self._action_page(
            request,
            queryset,
            form=form,
            title="Run sweep",
            action_name="run_sweep",
            template="admin_ui/sweep_action.html",
        )

    @action(description="Compare", icon="compare_arrows", permissions=["run_compare"])
    def compare_symbols(
        self, request: HttpRequest, queryset: QuerySet[Symbol]
    ) -> HttpResponse | None:
        """Ask for the backtest on an intermediate page, run it on each selected
        symbol and open the comparison.

        Run in the request rather than as a Job: at most MAX_SYMBOLS backtests (about
        a second for ten symbols of five years), the work /compare/ does per call,
        and staff land on the result at once.
        """
        symbols = list(queryset.order_by("ticker"))
        if not MIN_SYMBOLS <= len(symbols) <= MAX_SYMBOLS:
            self.message_user(
                request,
                f"Select {MIN_SYMBOLS} to {MAX_SYMBOLS} symbols to compare; "
                f"{len(symbols)} selected.",
                messages.WARNING,
            )
            return None
        form = CompareForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                comparison = comparison_create(
                    tickers=[symbol.ticker for symbol in symbols],
                    params=form.params,
                    user=request.user,
                )
            except StockDeskError as exc:
                # Nothing was stored; the page says which symbol stopped it.
                form.add_error(None, exc.message)
            else:
                return redirect("admin:backtesting_comparison_change", comparison.pk)
        return self._action_page(
            request,
            queryset,
            form=form,
            title="Compare symbols",
            action_name="compare_symbols",
            template="admin_ui/comparison_action.html",
        )

    @action(
        description="Train model", icon="model_training", permissions=["train_model"]
    )
    def train_model(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        self._queue(request, queryset, Job.Kind.TRAIN)

    @action(
        description="Forecast 30 days", icon="timeline", permissions=["run_forecast"]
    )
    def forecast_30_days(
        self, request: HttpRequest, queryset: QuerySet[Symbol]
    ) -> None:
        self._queue(request, queryset, Job.Kind.PREDICT)

    @action(
        description="Generate report",
        icon="picture_as_pdf",
        permissions=["generate_report"],
    )
    def generate_report(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        self._queue(request, queryset, Job.Kind.REPORT)

    # --- the symbol's page: buttons that queue Jobs for it ---

    # Each button opens unfold's dialog (a GET, which queues nothing); its form posts
    # back with the CSRF token, and only that POST queues the Job.

    def _detail(
        self, request: HttpRequest, form: SymbolDialogForm, kind: str
    ) -> HttpResponse:
        symbol = form.object
        parameters = None
        if isinstance(form, BacktestDialogForm):
            parameters = form.params.as_json()
        elif isinstance(form, AdjustedWorkDialogForm):
            parameters = form.job_parameters()
        self._queue(request, Symbol.objects.filter(pk=symbol.pk), kind, parameters)
        return dialog_done(
            request, reverse("admin:core_symbol_change", args=[symbol.pk])
        )

    @action(
        description="Fetch prices",
        url_path="fetch",
        icon="download",
        permissions=["run_fetch"],
        dialog={
            "title": "Fetch prices?",
            "description": (
                "One background job asks the provider for this symbol's daily "
                "prices and stores them; follow it on the Jobs page."
            ),
            "form_class": SymbolDialogForm,
            "form_submit_text": "Queue fetch",
        },
    )
    def detail_fetch(
        self, request: HttpRequest, form: SymbolDialogForm, object_id: str
    ) -> HttpResponse:
        return self._detail(request, form, Job.Kind.FETCH)

    @action(
        description="Backtest",
        url_path="backtest",
        icon="monitoring",
        permissions=["run_backtest"],
        dialog={
            "title": "Run an SMA-crossover backtest",
            "description": (
                "One background job; it stores a run you can open under Backtests."
            ),
            "form_class": BacktestDialogForm,
            "form_submit_text": "Queue backtest",
        },
    )
    def detail_backtest(
        self, request: HttpRequest, form: BacktestDialogForm, object_id: str
    ) -> HttpResponse:
        return self._detail(request, form, Job.Kind.BACKTEST)

    @action(
        description="Train model",
        url_path="train",
        icon="model_training",
        permissions=["train_model"],
        dialog={
            "title": "Train a forecasting model",
            "description": (
                "One background job fits and evaluates a model on the stored prices. "
                "It becomes the active model unless the active one is of another "
                "method; compare them on the Models tab."
            ),
            "form_class": TrainDialogForm,
            "form_submit_text": "Queue training",
        },
    )
    def detail_train(
        self, request: HttpRequest, form: TrainDialogForm, object_id: str
    ) -> HttpResponse:
        return self._detail(request, form, Job.Kind.TRAIN)

    @display(description="Forecasting models", wrapper_class=WIDE)
    def model_leaderboard(self, obj: Symbol) -> SafeString | str:
        if obj.pk is None:
            return NONE
        return self.leaderboard_of(obj)

    @action(
        description="Forecast 30 days",
        url_path="forecast",
        icon="timeline",
        permissions=["run_forecast"],
        dialog={
            "title": "Forecast 30 days?",
            "description": (
                "One background job forecasts the next 30 trading days with the "
                "symbol's active model (train one first)."
            ),
            "form_class": AdjustedWorkDialogForm,
            "form_submit_text": "Queue forecast",
        },
    )
    def detail_forecast(
        self, request: HttpRequest, form: AdjustedWorkDialogForm, object_id: str
    ) -> HttpResponse:
        return self._detail(request, form, Job.Kind.PREDICT)

    @action(
        description="Generate report",
        url_path="report",
        icon="picture_as_pdf",
        permissions=["generate_report"],
        dialog={
            "title": "Generate a report?",
            "description": (
                "One background job builds the PDF of the latest backtest and "
                "forecast and archives it under Reports."
            ),
            "form_class": AdjustedWorkDialogForm,
            "form_submit_text": "Queue report",
        },
    )
    def detail_report(
        self, request: HttpRequest, form: AdjustedWorkDialogForm, object_id: str
    ) -> HttpResponse:
        return self._detail(request, form, Job.Kind.REPORT)


# How many tickers an action's page names after "select all"; it counts the rest.
NAMED_SYMBOLS = 20

# How the confirmation names each kind: "Queued 2 fetch job(s)".
QUEUED_WORDS = {
    Job.Kind.FETCH: "fetch",
    Job.Kind.BACKTEST: "backtest",
    Job.Kind.SWEEP: "sweep",
    Job.Kind.TRAIN: "train model",
    Job.Kind.PREDICT: "forecast",
    Job.Kind.REPORT: "report",
}
