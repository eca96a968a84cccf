"""Reports: gather the latest backtest and forecast, build, render, archive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from backtesting.models import BacktestRun
from backtesting.params import DEFAULT_BACKTEST
from backtesting.selectors import latest_backtest
from backtesting.services import backtest_run_create
from core.errors import StockDeskError
from core.models import Symbol
from core.selectors import symbol_with_bars_get
from core.services import Requester, author_or_none
from ml.models import PredictionRun
from ml.selectors import active_model, latest_forecast
from ml.services import forecast_create
from reporting.builder import build_report
from reporting.charts_context import chart_images
from reporting.models import Report
from reporting.pdf import render_pdf


def _backtest_for(symbol: Symbol, user: Requester) -> tuple[BacktestRun | None, str]:
    run = latest_backtest(symbol)
    if run is not None:
        return run, ""
    try:
        run = backtest_run_create(
            ticker=symbol.ticker, params=DEFAULT_BACKTEST, user=user
        )
    except StockDeskError as exc:
        return None, f"No backtest: {exc.message}"
    return run, (
        f"No backtest had been run for {symbol.ticker}, so this report ran the default one "
        f"(SMA {DEFAULT_BACKTEST.fast}/{DEFAULT_BACKTEST.slow}, "
        f"{DEFAULT_BACKTEST.initial_investment:,.0f} invested, no commission)."
    )


def _forecast_for(symbol: Symbol, user: Requester) -> tuple[PredictionRun | None, str]:
    if active_model(symbol) is None:
        stored = latest_forecast(symbol)
        reason = (
            f"{symbol.ticker} has no active forecasting model; train one with "
            f"`python manage.py train_model --symbol {symbol.ticker}` or Symbols → Train model."
        )
        if stored is None:
            return None, reason
        return stored, f"{reason} Shown: the latest stored forecast."
    try:
        run, _ = forecast_create(ticker=symbol.ticker, user=user)
    except StockDeskError as exc:
        return latest_forecast(symbol), f"No new forecast: {exc.message}"
    return run, ""


@dataclass(frozen=True)
class BuiltReport:
    symbol: Symbol
    data: dict[str, Any]
    backtest: BacktestRun | None
    forecast: PredictionRun | None


def report_build(*, ticker: str, user: Requester = None) -> BuiltReport:
    """The report of the symbol's latest backtest and forecast, as a plain dict."""
    symbol = symbol_with_bars_get(ticker)
    backtest, backtest_note = _backtest_for(symbol, user)
    forecast, forecast_note = _forecast_for(symbol, user)
    data = build_report(
        symbol=symbol,
        backtest=backtest,
        backtest_note=backtest_note,
        forecast=forecast,
        forecast_note=forecast_note,
        generated_at=timezone.now(),
    )
    return BuiltReport(symbol=symbol, data=data, backtest=backtest, forecast=forecast)


def _halves(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    middle = (len(rows) + 1) // 2
    return [rows[:middle], rows[middle:]] if rows else []


def report_pdf(built: BuiltReport) -> bytes:
    """Render the dict as the A4 PDF: the template shows exactly the dict's texts."""
    html = render_to_string(
        "reporting/report.html",
        {
            "report": built.data,
            "charts": chart_images(built.symbol, built.data),
            "forecast_halves": _halves(built.data["forecast"].get("predictions", [])),
        },
    )
    return render_pdf(html)


def report_filename(report: dict[str, Any]) -> str:
    day = datetime.fromisoformat(report["generated_at"]).date()
    return f"{report['symbol']}-report-{day.isoformat()}.pdf"


def report_archive(*, ticker: str, user: Requester = None) -> Report:
    """Build and render a report and keep both the PDF and the JSON."""
    built = report_build(ticker=ticker, user=user)
    pdf = report_pdf(built)
    with transaction.atomic():
        archived = Report(
            symbol=built.symbol,
            backtest=built.backtest,
            forecast=built.forecast,
            size_bytes=len(pdf),
            snapshot=built.data,
            created_by=author_or_none(user),
        )
        archived.pdf.save(report_filename(built.data), ContentFile(pdf), save=False)
        archived.save()
    return archived
