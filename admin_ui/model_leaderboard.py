"""A symbol's forecasting models side by side (ml.leaderboard), on the symbol's page
and each model's page, with the button that makes one the active model."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from admin_ui.evaluation import verdict_tone
from core.formatting import NONE, plain_pct, signed_pct
from core.models import Symbol
from ml.leaderboard import model_leaderboard

# Whether the user of the page being rendered may activate models: a read-only
# field is rendered with the object only, and the Activate links depend on the user.
# A context variable is per thread (and per task), so requests never share it.
_may_activate: ContextVar[bool] = ContextVar("may_activate", default=False)
ACTIVATE_PERMISSION = "ml.change_trainedmodel"


def _pct(skill: float | None) -> str:
    return signed_pct(None if skill is None else skill * 100, 1)


def _horizon_cell(horizon: dict[str, Any]) -> SafeString:
    """Walk-forward skill at one horizon and the verdict that says whether it counts."""
    return format_html(
        '{}<br><span class="text-xs {}">{}</span>',
        _pct(horizon["skill"]),
        verdict_tone(horizon["verdict"]),
        horizon["verdict"],
    )


def _realised(horizon: dict[str, Any] | None) -> str:
    if horizon is None or not horizon["realised_forecasts"]:
        return NONE
    return f"{_pct(horizon['realised_skill'])} ({horizon['realised_forecasts']:,})"


def _active_cell(entry: dict[str, Any], may_activate: bool) -> SafeString | str:
    if entry["is_active"]:
        return format_html(
            '<strong class="text-green-700 dark:text-green-400">{}</strong>', "Active"
        )
    if not may_activate:
        return "Not active"
    url = reverse("admin:ml_trainedmodel_activate_detail", args=[entry["model"]])
    # Opens the model's Activate dialog on this page, as unfold's own buttons do.
    return format_html(
        '<a class="text-primary-600 font-medium" href="{}" hx-get="{}" '
        'hx-target="#modal-content" hx-select="#dialog" '
        'x-on:htmx:after-on-load="openModal = true">{}</a>',
        url,
        url,
        "Activate",
    )


def leaderboard_html(symbol: Symbol, *, may_activate: bool) -> SafeString:
    """The table: one row per contending model, best walk-forward skill first."""
    board = model_leaderboard(symbol)
    rows = []
    for entry in board["models"]:
        by_days = {h["horizon_days"]: h for h in entry["horizons"]}
        thirty = by_days.get(30)
        rows.append(
            {
                "url": reverse("admin:ml_trainedmodel_change", args=[entry["model"]]),
                "cells": [
                    f"{entry['rank']}. v{entry['version']} {entry['method_label']}",
                    entry["adjust"],
                    entry["train_end"],
                    *(
                        _horizon_cell(by_days[days]) if days in by_days else NONE
                        for days in (1, 5, 30)
                    ),
                    _pct(entry["mean_skill"]),
                    plain_pct(thirty["inside_band_pct"]) if thirty else NONE,
                    _realised(thirty),
                    _active_cell(entry, may_activate),
                ],
            }
        )
    table = render_to_string(
        "admin_ui/simple_table.html",
        {
            "headings": [
                "Model",
                "Prices",
                "Trained through",
                "Skill 1 day",
                "Skill 5 days",
                "Skill 30 days",
                "Mean skill",
                "80 % band, 30 days (out of sample)",
                "Realised skill, 30 days (forecasts)",
                "",
            ],
            "rows": rows,
            "empty": (
                "No model yet: use Train model above (choose linear regression or "
                "ETS; train both to compare them here)."
            ),
        },
    )
    return format_html(
        '<div id="model-leaderboard" class="flex flex-col gap-2 w-full">{}'
        '<p class="text-xs text-base-500">Each method\'s newest model per price '
        "series, and the active one. Ranked by {}. New forecasts use the active "
        "model.</p></div>",
        table,
        board["ranking"],
    )


class LeaderboardPanel:
    """A ModelAdmin mixin: the page's `model_leaderboard` read-only field, with
    Activate links for users who may activate (TrainedModelAdmin's own rule)."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        token = _may_activate.set(request.user.has_perm(ACTIVATE_PERMISSION))
        try:
            response: HttpResponse = super().changeform_view(  # type: ignore[misc]
                request, object_id, form_url, extra_context
            )
            # A TemplateResponse renders after the view returns: render it here,
            # while the variable holds this request's answer.
            render = getattr(response, "render", None)
            if render is not None and not getattr(response, "is_rendered", True):
                render()
            return response
        finally:
            _may_activate.reset(token)

    def leaderboard_of(self, symbol: Symbol) -> SafeString:
        return leaderboard_html(symbol, may_activate=_may_activate.get())
