"""Price bars: arrive through fetches or a file import; read-only otherwise."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Max, Min, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from import_export.admin import ExportActionModelAdmin, ImportExportModelAdmin
from import_export.forms import ConfirmImportForm
from import_export.tmp_storages import CacheStorage
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import (
    AutocompleteSelectFilter,
    RangeDateFilter,
    RangeNumericFilter,
)
from unfold.contrib.import_export.forms import ImportForm
from unfold.decorators import display

from admin_ui.bases import Exports, LongList, RecordsOnly, formatted_field
from admin_ui.resources import PriceBarResource, PriceImportResult
from core.formatting import money
from core.models import PriceBar, Symbol
from core.services import price_bars_delete


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


class PriceConfirmImportForm(ConfirmImportForm):
    """The preview's confirm form; a file with warnings needs the box ticked."""

    accept_warnings = forms.BooleanField(
        required=False,
        label="I have checked the warnings; store these bars as they are.",
    )


class PriceImportStorage(CacheStorage):
    """Holds the file between preview and confirm in the cache, never on disk.

    The confirm step deletes it; a preview never confirmed expires after an hour.
    """

    CACHE_LIFETIME = 60 * 60


class BarsPaginator(Paginator):
    """Django's paginator with a cheap count of the unfiltered list on PostgreSQL:
    the planner's row estimate (pg_class.reltuples, kept by ANALYZE and autovacuum)
    instead of a COUNT(*) over millions of bars. A filtered list counts its rows,
    which the date and (symbol, date) indexes bound."""

    @cached_property
    def count(self) -> int:
        estimate = _unfiltered_estimate(self.object_list)
        return estimate if estimate is not None else super().count


def _unfiltered_estimate(queryset: Any) -> int | None:
    if connection.vendor != "postgresql" or not isinstance(queryset, QuerySet):
        return None
    if queryset.query.where or queryset.query.distinct:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    # -1 (or 0) before the table was first analysed: count it instead.
    return int(row[0]) if row and row[0] > 0 else None


class BarsQuerySet(QuerySet):
    """The Price bars list's queryset: the date hierarchy's years through the date
    index on PostgreSQL. Django asks for SELECT DISTINCT date_trunc('year', date)
    over every bar (most of a second at 5 M bars); here the first and last day come
    from the index's ends, and each year between is kept when the index holds a
    day in it (one probe per year)."""

    def dates(self, field_name: str, kind: str, order: str = "ASC") -> Any:
        if connection.vendor != "postgresql" or kind != "year" or self.query.where:
            return super().dates(field_name, kind, order)
        ends = self.aggregate(first=Min(field_name), last=Max(field_name))
        if ends["first"] is None:
            return []
        column = connection.ops.quote_name(
            self.model._meta.get_field(field_name).column
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT make_date(year, 1, 1) FROM generate_series(%s, %s) AS year
                WHERE EXISTS (
                    SELECT 1 FROM {connection.ops.quote_name(self.model._meta.db_table)}
                    WHERE {column} >= make_date(year, 1, 1)
                    AND {column} < make_date(year + 1, 1, 1)
                )
                ORDER BY 1 {"DESC" if order == "DESC" else "ASC"}
                """,  # noqa: S608 - names from the model, values as parameters
                [ends["first"].year, ends["last"].year],
            )
            return [row[0] for row in cursor.fetchall()]


@admin.register(PriceBar)
class PriceBarAdmin(
    LongList,
    Exports,
    RecordsOnly,
    ModelAdmin,
    ImportExportModelAdmin,
    ExportActionModelAdmin,
):
    """Bars come from fetches or from a file import (backfill); never typed in by hand."""

    resource_classes = [PriceBarResource]
    import_form_class = PriceImportForm
    confirm_form_class = PriceConfirmImportForm
    # Every problem and warning as one sentence, and the box to confirm warnings.
    import_template_name = "admin_ui/price_import.html"
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
        # A search box over the symbols (SymbolAdmin's search), not a link per symbol:
        # with 1,000 symbols the links were a quarter of the page's time.
        ("symbol", AutocompleteSelectFilter),
    ]
    list_filter_submit = True
    search_fields = ["symbol__ticker"]
    date_hierarchy = "date"
    ordering = ["-date", "symbol__ticker"]
    list_select_related = ["symbol"]
    list_per_page = 100
    # At millions of bars a second COUNT(*) of the whole table per page is most of
    # the page: "N results (Show all)" instead of "N results (M total)".
    show_full_result_count = False
    paginator = BarsPaginator

    def get_queryset(self, request: HttpRequest) -> QuerySet[PriceBar]:
        queryset = super().get_queryset(request)
        return BarsQuerySet(
            model=queryset.model, query=queryset.query, using=queryset.db
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PriceBar], search_term: str
    ) -> tuple[QuerySet[PriceBar], bool]:
        """A search is for tickers: the symbols matching it are looked up first (one
        query of the symbol table), then their bars through the (symbol, date) index,
        instead of a LIKE on a join across every bar."""
        terms = search_term.split()
        if not terms:
            return queryset, False
        matching = Q()
        for term in terms:  # every word in the ticker, as Django's search does
            matching &= Q(ticker__icontains=term)
        symbol_ids = list(Symbol.objects.filter(matching).values_list("pk", flat=True))
        return queryset.filter(symbol_id__in=symbol_ids), False

    def delete_model(self, request: HttpRequest, obj: PriceBar) -> None:
        price_bars_delete(bars=PriceBar.objects.filter(pk=obj.pk))

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[PriceBar]
    ) -> None:
        price_bars_delete(bars=queryset)

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

    def get_import_resource_kwargs(
        self, request: HttpRequest, **kwargs: Any
    ) -> dict[str, Any]:
        resource_kwargs = super().get_import_resource_kwargs(request, **kwargs)
        form = kwargs.get("form")
        accepted = isinstance(form, PriceConfirmImportForm) and bool(
            form.cleaned_data.get("accept_warnings")
        )
        return {**resource_kwargs, "warnings_accepted": accepted}

    def get_import_data_kwargs(self, **kwargs: Any) -> dict[str, Any]:
        # A row that fails at the confirm step (its symbol deleted since the
        # preview, ...) rolls the whole file back, as an error does: no partial file.
        return {
            **super().get_import_data_kwargs(**kwargs),
            "rollback_on_validation_errors": True,
        }

    def process_result(
        self, result: PriceImportResult, request: HttpRequest
    ) -> HttpResponse:
        # django-import-export reports success even when the confirm step rolled
        # back; show what stopped it instead.
        if result.has_errors() or result.has_validation_errors():
            return self._import_page_with(result, request)
        return super().process_result(result, request)

    def add_success_message(
        self, result: PriceImportResult, request: HttpRequest
    ) -> None:
        super().add_success_message(result, request)
        if result.warnings:
            count = len(result.warnings)
            messages.warning(
                request,
                f"Stored with {count} confirmed warning{'s' if count > 1 else ''}.",
            )

    def _import_page_with(
        self, result: PriceImportResult, request: HttpRequest
    ) -> TemplateResponse:
        """The import page, a fresh form and why the confirmed file stored nothing."""
        form = self.get_import_form_class(request)(
            self.get_import_formats(), self.get_import_resource_classes(request)
        )
        resources = [
            resource_class()
            for resource_class in self.get_import_resource_classes(request)
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Import",
            "form": form,
            "opts": self.model._meta,
            "media": self.media + form.media,
            "result": result,
            "fields_list": [
                (
                    resource.get_display_name(),
                    [field.column_name for field in resource.get_user_visible_fields()],
                )
                for resource in resources
            ],
            "import_error_display": self.import_error_display,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)
