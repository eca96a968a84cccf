"""Shared admin behaviour: read-only records, export settings, formatted columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from import_export.formats.base_formats import CSV, XLSX
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display


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


def formatted_field(
    field: str,
    show: Callable[[Any], str],
    *,
    description: str,
    sortable: bool = True,
) -> Callable[[Any, Any], str]:
    """A column or read-only field that shows `show(obj.<field>)`, sorted by field.

    Assign it in a ModelAdmin body: `close_price = formatted_field("close", money,
    description="Close")`, then name `close_price` in list_display or fields.
    """

    @display(description=description, ordering=field if sortable else None)
    def column(model_admin: Any, obj: Any) -> str:
        return show(getattr(obj, field))

    return column
