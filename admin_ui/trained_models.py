"""Trained models: each model's walk-forward record beside the naive forecast."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from admin_ui.bases import KeptRecords, dialog_done
from admin_ui.evaluation import WIDE, evaluation_table, verdict_html
from admin_ui.forms import ObjectDialogForm
from admin_ui.model_leaderboard import LeaderboardPanel
from core.formatting import NONE, money, plain_pct, signed_pct
from ml.models import TrainedModel
from ml.services import model_activate
from ml.track_record import model_track_record

TRACK_KINDS = (("live", "Live forecasts"), ("hindcast", "Hindcasts"))


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
            "Lower MAE than naive (see the verdict for whether it is significant)",
            money(model_mae),
            money(naive_mae),
        )
    return format_html(
        '<span title="{}"><span class="text-red-700 dark:text-red-400">{}</span>'
        " / <strong>{}</strong></span>",
        "MAE not lower than naive",
        money(model_mae),
        money(naive_mae),
    )


def track_record_html(record: dict[str, Any], *, every_horizon: bool) -> SafeString:
    """A track record (ml.track_record) as a table per kind: at each horizon 1..30,
    or at 1, 5 and 30 days."""
    parts = []
    for kind, title in TRACK_KINDS:
        scores = record[kind]
        rows = [
            {
                "cells": [
                    f"{h['horizon_days']} day{'s' if h['horizon_days'] > 1 else ''}",
                    f"{h['forecasts']:,}",
                    money(h["mae"]),
                    money(h["naive_mae"]),
                    signed_pct(None if h["skill"] is None else h["skill"] * 100, 1),
                    plain_pct(h["inside_band_pct"]),
                ]
            }
            for h in scores["horizons" if every_horizon else "summary"]
            if h["forecasts"]
        ]
        table = render_to_string(
            "admin_ui/simple_table.html",
            {
                "headings": [
                    "Horizon",
                    "Forecasts",
                    "MAE",
                    "Naive MAE",
                    "Skill",
                    "Actual inside band",
                ],
                "rows": rows,
                "empty": "No day of these has an actual close yet.",
            },
        )
        parts.append(
            (
                title,
                f"{scores['forecasts']:,} stored, {scores['forecasts_scored']:,} "
                f"with an actual close, {scores['days_scored']:,} days scored",
                table,
            )
        )
    return format_html(
        '<div class="flex flex-col gap-4 w-full">{}'
        '<p class="text-xs text-base-500">{}. Prices through {}. Naive: {}; skill '
        "is 1 - MAE / naive MAE (above 0: better than naive). MAE is in the "
        "symbol's price units, each forecast in its own price basis.</p></div>",
        format_html_join(
            "",
            '<div><h3 class="font-semibold text-sm mb-1">{} '
            '<span class="font-normal text-base-500">({})</span></h3>{}</div>',
            parts,
        ),
        record["scope"],
        record["prices_through"] or NONE,
        record["naive"],
    )


class ActivateForm(ObjectDialogForm):
    """The confirmation the detail page's Activate button asks for."""

    model = TrainedModel

    def get_queryset(self) -> QuerySet[TrainedModel]:
        # The artifact is the fitted pipeline's bytes; activating never reads it.
        return super().get_queryset().select_related("symbol").defer("artifact")


@admin.register(TrainedModel)
class TrainedModelAdmin(LeaderboardPanel, KeptRecords, ModelAdmin):
    list_display = [
        "symbol",
        "version_label",
        "method",
        "trained_at",
        "training_window",
        "mae_1d",
        "mae_5d",
        "mae_30d",
        "active_badge",
    ]
    list_display_links = ["symbol", "version_label"]
    list_filter = ["symbol", "method", "is_active"]
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
                    "verdict",
                    "symbol",
                    "version_label",
                    "method",
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
                    "library",
                    "sha256",
                ]
            },
        ),
        ("Walk-forward evaluation beside naive", {"fields": ["walk_forward"]}),
        ("Track record", {"fields": ["track_record"]}),
        ("Leaderboard of the symbol's models", {"fields": ["leaderboard"]}),
    ]
    readonly_fields = flatten_fieldsets(fieldsets)  # every field on the page

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainedModel]:
        # The artifact is the fitted pipeline's bytes: never needed on a page.
        return super().get_queryset(request).defer("artifact")

    @display(description="Verdict", wrapper_class=WIDE)
    def verdict(self, obj: TrainedModel) -> SafeString:
        return verdict_html(obj)

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

    @display(description="Fitted by")
    def library(self, obj: TrainedModel) -> str:
        return obj.library_version or f"scikit-learn {obj.sklearn_version}"

    @display(description="Features")
    def feature_list(self, obj: TrainedModel) -> str:
        # ETS reads the closes themselves, no derived feature.
        return ", ".join(obj.features) or "the log closes"

    @display(description="Compared with the symbol's other models", wrapper_class=WIDE)
    def leaderboard(self, obj: TrainedModel) -> SafeString:
        return self.leaderboard_of(obj.symbol)

    @display(description="Training rows")
    def train_rows_count(self, obj: TrainedModel) -> str:
        return f"{obj.train_rows:,}"

    @display(description="Horizon")
    def horizon_days(self, obj: TrainedModel) -> str:
        return f"{obj.horizon} trading days"

    @display(description="Scores at 1, 5 and 30 trading days", wrapper_class=WIDE)
    def walk_forward(self, obj: TrainedModel) -> SafeString:
        return evaluation_table(obj)

    @display(
        description="Realised, by horizon, on the days whose prices arrived",
        wrapper_class=WIDE,
    )
    def track_record(self, obj: TrainedModel) -> SafeString:
        return track_record_html(model_track_record(obj), every_horizon=True)

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
