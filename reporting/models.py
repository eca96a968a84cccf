"""Archived reports: the PDF file and the JSON it was rendered from."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from backtesting.models import BacktestRun
from core.models import Symbol
from ml.models import PredictionRun


class Report(models.Model):
    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="reports")
    backtest = models.ForeignKey(
        BacktestRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    forecast = models.ForeignKey(
        PredictionRun,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    pdf = models.FileField(upload_to="reports/%Y/%m/")
    size_bytes = models.PositiveIntegerField()
    snapshot = models.JSONField(help_text="The report exactly as the PDF shows it.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("generate_report", "Can generate reports")]

    def __str__(self) -> str:
        return f"{self.symbol.ticker} report {self.created_at:%Y-%m-%d %H:%M}"
