"""Price bars: arrive through fetches or a file import; read-only otherwise."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from import_export.admin import ExportActionModelAdmin, ImportExportModelAdmin
from import_export.tmp_storages import CacheStorage
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter, RangeNumericFilter
from unfold.contrib.import_export.forms import ImportForm
from unfold.decorators import display

from admin_ui.bases import Exports, RecordsOnly, formatted_field
from admin_ui.resources import PriceBarResource
from core.formatting import money
from core.models import PriceBar


class PriceImportForm(ImportForm):
    """unfold's import form; a file over PRICE_IMPORT_MAX_BYTES is refused unparsed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = filesizeformat(settings.PRICE_IMPORT_MAX_BYTES)
        self.fields["import_file"].help_text = f"CSV or XLSX, at most {limit}."

    def clean_import_file(self) -> UploadedFile:
        upload = self.cleaned_data["import_file"]
        limit = settings.PRICE_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; a price import "
                f"takes files of at most {filesizeformat(limit)}. Split it, for "
                "example one file per symbol or per year.",
                code="too_large",
            )
        return upload


class PriceImportStorage(CacheStorage):
    """Holds the file between preview and confirm in the cache, never on disk.

    The confirm step deletes it; a preview never confirmed expires after an hour.
    """

    CACHE_LIFETIME = 60 * 60


@admin.register(PriceBar)
class PriceBarAdmin(
    Exports, RecordsOnly, ModelAdmin, ImportExportModelAdmin, ExportActionModelAdmin
):
    """Bars come from fetches or from a file import (backfill); never typed in by hand."""

    resource_classes = [PriceBarResource]
    import_form_class = PriceImportForm
    tmp_storage_class = PriceImportStorage
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

    def has_import_permission(self, request: HttpRequest) -> bool:
        # An import writes bars as a fetch does: the same permission (DESIGN §11),
        # where django-import-export would let any staff member in.
        return request.user.has_perm("core.run_fetch")
