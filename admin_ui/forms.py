"""Forms of the admin's action pages and confirmation dialogs, and its login."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest
from unfold.forms import AuthenticationForm, BaseDialogForm
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminSingleDateWidget,
)

from backtesting.params import BacktestParams
from backtesting.sweeps import SweepParams, parse_range
from core.adjustment import DEFAULT_ADJUST
from core.errors import InvalidInput
from core.models import Job, Symbol
from ml.methods import DEFAULT_METHOD, METHODS

# The price series a backtest, forecast or report reads (core.adjustment's modes).
ADJUST_CHOICES = [
    ("splits", "Split-adjusted (default)"),
    ("total", "Total return: splits and dividends"),
    ("none", "As traded, not adjusted"),
]


def adjust_field() -> forms.ChoiceField:
    # Not required, so a post without it (a form of an older page) reads the default.
    return forms.ChoiceField(
        label="Prices",
        choices=ADJUST_CHOICES,
        initial=DEFAULT_ADJUST,
        required=False,
        widget=UnfoldAdminSelectWidget,
        help_text="Which price series the work reads; stored with the result.",
    )


class BacktestActionForm(forms.Form):
    initial_investment = forms.DecimalField(
        min_value=BacktestParams.MIN_INVESTMENT,
        max_value=BacktestParams.MAX_INVESTMENT,
        decimal_places=BacktestParams.INVESTMENT_DECIMALS,
        initial=BacktestParams.DEFAULT_INVESTMENT,
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="Cash at the start, in the symbol's currency.",
    )
    fast = forms.IntegerField(
        min_value=BacktestParams.MIN_WINDOW,
        max_value=BacktestParams.MAX_WINDOW - 1,
        initial=BacktestParams.DEFAULT_FAST,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    slow = forms.IntegerField(
        min_value=BacktestParams.MIN_WINDOW + 1,
        max_value=BacktestParams.MAX_WINDOW,
        initial=BacktestParams.DEFAULT_SLOW,
        widget=UnfoldAdminIntegerFieldWidget,
    )
    start = forms.DateField(
        required=False,
        widget=UnfoldAdminSingleDateWidget,
        help_text="Empty: from the first stored bar.",
    )
    end = forms.DateField(
        required=False,
        widget=UnfoldAdminSingleDateWidget,
        help_text="Empty: to the last stored bar.",
    )
    commission = forms.DecimalField(
        min_value=Decimal(0),
        max_value=BacktestParams.MAX_COMMISSION,
        decimal_places=BacktestParams.COMMISSION_DECIMALS,
        initial=Decimal(0),
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="Per side, as a fraction: 0.001 is 0.1 %.",
    )
    adjust = adjust_field()

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.params = BacktestParams(
                initial_investment=data["initial_investment"],
                fast=data["fast"],
                slow=data["slow"],
                start=data.get("start"),
                end=data.get("end"),
                commission=data.get("commission") or Decimal(0),
                adjust=data.get("adjust") or DEFAULT_ADJUST,
            )
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc
        return data


class CompareForm(BacktestActionForm):
    """The Symbols list's Compare action: one backtest, run on every selected symbol."""


class SweepActionForm(forms.Form):
    """The Symbols list's Run sweep action: the grid, the held-out share and the rest
    of a backtest's inputs; `params` is the checked SweepParams."""

    # Which form field shows an error SweepParams raises about a query parameter.
    FIELD_OF_PARAMETER = {
        "fast": "fast_range",
        "slow": "slow_range",
        "oos": "oos",
        "commission": "commission",
        "adjust": "adjust",
    }

    initial_investment = BacktestActionForm.base_fields["initial_investment"]
    fast_range = forms.CharField(
        label="Fast windows",
        initial=str(SweepParams.DEFAULT_FAST_RANGE),
        max_length=20,
        help_text="start:stop:step, inclusive (5:70:5 is 5, 10, ..., 70).",
    )
    slow_range = forms.CharField(
        label="Slow windows",
        initial=str(SweepParams.DEFAULT_SLOW_RANGE),
        max_length=20,
        help_text=f"Only pairs with fast < slow run; at most {SweepParams.MAX_PAIRS}.",
    )
    oos = forms.DecimalField(
        label="Held out",
        min_value=Decimal(str(SweepParams.MIN_OOS)),
        max_value=Decimal(str(SweepParams.MAX_OOS)),
        decimal_places=3,
        initial=Decimal(str(SweepParams.DEFAULT_OOS)),
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="Share of the last bars kept out of the ranking: 0.3 is 30 %.",
    )
    start = BacktestActionForm.base_fields["start"]
    end = BacktestActionForm.base_fields["end"]
    commission = BacktestActionForm.base_fields["commission"]
    adjust = adjust_field()

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.params = SweepParams(
                initial_investment=data["initial_investment"],
                fast=parse_range(
                    data["fast_range"],
                    name="fast",
                    default=SweepParams.DEFAULT_FAST_RANGE,
                ),
                slow=parse_range(
                    data["slow_range"],
                    name="slow",
                    default=SweepParams.DEFAULT_SLOW_RANGE,
                ),
                start=data.get("start"),
                end=data.get("end"),
                commission=data.get("commission") or Decimal(0),
                adjust=data.get("adjust") or DEFAULT_ADJUST,
                oos=float(data["oos"]),
            )
        except InvalidInput as exc:
            field = self.FIELD_OF_PARAMETER.get(exc.details.get("parameter", ""))
            self.add_error(field, exc.message)
        return data


class LoginForm(AuthenticationForm):
    """unfold's login form, refusing a username longer than any account's.

    Django's AuthenticationForm sets the field's max_length after building it, which
    adds no validator: a longer name reached authenticate(), and django-axes' record
    of the failed login (a 255-character column) then failed on PostgreSQL.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))


class ObjectDialogForm(BaseDialogForm):
    """An unfold dialog confirming work on one object (a detail-page button).

    The button's URL carries the object's id; one that names no object is a 404,
    already when the dialog is asked for.
    """

    model: type[Model]
    form_before_template = "admin_ui/dialog_object.html"

    def __init__(
        self,
        request: HttpRequest,
        object_id: int | str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(request, object_id, *args, **kwargs)
        self.object = object_or_404(self.get_queryset(), object_id)

    def get_queryset(self) -> QuerySet:
        return self.model._default_manager.all()

    def get_before_template_context(
        self, request: HttpRequest, object_id: int | str | None = None
    ) -> dict[str, Any]:
        # The template names the object and shows errors no single field holds.
        return {"object": self.object, "errors": self.non_field_errors()}


def object_or_404(queryset: QuerySet, object_id: int | str | None) -> Any:
    """The row of `queryset` whose primary key is object_id; Http404 for junk or unknown."""
    meta = queryset.model._meta
    try:
        return queryset.get(pk=meta.pk.to_python(object_id))  # type: ignore[union-attr]
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404(f"No {meta.verbose_name} {object_id}.") from None


class SymbolDialogForm(ObjectDialogForm):
    model = Symbol


class BacktestDialogForm(SymbolDialogForm, BacktestActionForm):
    """The symbol page's Backtest button: the bulk action's fields, for one symbol."""


class AdjustedWorkDialogForm(SymbolDialogForm):
    """The symbol page's Forecast and Report buttons: which price series to read."""

    adjust = adjust_field()

    def job_parameters(self) -> dict[str, str]:
        return {"adjust": self.cleaned_data.get("adjust") or DEFAULT_ADJUST}


class TrainDialogForm(AdjustedWorkDialogForm):
    """The symbol page's Train model button: which method, on which price series."""

    method = forms.ChoiceField(
        label="Method",
        choices=[(key, method.label) for key, method in METHODS.items()],
        initial=DEFAULT_METHOD,
        required=False,
        widget=UnfoldAdminSelectWidget,
        help_text=(
            "Linear regression on lagged returns and moving averages (scikit-learn), "
            "or exponential smoothing of the log closes (ETS, statsmodels)."
        ),
    )

    def job_parameters(self) -> dict[str, str]:
        return {
            **super().job_parameters(),
            "method": self.cleaned_data.get("method") or DEFAULT_METHOD,
        }


class JobDialogForm(ObjectDialogForm):
    model = Job
