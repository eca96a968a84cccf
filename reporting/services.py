"""Reports: gather the latest backtest and forecast, build, render, archive."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from backtesting.models import BacktestRun
from backtesting.params import DEFAULT_BACKTEST, BacktestParams, check_adjust
from backtesting.selectors import latest_backtest
from backtesting.services import backtest_run_create
from core.adjustment import DEFAULT_ADJUST
from core.data_quality import price_warnings
from core.errors import StockDeskError
from core.models import Symbol
from core.selectors import bars_adjusted, symbol_with_bars_get
from core.services import Requester, author_or_none
from ml.models import PredictionRun
from ml.selectors import active_model, latest_forecast
from ml.services import forecast_create
from reporting.adjustment_text import SERIES_NAMES
from reporting.builder import build_report
from reporting.charts_context import chart_images
from reporting.models import Report
from reporting.pdf import render_pdf


def _backtest_for(
    symbol: Symbol, user: Requester, adjust: str
) -> tuple[BacktestRun | None, str]:
    """The symbol's latest backtest on the `adjust` series, else the default one.

    The latest run is asked for again (the same parameters and bars): that answers
    it as stored unless corporate actions recorded since change its prices.
    """
    series = SERIES_NAMES[adjust]
    latest = latest_backtest(symbol, adjust=adjust)
    if latest is not None:
        again = BacktestParams(
            initial_investment=latest.initial_investment,
            fast=latest.fast,
            slow=latest.slow,
            start=latest.start_date,
            end=latest.end_date,
            commission=latest.commission,
            adjust=adjust,
        )
        try:
            run = backtest_run_create(ticker=symbol.ticker, params=again, user=user)
        except StockDeskError:
            return latest, ""
        if run.pk == latest.pk:
            return run, ""
        return run, (
            f"Corporate actions recorded since backtest #{latest.pk} change its "
            f"prices, so this report ran it again on the current {series} (#{run.pk})."
        )
    default = replace(DEFAULT_BACKTEST, adjust=adjust)
    try:
        run = backtest_run_create(ticker=symbol.ticker, params=default, user=user)
    except StockDeskError as exc:
        return None, f"No backtest: {exc.message}"
    return run, (
        f"No backtest had been run for {symbol.ticker} on {series}, so this report ran "
        f"the default one (SMA {default.fast}/{default.slow}, "
        f"{default.initial_investment:,.0f} invested, no commission)."
    )


def _forecast_for(
    symbol: Symbol, user: Requester, adjust: str
) -> tuple[PredictionRun | None, str]:
    if active_model(symbol) is None:
        stored = latest_forecast(symbol, adjust=adjust)
        reason = (
            f"{symbol.ticker} has no active forecasting model; train one with "
            f"`python manage.py train_model --symbol {symbol.ticker}` or Symbols → Train model."
        )
        if stored is None:
            return None, reason
        return stored, f"{reason} Shown: the latest stored forecast."
    try:
        run, _ = forecast_create(ticker=symbol.ticker, adjust=adjust, user=user)
    except StockDeskError as exc:
        return latest_forecast(symbol, adjust=adjust), f"No new forecast: {exc.message}"
    return run, ""


def _series_block(symbol: Symbol, adjust: str) -> tuple[dict[str, Any], list[str]]:
    """The adjustment of the symbol's whole stored series and its price warnings."""
    warnings = price_warnings(symbol, start=None, end=None, adjust=adjust)
    try:
        return bars_adjusted(symbol, adjust=adjust).block(), warnings
    except ValueError as exc:
        # core.adjustment refuses a dividend at or above the close before it.
        note = f"The recorded dividends cannot adjust the prices: {exc}."
        return {"mode": adjust, "actions": []}, [*warnings, note]


@dataclass(frozen=True)
class BuiltReport:
    symbol: Symbol
    data: dict[str, Any]
    backtest: BacktestRun | None
    forecast: PredictionRun | None


def report_build(
    *, ticker: str, adjust: str = DEFAULT_ADJUST, user: Requester = None
) -> BuiltReport:
    """The report of the symbol's latest backtest and forecast on the `adjust` price
    series (split-adjusted by default), as a plain dict."""
    check_adjust(adjust)
    symbol = symbol_with_bars_get(ticker)
    backtest, backtest_note = _backtest_for(symbol, user, adjust)
    forecast, forecast_note = _forecast_for(symbol, user, adjust)
    adjustment, warnings = _series_block(symbol, adjust)
    data = build_report(
        symbol=symbol,
        backtest=backtest,
        backtest_note=backtest_note,
        forecast=forecast,
        forecast_note=forecast_note,
        adjustment=adjustment,
        warnings=warnings,
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


def report_archive(
    *, ticker: str, adjust: str = DEFAULT_ADJUST, user: Requester = None
) -> Report:
    """Build and render a report and keep both the PDF and the JSON."""
    built = report_build(ticker=ticker, adjust=adjust, user=user)
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
