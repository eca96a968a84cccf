"""Forecasts: each forecast beside what happened, and its model beside naive."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
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
from unfold.decorators import display

from admin_ui.bases import Exports, KeptRecords, formatted_field
from admin_ui.chart_data import chart_html, forecast_chart_data
from admin_ui.evaluation import WIDE, evaluation_table, verdict_html
from admin_ui.forecast_resources import PredictionResource
from admin_ui.trained_models import track_record_html
from core.formatting import MINUS, NONE, money, plain_pct, signed_pct, tone
from ml.forecaster import REPORTED_HORIZONS
from ml.models import Prediction, PredictionRun
from ml.selectors import forecast_rows, realised_scores
from ml.track_record import forecast_track_record

# An en dash between the two ends of a price range.
RANGE = " \u2013 "


def _signed_money(value: float) -> str:
    return f"{value:+,.2f}".replace("-", MINUS)


@admin.register(PredictionRun)
class PredictionRunAdmin(Exports, KeptRecords, ModelAdmin, ExportActionModelAdmin):
    resource_classes = [PredictionResource]
    list_display = [
        "symbol",
        "as_of",
        "kind_badge",
        "model_version",
        "last_close_figure",
        "day_30",
        "realised_mae",
        "days_known",
        "created_at",
    ]
    list_display_links = ["symbol", "as_of"]
    list_filter = ["symbol", "is_hindcast", "adjust", ("as_of", RangeDateFilter)]
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
                    "verdict",
                    "symbol",
                    "model_link",
                    "as_of",
                    "kind",
                    "adjust",
                    "last_close_figure",
                    "created_at",
                    "created_by",
                ]
            },
        ),
        ("Forecast", {"fields": ["summary", "chart"]}),
        ("Predicted beside actual", {"fields": ["prediction_table"]}),
        ("The model's walk-forward evaluation", {"fields": ["model_evaluation"]}),
        ("The model's track record", {"fields": ["model_track_record"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)  # every field on the page

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

    @display(description="Verdict", wrapper_class=WIDE)
    def verdict(self, obj: PredictionRun) -> SafeString:
        # Stated before any forecast figure: has the model shown skill over naive?
        return verdict_html(obj.model)

    @display(description="Model", ordering="model__version")
    def model_version(self, obj: PredictionRun) -> str:
        if obj.is_hindcast:
            # A hindcast model repeats the pipeline of the live version it names.
            return f"v{obj.model.version} (refit)" if obj.model.version else "default"
        return f"v{obj.model.version}"

    @display(
        description="Kind",
        ordering="is_hindcast",
        label={"hindcast": "warning", "live": "info"},
    )
    def kind_badge(self, obj: PredictionRun) -> tuple[str, str]:
        return ("hindcast", "Hindcast") if obj.is_hindcast else ("live", "Forecast")

    @display(description="Kind")
    def kind(self, obj: PredictionRun) -> str:
        if obj.is_hindcast:
            return (
                f"Hindcast: the forecast a model trained only on the bars up to "
                f"{obj.model.train_end} would have made; the actual closes after it "
                "are the stored bars."
            )
        return "Forecast from the symbol's active model at the time."

    last_close_figure = formatted_field("last_close", money, description="Last close")

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
        if obj.is_hindcast:
            # A hindcast's model is not in the registry: name the live one it repeats.
            based_on = obj.model.based_on_id
            pipeline = (
                format_html(
                    '<a class="text-primary-600" href="{}">v{}</a>',
                    reverse("admin:ml_trainedmodel_change", args=[based_on]),
                    obj.model.version,
                )
                if based_on is not None
                else "the default pipeline"
            )
            return format_html(
                "Hindcast model trained through {} with the pipeline of {} · {}",
                obj.model.train_end,
                pipeline,
                obj.model.algorithm,
            )
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
                    *([("Hindcast", self.kind(obj))] if obj.is_hindcast else []),
                    (
                        "Band",
                        "80 % band from the out-of-sample errors of the model's "
                        "walk-forward evaluation",
                    ),
                ],
            },
        )

    @display(description="Predicted vs actual", wrapper_class=WIDE)
    def chart(self, obj: PredictionRun) -> SafeString:
        return chart_html(
            forecast_chart_data(obj, self._rows(obj)),
            chart_id=f"forecast-chart-{obj.pk}",
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

    @display(
        description="Its stored forecasts at 1, 5 and 30 trading days",
        wrapper_class=WIDE,
    )
    def model_track_record(self, obj: PredictionRun) -> SafeString:
        return track_record_html(forecast_track_record(obj), every_horizon=False)

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
