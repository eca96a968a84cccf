"""Shared admin behaviour: records staff only look at, and the export settings."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from import_export.formats.base_formats import CSV, XLSX
from unfold.contrib.import_export.forms import ExportForm


class RecordsOnly:
    """No add or change forms; the rows come from fetches, runs and imports."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class KeptRecords(RecordsOnly):
    """Records other rows stand on (a model's forecasts) or that document what was said."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class Exports:
    """CSV and XLSX export with unfold's export form, the same on every list."""

    export_form_class = ExportForm
    formats = [CSV, XLSX]
