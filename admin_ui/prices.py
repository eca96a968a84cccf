"""Price bars: arrive through fetches or a file import; read-only otherwise."""

from __future__ import annotations

from django.contrib import admin
from import_export.admin import ExportActionModelAdmin, ImportExportModelAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter, RangeNumericFilter
from unfold.contrib.import_export.forms import ImportForm
from unfold.decorators import display

from admin_ui.bases import Exports, RecordsOnly, formatted_field
from admin_ui.resources import PriceBarResource
from core.formatting import money
from core.models import PriceBar


@admin.register(PriceBar)
class PriceBarAdmin(
    Exports, RecordsOnly, ModelAdmin, ImportExportModelAdmin, ExportActionModelAdmin
):
    """Bars come from fetches or from a file import (backfill); never typed in by hand."""

    resource_classes = [PriceBarResource]
    import_form_class = ImportForm
    list_display = [
        "symbol",
        "date",
        "open_price",
        "high_price",
        "low_price",
        "close_price",
        "volume_shares",
        "source",
    ]
    list_filter = [
        ("date", RangeDateFilter),
        ("close", RangeNumericFilter),
        "source",
        "symbol",
    ]
    list_filter_submit = True
    search_fields = ["symbol__ticker"]
    date_hierarchy = "date"
    ordering = ["-date", "symbol__ticker"]
    list_select_related = ["symbol"]
    list_per_page = 100

    open_price = formatted_field("open", money, description="Open")
    high_price = formatted_field("high", money, description="High")
    low_price = formatted_field("low", money, description="Low")
    close_price = formatted_field("close", money, description="Close")

    @display(description="Volume", ordering="volume")
    def volume_shares(self, obj: PriceBar) -> str:
        return f"{obj.volume:,}"
