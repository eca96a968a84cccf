"""Models and forecasts: each model beside naive, each forecast beside what happened."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from typing import Any

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from import_export.admin import ExportActionModelAdmin
from import_export.formats.base_formats import Format
from tablib import Dataset
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.decorators import action, display
from unfold.forms import BaseDialogForm

from admin_ui.bases import Exports, KeptRecords
from admin_ui.forecast_resources import PredictionResource
from core.formatting import MINUS, NONE, money, plain_pct, signed_pct, tone
from core.models import PriceBar
from ml.forecaster import REPORTED_HORIZONS
from ml.models import Prediction, PredictionRun, TrainedModel
from ml.selectors import evaluation_summary, forecast_rows, realised_scores
from ml.services import model_activate

# An en dash between the two ends of a price range.
RANGE = " \u2013 "
# unfold caps a read-only value at max-w-2xl; tables and charts need the room.
WIDE = "max-w-none"
HISTORY_BARS = 90  # actual closes drawn before the forecast's as-of day
ACTUAL_COLOUR = "#0284c7"
PREDICTED_COLOUR = "#d97706"
BAND_LINE_COLOUR = "rgba(217, 119, 6, 0.35)"
BAND_FILL_COLOUR = "rgba(217, 119, 6, 0.12)"


def _signed_money(value: float) -> str:
    return f"{value:+,.2f}".replace("-", MINUS)


def _mae_pair(model: TrainedModel, horizon: int) -> SafeString | str:
    """'model / naive' MAE at one horizon, the smaller of the two emphasised."""
    scores = model.evaluation.get("horizons", {}).get(str(horizon))
    if scores is None:
        return NONE
    model_mae, naive_mae = scores["model"]["mae"], scores["naive"]["mae"]
    if scores["beats_naive"]:
        return format_html(
            '<span title="{}"><strong class="text-green-700 dark:text-green-400">{}'
            "</strong> / {}</span>",
            "The model beats the naive forecast",
            money(model_mae),
            money(naive_mae),
        )
    return format_html(
        '<span title="{}"><span class="text-red-700 dark:text-red-400">{}</span>'
        " / <strong>{}</strong></span>",
        "The model does not beat the naive forecast",
        money(model_mae),
        money(naive_mae),
    )


def evaluation_table(model: TrainedModel) -> SafeString:
    """The walk-forward record at 1, 5 and 30 days, model beside naive."""
    summary = evaluation_summary(model)
    rows = []
    for horizon in summary["horizons"]:
        ours, naive = horizon["model"], horizon["naive"]
        rows.append(
            {
                "days": horizon["horizon_days"],
                "origins": f"{horizon['origins']:,}",
                "model_mae": money(ours["mae"]),
                "model_rmse": money(ours["rmse"]),
                "model_mape": plain_pct(ours["mape_pct"], 2),
                "hit_rate": plain_pct(ours["direction_hit_rate_pct"]),
                "naive_mae": money(naive["mae"]),
                "naive_rmse": money(naive["rmse"]),
                "naive_mape": plain_pct(naive["mape_pct"], 2),
                "inside_band": plain_pct(horizon["inside_band_pct"]),
                "beats": ours["mae"] < naive["mae"],
                "verdict": horizon["verdict"],
            }
        )
    return render_to_string(
        "admin_ui/model_evaluation.html",
        {
            "rows": rows,
            "method": summary["method"],
            "first_origin_date": summary["first_origin_date"],
        },
    )


class ActivateForm(BaseDialogForm):
    """The confirmation the detail page's Activate button asks for."""


@admin.register(TrainedModel)
class TrainedModelAdmin(KeptRecords, ModelAdmin):
    list_display = [
        "symbol",
        "version_label",
        "trained_at",
        "training_window",
        "mae_1d",
        "mae_5d",
        "mae_30d",
        "active_badge",
    ]
    list_display_links = ["symbol", "version_label"]
    list_filter = ["symbol", "is_active"]
    list_filter_submit = True
    search_fields = ["symbol__ticker", "symbol__name"]
    list_select_related = ["symbol"]
    ordering = ["-trained_at", "-id"]
    actions = ["activate"]
    actions_detail = ["activate_detail"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "symbol",
                    "version_label",
                    "status",
                    "trained_at",
                    "created_by",
                ]
            },
        ),
        (
            "Training",
            {
                "fields": [
                    "algorithm",
                    "feature_list",
                    "training_window",
                    "train_rows_count",
                    "horizon_days",
                    "sklearn",
                    "sha256",
                ]
            },
        ),
        ("Walk-forward evaluation beside naive", {"fields": ["walk_forward"]}),
    ]
    readonly_fields = [
        "symbol",
        "version_label",
        "status",
        "trained_at",
        "created_by",
        "algorithm",
        "feature_list",
        "training_window",
        "train_rows_count",
        "horizon_days",
        "sklearn",
        "sha256",
        "walk_forward",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainedModel]:
        # The artifact is the fitted pipeline's bytes: never needed on a page.
        return super().get_queryset(request).defer("artifact")

    @display(description="Version", ordering="version")
    def version_label(self, obj: TrainedModel) -> str:
        return f"v{obj.version}"

    @display(description="Training window", ordering="train_start")
    def training_window(self, obj: TrainedModel) -> str:
        return f"{obj.train_start} to {obj.train_end}"

    @display(description="MAE 1d")
    def mae_1d(self, obj: TrainedModel) -> SafeString | str:
        return _mae_pair(obj, 1)

    @display(description="MAE 5d")
    def mae_5d(self, obj: TrainedModel) -> SafeString | str:
        return _mae_pair(obj, 5)

    @display(description="MAE 30d")
    def mae_30d(self, obj: TrainedModel) -> SafeString | str:
        return _mae_pair(obj, 30)

    @display(
        description="Active",
        ordering="is_active",
        label={"active": "success", "inactive": "info"},
    )
    def active_badge(self, obj: TrainedModel) -> tuple[str, str]:
        return ("active", "Active") if obj.is_active else ("inactive", "Inactive")

    @display(description="Status")
    def status(self, obj: TrainedModel) -> str:
        if obj.is_active:
            return f"Active: new {obj.symbol.ticker} forecasts use this model."
        return (
            f"Not active: new {obj.symbol.ticker} forecasts use the symbol's "
            "active model."
        )

    @display(description="scikit-learn")
    def sklearn(self, obj: TrainedModel) -> str:
        return obj.sklearn_version

    @display(description="Features")
    def feature_list(self, obj: TrainedModel) -> str:
        return ", ".join(obj.features)

    @display(description="Training rows")
    def train_rows_count(self, obj: TrainedModel) -> str:
        return f"{obj.train_rows:,}"

    @display(description="Horizon")
    def horizon_days(self, obj: TrainedModel) -> str:
        return f"{obj.horizon} trading days"

    @display(description="Scores at 1, 5 and 30 trading days", wrapper_class=WIDE)
    def walk_forward(self, obj: TrainedModel) -> SafeString:
        return evaluation_table(obj)

    def has_activate_permission(
        self, request: HttpRequest, object_id: int | str | None = None
    ) -> bool:
        # Activating changes which model forecasts use: the change permission,
        # although the model's own fields stay read-only.
        if not request.user.has_perm("ml.change_trainedmodel"):
            return False
        if object_id is None:
            return True
        return TrainedModel.objects.filter(pk=object_id, is_active=False).exists()

    @action(description="Activate", icon="check_circle", permissions=["activate"])
    def activate(self, request: HttpRequest, queryset: QuerySet[TrainedModel]) -> None:
        chosen = list(queryset.select_related("symbol"))
        per_symbol = Counter(model.symbol.ticker for model in chosen)
        crowded = sorted(ticker for ticker, count in per_symbol.items() if count > 1)
        if crowded:
            self.message_user(
                request,
                "A symbol has one active model: select one model per symbol "
                f"(more than one selected for {', '.join(crowded)}). Nothing changed.",
                messages.WARNING,
            )
            return
        for model in chosen:
            if model.is_active:
                self.message_user(request, f"{model} is already active.", messages.INFO)
                continue
            model_activate(model=model)
            self.message_user(
                request,
                f"{model} is now active; new forecasts for "
                f"{model.symbol.ticker} use it.",
                messages.SUCCESS,
            )

    @action(
        description="Activate this model",
        url_path="activate",
        icon="check_circle",
        permissions=["activate"],
        dialog={
            "title": "Activate this model?",
            "description": (
                "New forecasts for this symbol will use it; the symbol's current "
                "active model is set aside (it stays in the registry)."
            ),
            "form_class": ActivateForm,
            "form_submit_text": "Activate",
        },
    )
    def activate_detail(
        self, request: HttpRequest, form: ActivateForm, object_id: str
    ) -> HttpResponse:
        model = self.get_object(request, object_id)
        if model is None:
            raise Http404("No such model.")
        model_activate(model=model)
        self.message_user(
            request,
            f"{model} is now active; new forecasts for {model.symbol.ticker} use it.",
            messages.SUCCESS,
        )
        url = reverse("admin:ml_trainedmodel_change", args=[model.pk])
        # The dialog posts through htmx, which follows this header.
        return HttpResponse(headers={"HX-Redirect": url})


def _chart_data(run: PredictionRun, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Actual closes around the forecast, the predicted line and its band.

    One label per day; a series is null where it has no value, so the forecast
    starts at the as-of close and actual closes after as-of appear as they arrive.
    """
    history = list(
        PriceBar.objects.filter(symbol=run.symbol_id, date__lte=run.as_of)
        .order_by("-date")
        .values_list("date", "close")[:HISTORY_BARS]
    )[::-1]
    last_close = float(run.last_close)
    gap = [None] * (len(history) - 1)

    def forecast_series(key: str) -> list[float | None]:
        return [*gap, last_close, *(row[key] for row in rows)]

    return {
        "labels": [day.isoformat() for day, _ in history]
        + [row["date"] for row in rows],
        "datasets": [
            {
                "label": "Actual close",
                "data": [float(close) for _, close in history]
                + [row["actual_close"] for row in rows],
                "borderColor": ACTUAL_COLOUR,
                # unfold's chart reads these to show the y axis and thin the dates.
                "displayYAxis": True,
                "maxTicksXLimit": 8,
            },
            {
                "label": "Predicted close",
                "data": forecast_series("predicted_close"),
                "borderColor": PREDICTED_COLOUR,
                "borderDash": [6, 4],
            },
            {
                "label": "Lower (80 % band)",
                "data": forecast_series("lower"),
                "borderColor": BAND_LINE_COLOUR,
                "borderWidth": 1,
            },
            {
                "label": "Upper (80 % band)",
                "data": forecast_series("upper"),
                "borderColor": BAND_LINE_COLOUR,
                "borderWidth": 1,
                "backgroundColor": BAND_FILL_COLOUR,
                "fill": "-1",  # shade down to the lower line
            },
        ],
    }


@admin.register(PredictionRun)
class PredictionRunAdmin(Exports, KeptRecords, ModelAdmin, ExportActionModelAdmin):
    resource_classes = [PredictionResource]
    list_display = [
        "symbol",
        "as_of",
        "model_version",
        "last_close_figure",
        "day_30",
        "realised_mae",
        "days_known",
        "created_at",
    ]
    list_display_links = ["symbol", "as_of"]
    list_filter = ["symbol", ("as_of", RangeDateFilter)]
    list_filter_submit = True
    search_fields = ["symbol__ticker", "symbol__name"]
    list_select_related = ["symbol", "model"]
    # Each row reads its predictions and actual closes (two small queries).
    list_per_page = 50
    ordering = ["-as_of", "-created_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "symbol",
                    "model_link",
                    "as_of",
                    "last_close_figure",
                    "created_at",
                    "created_by",
                ]
            },
        ),
        ("Forecast", {"fields": ["summary", "chart"]}),
        ("Predicted beside actual", {"fields": ["prediction_table"]}),
        ("The model's walk-forward evaluation", {"fields": ["model_evaluation"]}),
    ]
    readonly_fields = [
        "symbol",
        "model_link",
        "as_of",
        "last_close_figure",
        "created_at",
        "created_by",
        "summary",
        "chart",
        "prediction_table",
        "model_evaluation",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PredictionRun]:
        day_30 = Prediction.objects.filter(
            run=OuterRef("pk"), step=max(REPORTED_HORIZONS)
        ).values("predicted_close")[:1]
        return (
            super()
            .get_queryset(request)
            .defer("model__artifact")
            .annotate(_day_30=Subquery(day_30))
        )

    def _rows(self, obj: PredictionRun) -> list[dict[str, Any]]:
        # The list shows several columns from the same rows: read them once.
        if not hasattr(obj, "_forecast_rows"):
            obj._forecast_rows = forecast_rows(obj)
        return obj._forecast_rows

    @display(description="Model", ordering="model__version")
    def model_version(self, obj: PredictionRun) -> str:
        return f"v{obj.model.version}"

    @display(description="Last close", ordering="last_close")
    def last_close_figure(self, obj: PredictionRun) -> str:
        return money(obj.last_close)

    @display(description="Day 30 forecast", ordering="_day_30")
    def day_30(self, obj: PredictionRun) -> str:
        value = getattr(obj, "_day_30", None)
        if value is None:
            return NONE
        change = (float(value) / float(obj.last_close) - 1) * 100
        return f"{money(value)} ({signed_pct(change, 1)})"

    @display(description="Realised MAE")
    def realised_mae(self, obj: PredictionRun) -> str:
        return money(realised_scores(self._rows(obj))["mae"])

    @display(description="Days known")
    def days_known(self, obj: PredictionRun) -> str:
        rows = self._rows(obj)
        return f"{realised_scores(rows)['days_known']} of {len(rows)}"

    @display(description="Model")
    def model_link(self, obj: PredictionRun) -> SafeString:
        url = reverse("admin:ml_trainedmodel_change", args=[obj.model_id])
        return format_html(
            '<a class="text-primary-600" href="{}">v{}</a> · {}',
            url,
            obj.model.version,
            obj.model.algorithm,
        )

    @display(description="Figures", wrapper_class=WIDE)
    def summary(self, obj: PredictionRun) -> SafeString:
        rows = self._rows(obj)
        realised = realised_scores(rows)
        last = rows[-1] if rows else None
        change = (
            (last["predicted_close"] / float(obj.last_close) - 1) * 100
            if last
            else None
        )
        figures = [
            {"label": f"Close on {obj.as_of}", "value": money(obj.last_close)},
            {
                "label": f"Predicted for {last['date']}" if last else "Predicted",
                "value": money(last["predicted_close"]) if last else NONE,
            },
            {
                "label": "Predicted change",
                "value": signed_pct(change),
                "tone": tone(change),
            },
            {
                "label": "80 % band on the last day",
                "value": f"{money(last['lower'])}{RANGE}{money(last['upper'])}"
                if last
                else NONE,
            },
            {
                "label": "Days with an actual close",
                "value": f"{realised['days_known']} of {len(rows)}",
            },
            {"label": "Realised MAE", "value": money(realised["mae"])},
            {
                "label": "Actual inside the band",
                "value": plain_pct(realised["inside_band_pct"]),
            },
        ]
        return render_to_string(
            "admin_ui/backtest_summary.html",
            {
                "figures": figures,
                "notes": [
                    (
                        "Band",
                        "80 % band from the out-of-sample errors of the model's "
                        "walk-forward evaluation",
                    )
                ],
            },
        )

    @display(description="Predicted vs actual", wrapper_class=WIDE)
    def chart(self, obj: PredictionRun) -> SafeString:
        data = _chart_data(obj, self._rows(obj))
        return render_to_string(
            "admin_ui/forecast_chart.html",
            {
                "data": json.dumps(data),
                "history_bars": HISTORY_BARS,
                "actual": ACTUAL_COLOUR,
                "predicted": PREDICTED_COLOUR,
                "band": BAND_FILL_COLOUR,
                "band_line": BAND_LINE_COLOUR,
            },
        )

    @display(description="Each day", wrapper_class=WIDE)
    def prediction_table(self, obj: PredictionRun) -> SafeString:
        rows = []
        for row in self._rows(obj):
            error = row["error"]
            actual = row["actual_close"]
            rows.append(
                {
                    "step": row["step"],
                    "date": date.fromisoformat(row["date"]),
                    "predicted": money(row["predicted_close"]),
                    "band": f"{money(row['lower'])}{RANGE}{money(row['upper'])}",
                    "actual": money(actual),
                    "error": money(error) if error is None else _signed_money(error),
                    "error_pct": NONE
                    if error is None
                    else signed_pct(error / row["predicted_close"] * 100, 1),
                    "inside_band": row["inside_band"],
                }
            )
        return render_to_string("admin_ui/forecast_rows.html", {"rows": rows})

    @display(description="Scores at 1, 5 and 30 trading days", wrapper_class=WIDE)
    def model_evaluation(self, obj: PredictionRun) -> SafeString:
        return evaluation_table(obj.model)

    def get_data_for_export(
        self, request: HttpRequest, queryset: QuerySet[PredictionRun], **kwargs: Any
    ) -> Dataset:
        # The file holds one row per predicted day: the runs become their predictions.
        predictions = Prediction.objects.filter(run__in=queryset.values("pk")).order_by(
            "run__symbol__ticker", "run__as_of", "run_id", "step"
        )
        return super().get_data_for_export(request, predictions, **kwargs)

    def get_export_filename(
        self,
        request: HttpRequest,
        queryset: QuerySet[PredictionRun],
        file_format: Format,
    ) -> str:
        return f"forecasts-{timezone.localdate()}.{file_format.get_extension()}"
