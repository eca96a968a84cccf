"""Reports: gather the backtest (the latest, or the run or sweep asked for) and the
forecast, build, render, archive."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from backtesting.models import BacktestRun, Sweep
from backtesting.params import DEFAULT_BACKTEST, BacktestParams, check_adjust
from backtesting.selectors import latest_backtest
from backtesting.services import backtest_run_create
from backtesting.sweep_selectors import heatmap, sweep_to_dict
from core.adjustment import DEFAULT_ADJUST
from core.data_quality import price_warnings
from core.errors import InvalidInput, NotFound, StockDeskError
from core.models import Symbol
from core.selectors import bars_adjusted, symbol_with_bars_get
from core.services import Requester, author_or_none
from ml.models import PredictionRun
from ml.selectors import active_model, latest_forecast
from ml.services import forecast_create
from reporting.adjustment_text import SERIES_NAMES
from reporting.builder import CHOSEN_LATEST, build_report
from reporting.charts_context import chart_images
from reporting.models import Report
from reporting.pdf import collector_paused, render_pdf
from reporting.research_text import sweep_section

# The sweep's metric the report's heatmap colours.
HEATMAP_METRIC = "sharpe"


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
            f"{symbol.ticker} has no active forecasting model. To train one, select "
            f"{symbol.ticker} in Admin → Symbols and run the Train model action; once "
            "its job is done, generate the report again."
        )
        if stored is None:
            return None, reason
        return stored, f"{reason} Shown: the latest stored forecast."
    try:
        run, _ = forecast_create(ticker=symbol.ticker, adjust=adjust, user=user)
    except StockDeskError as exc:
        return latest_forecast(symbol, adjust=adjust), f"No new forecast: {exc.message}"
    return run, ""


def _series_block(
    symbol: Symbol, adjust: str
) -> tuple[dict[str, Any], list[str], pd.DataFrame | None]:
    """The adjustment of the symbol's whole stored series, its price warnings, and the
    adjusted series itself, which the charts draw from rather than reading the bars
    again (None when its dividends cannot adjust it: the charts then read their own)."""
    warnings = price_warnings(symbol, start=None, end=None, adjust=adjust)
    try:
        series = bars_adjusted(symbol, adjust=adjust)
    except ValueError as exc:
        # core.adjustment refuses a dividend at or above the close before it.
        note = f"The recorded dividends cannot adjust the prices: {exc}."
        return {"mode": adjust, "actions": []}, [*warnings, note], None
    return series.block(), warnings, series.frame


# Ids beyond PostgreSQL's bigint are no row's: refused as input, not looked up.
MAX_ID = 2**63 - 1


def parse_report_choice(params: Mapping[str, str]) -> tuple[int | None, int | None]:
    """?backtest=<run id> and ?sweep=<sweep id>: absent or empty is None, each a
    positive integer, not both (InvalidInput)."""
    ids: dict[str, int | None] = {}
    for name in ("backtest", "sweep"):
        raw = (params.get(name) or "").strip()
        if not raw:
            ids[name] = None
            continue
        if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
            raise InvalidInput(
                f"{name} must be the id of a stored {name}, a positive whole number; "
                f"got {raw[:20]!r}.",
                code="invalid_parameter",
                details={"parameter": name},
            )
        ids[name] = int(raw)
    if ids["backtest"] is not None and ids["sweep"] is not None:
        raise InvalidInput(
            "Ask for a backtest or a sweep, not both.",
            code="invalid_parameter",
            details={"parameter": "backtest/sweep"},
        )
    return ids["backtest"], ids["sweep"]


def _chosen[Chosen: (BacktestRun, Sweep)](
    model: type[Chosen], symbol: Symbol, pk: int, what: str
) -> Chosen:
    """The backtest or sweep `pk` of `symbol`; one of another symbol is not found."""
    found = model.objects.filter(pk=pk).select_related("symbol").first()
    code = f"unknown_{what}"
    if found is None:
        raise NotFound(f"There is no {what} #{pk}.", code=code, details={what: pk})
    if found.symbol_id != symbol.pk:
        raise NotFound(
            f"{what.capitalize()} #{pk} is of {found.symbol.ticker}, not {symbol.ticker}.",
            code=code,
            details={what: pk, "symbol": symbol.ticker},
        )
    return found


def _chosen_run(symbol: Symbol, backtest_id: int) -> BacktestRun:
    return _chosen(BacktestRun, symbol, backtest_id, "backtest")


def _chosen_sweep(symbol: Symbol, sweep_id: int) -> Sweep:
    return _chosen(Sweep, symbol, sweep_id, "sweep")


def _mode_of(chosen: BacktestRun | Sweep, adjust: str | None, what: str) -> str:
    """The chosen work's price series; an `adjust` asking for another is refused,
    since one report reads one series."""
    if adjust is not None and adjust != chosen.adjust:
        raise InvalidInput(
            f"{what} ran on {SERIES_NAMES[chosen.adjust]} (adjust={chosen.adjust}); "
            f"leave adjust out or ask adjust={chosen.adjust}.",
            code="invalid_parameter",
            details={"parameter": "adjust"},
        )
    return chosen.adjust


def _best_pair_run(sweep: Sweep, user: Requester) -> tuple[BacktestRun | None, str]:
    """The sweep's in-sample best pair run on the sweep's whole period (stored once)."""
    if sweep.best_fast is None or sweep.best_slow is None:
        return None, f"Sweep #{sweep.pk} has no best pair: no pair of its grid ran."
    params = BacktestParams(
        initial_investment=sweep.initial_investment,
        fast=sweep.best_fast,
        slow=sweep.best_slow,
        start=sweep.start_date,
        end=sweep.end_date,
        commission=sweep.commission,
        adjust=sweep.adjust,
    )
    try:
        run = backtest_run_create(ticker=sweep.symbol.ticker, params=params, user=user)
    except StockDeskError as exc:
        return None, f"The sweep's best pair could not be run: {exc.message}"
    return run, (
        f"The in-sample best pair of sweep #{sweep.pk}, SMA {params.fast}/"
        f"{params.slow}, run on the sweep's whole period (backtest #{run.pk})."
    )


def _sweep_block(sweep: Sweep) -> dict[str, Any]:
    return sweep_section(sweep_to_dict(sweep), heatmap(sweep, HEATMAP_METRIC))


@dataclass(frozen=True)
class BuiltReport:
    symbol: Symbol
    data: dict[str, Any]
    backtest: BacktestRun | None
    forecast: PredictionRun | None
    # The report's whole price series (data["adjustment"]), for the charts.
    bars: pd.DataFrame | None = None


def report_build(
    *,
    ticker: str,
    adjust: str | None = None,
    user: Requester = None,
    backtest_id: int | None = None,
    sweep_id: int | None = None,
) -> BuiltReport:
    """The report as a plain dict: of the symbol's latest backtest, or of backtest
    `backtest_id`, or of sweep `sweep_id` (with its best pair's run), and the forecast.

    The price series is `adjust` (split-adjusted when None), or for a chosen run or
    sweep the one it ran on; an `adjust` naming another is InvalidInput. An id of no
    run or sweep of this symbol is NotFound; both ids at once is InvalidInput.
    """
    if backtest_id is not None and sweep_id is not None:
        raise InvalidInput(
            "Ask for a backtest or a sweep, not both.",
            code="invalid_parameter",
            details={"parameter": "backtest/sweep"},
        )
    if adjust is not None:
        check_adjust(adjust)
    symbol = symbol_with_bars_get(ticker)
    sweep_data: dict[str, Any] | None = None
    chosen: dict[str, Any] = CHOSEN_LATEST
    backtest: BacktestRun | None
    if backtest_id is not None:
        run = _chosen_run(symbol, backtest_id)
        adjust = _mode_of(run, adjust, f"Backtest #{run.pk}")
        backtest, backtest_note = run, ""
        chosen = {
            "kind": "backtest",
            "backtest": run.pk,
            "sweep": None,
            "display": f"Backtest #{run.pk}, as asked for",
        }
    elif sweep_id is not None:
        sweep = _chosen_sweep(symbol, sweep_id)
        adjust = _mode_of(sweep, adjust, f"Sweep #{sweep.pk}")
        backtest, backtest_note = _best_pair_run(sweep, user)
        sweep_data = _sweep_block(sweep)
        chosen = {
            "kind": "sweep",
            "backtest": backtest.pk if backtest else None,
            "sweep": sweep.pk,
            "display": f"Sweep #{sweep.pk} and its best pair's backtest",
        }
    else:
        adjust = adjust or DEFAULT_ADJUST
        backtest, backtest_note = _backtest_for(symbol, user, adjust)
    forecast, forecast_note = _forecast_for(symbol, user, adjust)
    adjustment, warnings, bars = _series_block(symbol, adjust)
    data = build_report(
        symbol=symbol,
        backtest=backtest,
        backtest_note=backtest_note,
        forecast=forecast,
        forecast_note=forecast_note,
        adjustment=adjustment,
        warnings=warnings,
        generated_at=timezone.now(),
        chosen=chosen,
        sweep=sweep_data,
    )
    return BuiltReport(
        symbol=symbol, data=data, backtest=backtest, forecast=forecast, bars=bars
    )


def _columns(rows: list[dict[str, Any]], count: int) -> list[list[dict[str, Any]]]:
    """rows in `count` side-by-side columns, the first ones the longest."""
    if not rows:
        return []
    size = -(-len(rows) // count)
    return [rows[start : start + size] for start in range(0, len(rows), size)]


def _forecast_columns(forecast: dict[str, Any]) -> list[list[dict[str, Any]]]:
    # Without an actual close yet, the table has three cells a day, not five, and
    # fits in three columns: a third of the height.
    rows = forecast.get("predictions", [])
    known = (forecast.get("realised") or {}).get("days_known")
    return _columns(rows, 2 if known else 3)


def report_pdf(built: BuiltReport) -> bytes:
    """Render the dict as the A4 PDF: the template shows exactly the dict's texts."""
    # The charts' figures are garbage of the render too (reporting.pdf.CollectorPause).
    with collector_paused():
        html = render_to_string(
            "reporting/report.html",
            {
                "report": built.data,
                "charts": chart_images(built.symbol, built.data, bars=built.bars),
                "forecast_columns": _forecast_columns(built.data["forecast"]),
            },
        )
        return render_pdf(html)


def report_filename(report: dict[str, Any]) -> str:
    day = datetime.fromisoformat(report["generated_at"]).date()
    return f"{report['symbol']}-report-{day.isoformat()}.pdf"


def report_archive(
    *,
    ticker: str,
    adjust: str | None = None,
    user: Requester = None,
    backtest_id: int | None = None,
    sweep_id: int | None = None,
) -> Report:
    """Build and render a report (report_build's choices) and keep the PDF and JSON."""
    built = report_build(
        ticker=ticker,
        adjust=adjust,
        user=user,
        backtest_id=backtest_id,
        sweep_id=sweep_id,
    )
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
