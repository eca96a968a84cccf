"""Backtests in the admin: list, detail with chart and trades, export, the Run action."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse

from backtesting.models import BacktestRun
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from core.models import Job
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave():
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(symbol, start=date(2023, 1, 2), closes=price_closes(260, wave=15))
    return symbol


@pytest.fixture
def run(wave):
    return backtest_run_create(
        ticker="WAVE",
        params=BacktestParams(initial_investment=Decimal(10000), fast=10, slow=30),
    )


def test_the_list_shows_runs_with_formatted_figures(admin_client, run):
    page = admin_client.get(
        reverse("admin:backtesting_backtestrun_changelist")
    ).content.decode()
    assert "WAVE" in page
    assert "10 / 30" in page
    assert f"{run.total_return_pct:+,.2f} %".replace("-", "\u2212") in page


def test_the_detail_shows_metrics_chart_and_trades(admin_client, run):
    page = admin_client.get(
        reverse("admin:backtesting_backtestrun_change", args=[run.pk])
    ).content.decode()
    assert "Max drawdown" in page and "Sharpe" in page
    assert 'data-stockdesk-chart="equity-chart-' in page and "Buy and hold" in page
    first_trade = run.trades.first()
    assert (
        str(first_trade.entry_date) in page
        or first_trade.entry_date.strftime("%b") in page
    )
    assert page.count("closed_at_end") >= 1


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_runs_export_to_csv_and_xlsx(admin_client, run, file_format):
    index = {"csv": 0, "xlsx": 1}[file_format]
    response = admin_client.post(
        reverse("admin:backtesting_backtestrun_export"),
        {
            "format": index,
            "resource": 0,
            "backtestrunresource_id": "on",
            "backtestrunresource_symbol": "on",
            "backtestrunresource_total_return_pct": "on",
        },
    )
    assert response.status_code == 200, response.content[:500]
    if file_format == "csv":
        text = response.content.decode()
        assert "WAVE" in text and "total_return_pct" in text
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.values)
        assert "symbol" in rows[0]
        assert rows[1][rows[0].index("symbol")] == "WAVE"


def test_run_backtest_asks_for_parameters_then_queues_jobs(
    admin_client, wave, django_capture_on_commit_callbacks
):
    url = reverse("admin:core_symbol_changelist")
    form_page = admin_client.post(
        url, {"action": "run_backtest", "_selected_action": [wave.pk]}
    )
    assert form_page.status_code == 200
    assert "Queue backtests" in form_page.content.decode()
    assert not Job.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(
            url,
            {
                "action": "run_backtest",
                "_selected_action": [wave.pk],
                "apply": "1",
                "initial_investment": "5000",
                "fast": "10",
                "slow": "30",
                "commission": "0.001",
            },
            follow=True,
        )

    assert "Queued 1 backtest job(s)" in done.content.decode()
    job = Job.objects.get()
    assert job.kind == Job.Kind.BACKTEST and job.status == Job.Status.SUCCEEDED
    run = BacktestRun.objects.get()
    assert (run.fast, run.slow, run.initial_investment) == (10, 30, Decimal(5000))
    assert job.result_object == run


def test_run_backtest_with_bad_windows_shows_the_error_and_queues_nothing(
    admin_client, wave
):
    page = admin_client.post(
        reverse("admin:core_symbol_changelist"),
        {
            "action": "run_backtest",
            "_selected_action": [wave.pk],
            "apply": "1",
            "initial_investment": "5000",
            "fast": "50",
            "slow": "20",
            "commission": "0",
        },
    ).content.decode()
    assert "fast &lt; slow" in page or "fast < slow" in page
    assert not Job.objects.exists()


def test_a_failed_backtest_job_says_why(
    admin_client, django_capture_on_commit_callbacks
):
    short = make_symbol("SHORT")
    make_bars(short, start=date(2024, 1, 1), closes=[10.0] * 20)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:core_symbol_changelist"),
            {
                "action": "run_backtest",
                "_selected_action": [short.pk],
                "apply": "1",
                "initial_investment": "5000",
                "fast": "50",
                "slow": "200",
                "commission": "0",
            },
        )
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert job.error_code == "not_enough_data"
    assert "needs at least 202" in job.error
