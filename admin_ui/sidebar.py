"""The sidebar: unfold calls `navigation` on each page (UNFOLD["SIDEBAR"] names it)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import resolve, reverse


def _item(title: str, icon: str, url_name: str) -> dict[str, Any]:
    """A link; a model's list (admin:<app>_<model>_changelist) only for who may see it."""
    item: dict[str, Any] = {"title": title, "icon": icon, "link": reverse(url_name)}
    if url_name.endswith("_changelist"):
        model_admin = resolve(item["link"]).func.model_admin  # type: ignore[attr-defined]

        # unfold calls this with the request (and deep-copies the item: a plain
        # function, not the bound method); the model page checks the same.
        def may_open(request: HttpRequest) -> bool:
            return model_admin.has_view_or_change_permission(request)

        item["permission"] = may_open
    return item


def navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """The groups and their links, in order (unfold passes the request)."""
    return [
        {
            "title": "Overview",
            "items": [_item("Dashboard", "dashboard", "admin:index")],
        },
        {
            "title": "Market data",
            "items": [
                _item("Symbols", "query_stats", "admin:core_symbol_changelist"),
                _item(
                    "Price bars", "candlestick_chart", "admin:core_pricebar_changelist"
                ),
                _item(
                    "Corporate actions",
                    "call_split",
                    "admin:core_corporateaction_changelist",
                ),
            ],
        },
        {
            "title": "Analysis",
            "items": [
                _item(
                    "Backtests",
                    "monitoring",
                    "admin:backtesting_backtestrun_changelist",
                ),
                _item("Trades", "swap_vert", "admin:backtesting_trade_changelist"),
                _item("Sweeps", "grid_on", "admin:backtesting_sweep_changelist"),
                _item(
                    "Comparisons",
                    "compare_arrows",
                    "admin:backtesting_comparison_changelist",
                ),
                _item("Forecasts", "timeline", "admin:ml_predictionrun_changelist"),
                _item("Models", "model_training", "admin:ml_trainedmodel_changelist"),
            ],
        },
        {
            "title": "Reports",
            "items": [
                _item("Reports", "picture_as_pdf", "admin:reporting_report_changelist")
            ],
        },
        {
            "title": "Jobs",
            "items": [_item("Jobs", "pending_actions", "admin:core_job_changelist")],
        },
        {
            "title": "Task queue",
            "collapsible": True,
            "items": [
                _item("Queued tasks", "schedule", "admin:django_q_ormq_changelist"),
                _item(
                    "Successful tasks", "task_alt", "admin:django_q_success_changelist"
                ),
                _item("Failed tasks", "error", "admin:django_q_failure_changelist"),
                _item(
                    "Scheduled tasks",
                    "event_repeat",
                    "admin:django_q_schedule_changelist",
                ),
            ],
        },
        {
            "title": "Access",
            "items": [
                _item("Users", "person", "admin:auth_user_changelist"),
                _item("API tokens", "key", "admin:core_apitoken_changelist"),
            ],
        },
    ]
