"""Trained models: each model's walk-forward record beside the naive forecast."""

from __future__ import annotations

from collections import Counter

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from admin_ui.bases import KeptRecords, dialog_done
from admin_ui.evaluation import WIDE, evaluation_table
from admin_ui.forms import ObjectDialogForm
from core.formatting import NONE, money
from ml.models import TrainedModel
from ml.services import model_activate


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


class ActivateForm(ObjectDialogForm):
    """The confirmation the detail page's Activate button asks for."""

    model = TrainedModel

    def get_queryset(self) -> QuerySet[TrainedModel]:
        # The artifact is the fitted pipeline's bytes; activating never reads it.
        return super().get_queryset().select_related("symbol").defer("artifact")


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
                    "adjust",
                    "train_rows_count",
                    "horizon_days",
                    "sklearn",
                    "sha256",
                ]
            },
        ),
        ("Walk-forward evaluation beside naive", {"fields": ["walk_forward"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)  # every field on the page

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
        model = self.get_object(request, str(object_id))
        # An id naming no model passes here, so that the button's URL answers 404.
        return model is None or not model.is_active

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
        model = form.object
        model_activate(model=model)
        self.message_user(
            request,
            f"{model} is now active; new forecasts for {model.symbol.ticker} use it.",
            messages.SUCCESS,
        )
        return dialog_done(
            request, reverse("admin:ml_trainedmodel_change", args=[model.pk])
        )
