"""Corporate actions: splits and dividends from fetches, and a file import to backfill.

The import's resource lives here too (not in resources.py): its rows are checked in
full before anything is written, and each problem is a sentence naming the row and
the field.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from import_export import fields, resources
from import_export.admin import ExportActionModelAdmin, ImportExportModelAdmin
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateFilter
from unfold.contrib.import_export.forms import ImportForm
from unfold.decorators import display

from admin_ui.bases import Exports, RecordsOnly
from core.adjustment import Action
from core.errors import InvalidInput
from core.market import normalise_ticker
from core.models import CorporateAction, Symbol
from core.services import corporate_actions_delete, corporate_actions_upsert

IMPORT_PERMISSION = "core.add_corporateaction"
# The columns' precision and range (core.models.CorporateAction).
_STEP = Decimal("0.000001")
_LIMITS = {"factor": Decimal(10) ** 6, "amount": Decimal(10) ** 8}
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
# "4:1" (four new shares for one old) is how splits are usually written.
_RATIO = re.compile(r"(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)", re.ASCII)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_VALUE_FIELD = {"split": "factor", "dividend": "amount"}
_WITH_ARTICLE = {"factor": "a factor", "amount": "an amount"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: Any) -> str:
    return repr(str(value).strip()[:40])


def _read_day(raw: Any) -> date | None:
    """A YYYY-MM-DD text, or the datetime an XLSX date cell arrives as."""
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = "" if raw is None else str(raw).strip()
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class _RowChecker:
    """One import row read into a CorporateAction's values, or its problems in words."""

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.problems: dict[str, str] = {}
        # A spreadsheet's trailing empty lines are not rows anyone meant.
        self.empty = all(_blank(value) for value in row.values())
        if self.empty:
            self.symbol = self.kind = self.day = self.value = None
            return
        self.symbol = self._symbol()
        self.kind = self._kind()
        self.day = self._day()
        self.value = self._value()

    def _problem(self, field: str, text: str) -> None:
        self.problems[field] = text

    def _symbol(self) -> Symbol | None:
        raw = self.row.get("symbol")
        if _blank(raw):
            self._problem("symbol", "the symbol is missing")
            return None
        try:
            ticker = normalise_ticker(str(raw))
        except InvalidInput as exc:
            self._problem("symbol", exc.message.rstrip("."))
            return None
        symbol = Symbol.objects.filter(ticker=ticker).first()
        if symbol is None:
            self._problem(
                "symbol",
                f"there is no symbol {ticker}; add it under Symbols or fetch its "
                "prices first",
            )
        return symbol

    def _kind(self) -> str | None:
        raw = self.row.get("kind")
        kind = "" if _blank(raw) else str(raw).strip().lower()
        if kind in CorporateAction.Kind.values:
            return kind
        told = "is missing" if not kind else f"is {_shown(raw)}"
        self._problem("kind", f"the kind {told}; it must be split or dividend")
        return None

    def _day(self) -> date | None:
        raw = self.row.get("date")
        day = _read_day(raw)
        if day is None:
            told = (
                "is missing (YYYY-MM-DD)"
                if _blank(raw)
                else f"{_shown(raw)} is not a valid YYYY-MM-DD date"
            )
            self._problem("date", f"the date {told}")
            return None
        if day > timezone.localdate():
            self._problem(
                "date",
                f"the date {day.isoformat()} is in the future; record an action once "
                "it has taken effect",
            )
            return None
        return day

    def _value(self) -> Decimal | None:
        if self.kind is None:
            return None
        wanted = _VALUE_FIELD[self.kind]
        other = "amount" if wanted == "factor" else "factor"
        if not _blank(self.row.get(other)):
            self._problem(
                other,
                f"a {self.kind} has {_WITH_ARTICLE[wanted]}, not "
                f"{_WITH_ARTICLE[other]}; leave {other} empty",
            )
        raw = self.row.get(wanted)
        if _blank(raw):
            self._problem(wanted, f"a {self.kind} needs {self._describe(wanted)}")
            return None
        value = self._number(wanted, raw)
        if value is None:
            return None
        if value <= 0:
            self._problem(wanted, f"the {wanted} {_shown(raw)} is not above zero")
            return None
        stored = value.quantize(_STEP, rounding=ROUND_HALF_EVEN)
        if stored >= _LIMITS[wanted]:
            self._problem(wanted, f"the {wanted} {_shown(raw)} is too large to store")
            return None
        if stored == 0:
            self._problem(
                wanted, f"the {wanted} {_shown(raw)} is 0 at the 6 decimals stored"
            )
            return None
        return stored

    def _number(self, field: str, raw: Any) -> Decimal | None:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return Decimal(str(raw))
        text = str(raw).strip()
        ratio = _RATIO.fullmatch(text) if field == "factor" else None
        try:
            if ratio and Decimal(ratio.group(2)) != 0:
                return Decimal(ratio.group(1)) / Decimal(ratio.group(2))
            if _NUMBER.fullmatch(text):
                return Decimal(text)
        except InvalidOperation:
            pass
        self._problem(
            field,
            f"the {field} {_shown(raw)} is not a number ({self._describe(field)})",
        )
        return None

    @staticmethod
    def _describe(field: str) -> str:
        if field == "factor":
            return (
                "a factor: new shares per old share, e.g. 4 or 4:1 for a 4-for-1 "
                "split, 0.1 or 1:10 for a 1-for-10"
            )
        return "an amount: the cash paid per share, e.g. 0.24"

    def action(self) -> Action | None:
        if self.problems or self.kind is None or self.day is None or self.value is None:
            return None
        return Action(kind=self.kind, day=self.day, value=self.value)


class CorporateActionResource(resources.ModelResource):
    """Actions in and out: symbol, kind, date, factor (splits) or amount (dividends)."""

    symbol = fields.Field(attribute="symbol__ticker", column_name="symbol")
    factor = fields.Field(attribute="split_factor", column_name="factor")
    amount = fields.Field(attribute="dividend_amount", column_name="amount")

    class Meta:
        model = CorporateAction
        fields = ("symbol", "kind", "date", "factor", "amount", "source")
        export_order = fields
        import_id_fields = ("symbol", "kind", "date")
        # Each row is checked whole by _RowChecker; the model's own checks would
        # repeat its findings in other words.
        clean_model_instances = False
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def get_or_init_instance(
        self, instance_loader: Any, row: dict[str, Any]
    ) -> tuple[CorporateAction, bool]:
        # Read here, before import-export's loader would clean the key columns with
        # widgets whose errors name neither the row nor the field in words.
        self._checked = _RowChecker(row)
        action = self._checked.action()
        symbol = self._checked.symbol
        if action is None or symbol is None:
            return CorporateAction(), True
        stored = CorporateAction.objects.filter(
            symbol=symbol, kind=action.kind, date=action.day
        ).first()
        if stored is not None:
            return stored, False
        return CorporateAction(symbol=symbol, kind=action.kind, date=action.day), True

    def import_instance(
        self, instance: CorporateAction, row: dict[str, Any], **kwargs: Any
    ) -> None:
        checked = self._checked
        if checked.empty:
            return
        number = kwargs.get("row_number")
        where = f"Row {number}" if number is not None else "This row"
        if checked.problems:
            raise ValidationError(
                {
                    field: f"{where}, {field}: {text}."
                    for field, text in checked.problems.items()
                }
            )
        action = checked.action()
        if action is None:  # not reached: without problems every value was read
            raise ValidationError(f"{where} could not be read.")
        is_split = action.kind == CorporateAction.Kind.SPLIT
        instance.split_factor = action.value if is_split else None
        instance.dividend_amount = None if is_split else action.value
        instance.source = CorporateAction.Source.IMPORT

    def skip_row(
        self,
        instance: CorporateAction,
        original: CorporateAction | None,
        row: dict[str, Any],
        import_validation_errors: dict[str, Any] | None = None,
    ) -> bool:
        if self._checked.empty:
            return True
        return super().skip_row(instance, original, row, import_validation_errors)

    def do_instance_save(self, instance: CorporateAction, is_create: bool) -> None:
        # Through the one writer of actions, so an import is stored as a fetch is.
        value = instance.split_factor or instance.dividend_amount or Decimal(0)
        corporate_actions_upsert(
            symbol=instance.symbol,
            actions=[Action(kind=instance.kind, day=instance.date, value=value)],
            source=CorporateAction.Source.IMPORT,
        )
        # The admin's import log names each row's object by its key.
        instance.pk = (
            CorporateAction.objects.filter(
                symbol=instance.symbol, kind=instance.kind, date=instance.date
            )
            .values_list("pk", flat=True)
            .get()
        )


class CorporateActionImportForm(ImportForm):
    """unfold's import form; a file over PRICE_IMPORT_MAX_BYTES is refused unparsed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = filesizeformat(settings.PRICE_IMPORT_MAX_BYTES)
        self.fields["import_file"].help_text = (
            f"CSV or XLSX with columns symbol, kind, date, factor, amount; at most "
            f"{limit}."
        )

    def clean_import_file(self) -> UploadedFile:
        upload = self.cleaned_data["import_file"]
        limit = settings.PRICE_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; an import takes "
                f"files of at most {filesizeformat(limit)}. Split it.",
                code="too_large",
            )
        return upload


@admin.register(CorporateAction)
class CorporateActionAdmin(
    Exports, RecordsOnly, ModelAdmin, ImportExportModelAdmin, ExportActionModelAdmin
):
    """Splits and dividends: from fetches, a file import (backfill) or staff
    confirming a suspected split; never typed in by hand."""

    resource_classes = [CorporateActionResource]
    import_form_class = CorporateActionImportForm
    list_display = ["symbol", "kind", "date", "value", "source", "created_at"]
    list_filter = [("date", RangeDateFilter), "kind", "source", "symbol"]
    list_filter_submit = True
    search_fields = ["symbol__ticker"]
    date_hierarchy = "date"
    ordering = ["-date", "symbol__ticker", "kind"]
    list_select_related = ["symbol"]
    list_per_page = 100

    @display(description="Factor or amount")
    def value(self, obj: CorporateAction) -> str:
        if obj.kind == CorporateAction.Kind.SPLIT and obj.split_factor is not None:
            return f"{obj.split_factor.normalize():f} new shares per old"
        if obj.dividend_amount is not None:
            return f"{obj.dividend_amount.normalize():f} cash per share"
        return "—"

    def delete_model(self, request: HttpRequest, obj: CorporateAction) -> None:
        corporate_actions_delete(actions=CorporateAction.objects.filter(pk=obj.pk))

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[CorporateAction]
    ) -> None:
        corporate_actions_delete(actions=queryset)

    def has_import_permission(self, request: HttpRequest) -> bool:
        # Adding actions changes every adjusted series (DESIGN §11): Analysts and
        # superusers, where django-import-export would let any staff member in.
        return request.user.has_perm(IMPORT_PERMISSION)
