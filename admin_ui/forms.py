"""Forms the admin's intermediate action pages ask staff to fill in."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSingleDateWidget,
)

from backtesting.services import BacktestParams
from core.errors import InvalidInput


class BacktestActionForm(forms.Form):
    initial_investment = forms.DecimalField(
        min_value=Decimal("0.01"),
        max_value=Decimal("1e12"),
        decimal_places=2,
        initial=Decimal("10000"),
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="Cash at the start, in the symbol's currency.",
    )
    fast = forms.IntegerField(
        min_value=2, max_value=399, initial=50, widget=UnfoldAdminIntegerFieldWidget
    )
    slow = forms.IntegerField(
        min_value=3, max_value=400, initial=200, widget=UnfoldAdminIntegerFieldWidget
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
        max_value=Decimal("0.05"),
        decimal_places=5,
        initial=Decimal(0),
        widget=UnfoldAdminDecimalFieldWidget,
        help_text="Per side, as a fraction: 0.001 is 0.1 %.",
    )

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
            )
        except InvalidInput as exc:
            raise forms.ValidationError(exc.message) from exc
        return data
