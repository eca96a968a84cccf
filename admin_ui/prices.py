"""Price bars: read-only here; they arrive through fetches (and imports later)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter

from core.models import PriceBar


@admin.register(PriceBar)
class PriceBarAdmin(ModelAdmin):
    list_display = [
        "symbol",
        "date",
        "open",
        "high",
        "low",
        "close",
        "volume",
        "source",
    ]
    list_filter = [("date", RangeDateFilter), "source", "symbol"]
    list_filter_submit = True
    search_fields = ["symbol__ticker"]
    date_hierarchy = "date"
    ordering = ["-date", "symbol__ticker"]
    list_select_related = ["symbol"]
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: PriceBar | None = None
    ) -> bool:
        return False
