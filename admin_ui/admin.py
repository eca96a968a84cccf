"""Loads every admin module; Django's autodiscovery imports this file."""

from django.contrib import admin

from admin_ui import (  # noqa: F401
    access,
    backtests,
    comparisons,
    corporate_actions_admin,
    forecasts,
    jobs,
    prices,
    reports,
    sweeps,
    symbols,
    task_queue,
    trained_models,
)
from admin_ui.forms import LoginForm
from admin_ui.site import guard

# The home page is StockDesk's dashboard (admin_ui/dashboard.py fills it).
admin.site.index_template = "admin_ui/dashboard.html"
admin.site.index_title = "Dashboard"
admin.site.login_form = LoginForm
# Junk in a request (a NUL character, ids that are not ids) is a 400 page.
guard(admin.site)
