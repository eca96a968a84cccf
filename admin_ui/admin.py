"""Loads every admin module; Django's autodiscovery imports this file."""

from django.contrib import admin

from admin_ui import (  # noqa: F401
    access,
    backtests,
    forecasts,
    jobs,
    prices,
    reports,
    symbols,
    task_queue,
    trained_models,
)

# The home page is StockDesk's dashboard (admin_ui/dashboard.py fills it).
admin.site.index_template = "admin_ui/dashboard.html"
admin.site.index_title = "Dashboard"
