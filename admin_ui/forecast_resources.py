"""The forecast export: one row per predicted day, with the actual close once known."""

from __future__ import annotations

from typing import Any

from django.db.models import F, OuterRef, QuerySet, Subquery
from import_export import fields, resources, widgets

from core.models import PriceBar
from ml.models import Prediction


class PredictionResource(resources.ModelResource):
    forecast = fields.Field(
        attribute="run_id", column_name="forecast", widget=widgets.IntegerWidget()
    )
    symbol = fields.Field(attribute="ticker", column_name="symbol")
    as_of = fields.Field(
        attribute="as_of", column_name="as_of", widget=widgets.DateWidget()
    )
    model_version = fields.Field(
        attribute="model_version",
        column_name="model_version",
        widget=widgets.IntegerWidget(),
    )
    actual_close = fields.Field(
        attribute="actual_close",
        column_name="actual_close",
        widget=widgets.DecimalWidget(),
    )

    class Meta:
        model = Prediction
        fields = (
            "forecast",
            "symbol",
            "as_of",
            "model_version",
            "step",
            "date",
            "predicted_close",
            "lower",
            "upper",
            "actual_close",
        )
        export_order = fields

    def filter_export(
        self, queryset: QuerySet[Prediction], **kwargs: Any
    ) -> QuerySet[Prediction]:
        # Annotations rather than select_related: the run's model row carries the
        # artifact bytes, which an export must not load.
        actual = PriceBar.objects.filter(
            symbol=OuterRef("run__symbol"), date=OuterRef("date")
        ).values("close")[:1]
        return queryset.annotate(
            ticker=F("run__symbol__ticker"),
            as_of=F("run__as_of"),
            model_version=F("run__model__version"),
            actual_close=Subquery(actual),
        )
