"""Data quality on the Symbols list (a filter and a badge) and the symbol page's
Confirm split button; the block itself is core.data_quality's."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from unfold.dataclasses import UnfoldAction
from unfold.decorators import action, display
from unfold.views import ChangeList
from unfold.widgets import UnfoldAdminRadioSelectWidget

from admin_ui.bases import dialog_done
from admin_ui.forms import SymbolDialogForm
from core.data_quality import (
    problems_filter,
    symbol_suspected_splits,
    symbols_facts_of,
)
from core.errors import StockDeskError
from core.models import Symbol
from core.services import suspected_split_confirm
from core.split_detection import ratio_words

CONFIRM_SPLIT_PERMISSION = "core.add_corporateaction"


class DataQualityFilter(admin.SimpleListFilter):
    """Symbols with or without a data-quality problem (core.data_quality's verdict,
    as a condition on the figures stored on each Symbol)."""

    title = "data quality"
    parameter_name = "data_quality"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("problems", "Has problems"), ("ok", "OK")]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Symbol]
    ) -> QuerySet[Symbol]:
        if self.value() not in ("problems", "ok"):
            return queryset
        problems = problems_filter(timezone.now())
        if self.value() == "problems":
            return queryset.filter(problems)
        return queryset.exclude(problems)


class QualityChangeList(ChangeList):
    """The Symbols list, the problems of the rows shown decided from their figures."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        rows = list(self.result_list)
        # The rows carry their stored figures: decided here, with no query.
        facts = symbols_facts_of(rows, now=timezone.now())
        for row in rows:
            row._quality_problems = facts[row.pk].problems
        self.result_list = rows


class SplitConfirmForm(SymbolDialogForm):
    """Which of the symbol's suspected splits to record; ?day= preselects one."""

    day = forms.TypedChoiceField(
        label="Suspected split",
        coerce=date.fromisoformat,
        widget=UnfoldAdminRadioSelectWidget,
        error_messages={
            "invalid_choice": (
                "That day has no suspected split any more; reload the symbol's page."
            )
        },
    )

    def __init__(
        self,
        request: HttpRequest,
        object_id: int | str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(request, object_id, *args, **kwargs)
        suspects = symbol_suspected_splits(self.object)
        field = self.fields["day"]
        field.choices = [
            (
                s.day.isoformat(),
                f"{s.day.isoformat()}: close {price_text(s.close_before)}, next "
                f"open {price_text(s.open_on)}, like a {ratio_words(s.factor)} split",
            )
            for s in suspects
        ]
        wanted = request.GET.get("day")
        days = [s.day.isoformat() for s in suspects]
        field.initial = wanted if wanted in days else (days[0] if days else None)
        if not suspects:
            field.help_text = (
                f"{self.object.ticker} has no suspected split left to confirm."
            )


class SymbolDataQuality:
    """What SymbolAdmin adds for data quality: the badge column, the per-page read
    behind it, and the Confirm split button (with core.add_corporateaction)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        # The badge reads every shown row's problems in one pass, not one per row.
        return QualityChangeList

    @display(description="Data quality", label={"ok": "success", "problems": "danger"})
    def data_quality_badge(self, obj: Symbol) -> tuple[str, str | list[str]]:
        problems = getattr(obj, "_quality_problems", [])
        if not problems:
            return "ok", "OK"
        return "problems", [problem.label for problem in problems]

    def get_actions_detail(
        self, request: HttpRequest, object_id: int | str
    ) -> list[UnfoldAction]:
        # Confirm split only where there is a suspect to confirm.
        found = super().get_actions_detail(request, object_id)
        if _has_suspects(object_id):
            return found
        return [a for a in found if not a.action_name.endswith("_detail_confirm_split")]

    def has_confirm_split_permission(
        self, request: HttpRequest, obj: Any = None
    ) -> bool:
        return request.user.has_perm(CONFIRM_SPLIT_PERMISSION)

    @action(
        description="Confirm split",
        url_path="confirm-split",
        icon="call_split",
        # A method, not "core.add_corporateaction": unfold's system check looks a
        # dotted permission up in the database, which a fresh `migrate` has not made.
        permissions=["confirm_split"],
        dialog={
            "title": "Confirm a suspected split",
            "description": (
                "The prices jump like a split on this day and no split is recorded. "
                "Confirming records the split with the factor of the jump (source: "
                "confirmed); backtests, forecasts and reports then adjust the prices "
                "before it."
            ),
            "form_class": SplitConfirmForm,
            "form_submit_text": "Record split",
        },
    )
    def detail_confirm_split(
        self, request: HttpRequest, form: SplitConfirmForm, object_id: str
    ) -> HttpResponse:
        symbol = form.object
        try:
            recorded = suspected_split_confirm(
                symbol=symbol, day=form.cleaned_data["day"], user=request.user
            )
        except StockDeskError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(
                request,
                f"Recorded the {ratio_words(Decimal(recorded.split_factor))} split of {symbol.ticker} on "
                f"{recorded.date.isoformat()} (source: confirmed).",
                messages.SUCCESS,
            )
        return dialog_done(
            request, reverse("admin:core_symbol_change", args=[symbol.pk])
        )


def price_text(price: Decimal) -> str:
    """A stored price as staff read it: cents, and the fourth decimal where used
    (100.00, 0.0123), so a penny stock's jump does not read as 0.01 to 0.01."""
    shown = price.normalize()
    exponent = shown.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        shown = shown.quantize(Decimal("0.01"))
    return f"{shown:,f}"


def _has_suspects(object_id: int | str) -> bool:
    # A junk id reaches here before the change view answers it with its 404.
    if not str(object_id).isdigit():
        return False
    symbol = Symbol.objects.filter(pk=int(object_id)).first()
    return symbol is not None and bool(symbol_suspected_splits(symbol))
