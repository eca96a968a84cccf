"""Loads every admin module; Django's autodiscovery imports this file."""

from admin_ui import access, backtests, forecasts, jobs, prices, reports, symbols  # noqa: F401
