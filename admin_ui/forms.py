"""Forms the admin's intermediate action pages ask staff to fill in."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from unfold.widgets import (
    UnfoldAdminDecimalFieldWidget,
    UnfoldAdminIntegerFieldWidget,
    UnfoldAdminSingleDateWidget,
)

from backtesting.params import BacktestParams
from core.errors import InvalidInput


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
