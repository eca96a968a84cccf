"""Shared admin behaviour: read-only records, exports, formatted columns, badges."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString
from import_export.formats.base_formats import CSV, XLSX
from unfold import admin as unfold_admin
from unfold.contrib.import_export.forms import ExportForm
from unfold.decorators import display

from admin_ui.export_safety import formulae_neutralised
from admin_ui.site import bad_request


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


_ROW_KEY = "__row_key__"


@lru_cache(maxsize=1)
def _row_checkbox_html() -> str:
    html = str(unfold_admin.checkbox.render(helpers.ACTION_CHECKBOX_NAME, _ROW_KEY))
    return html.replace("{", "{{").replace("}", "}}").replace(_ROW_KEY, "{}")


class LongList:
    """For lists of 100 rows a page: unfold's row checkbox rendered once, not once
    per row. Its widget template rendered 100 times was about a seventh of the
    Symbols and Price bars pages' time; the row's key goes into the same HTML."""

    @display(description=unfold_admin.ModelAdmin.action_checkbox.short_description)
    def action_checkbox(self, obj: Any) -> SafeString:
        return format_html(_row_checkbox_html(), obj.pk)


class Exports:
    """CSV and XLSX export with unfold's export form, the same on every list."""

    export_form_class = ExportForm
    formats = [CSV, XLSX]

    def export_action(self, request: HttpRequest) -> HttpResponse:
        # The export page reads its query string as the list's filters; a parameter
        # the list does not have (export/?format=99) is the user's 400, not our 500.
        try:
            return super().export_action(request)  # type: ignore[misc]
        except IncorrectLookupParameters:
            return bad_request(
                request,
                "The export link carries a filter this list does not have. Filter "
                "the list first, then use its Export button.",
            )

    def get_data_for_export(
        self, request: HttpRequest, queryset: Any, **kwargs: Any
    ) -> Any:
        # A name such as =HYPERLINK(...) must reach the spreadsheet as text.
        data = super().get_data_for_export(request, queryset, **kwargs)
        return formulae_neutralised(
            data, native_types=kwargs.get("force_native_type", False)
        )


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


def badge(text: str, tone: str, href: str | None = None) -> SafeString:
    """unfold's coloured label (tone: info, success, warning, danger), a link if href.

    For read-only fields and columns alike: `@display(label=...)` styles list cells
    only, and a change page would show the (value, text) pair as a tuple.
    """
    return render_to_string(
        "unfold/helpers/label.html", {"text": text, "type": tone, "href": href}
    )


def dialog_done(request: HttpRequest, url: str) -> HttpResponse:
    """Where an unfold dialog's confirmed POST goes next.

    The dialog posts through htmx, which follows an HX-Redirect header; the same form
    posted without JavaScript (the action's URL opened directly) gets a redirect.
    """
    if request.headers.get("HX-Request"):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)
