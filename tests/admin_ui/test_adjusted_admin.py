"""The admin asks which price series a backtest, forecast or report reads, and shows it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from backtesting.models import BacktestRun
from backtesting.params import DEFAULT_BACKTEST
from backtesting.services import backtest_run_create
from core.models import Job
from ml.models import PredictionRun
from ml.services import model_train
from reporting.models import Report
from tests.admin_ui.conftest import confirm_dialog
from tests.split_series import SPLIT_DAY, split_symbol

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:core_symbol_changelist"


def symbol_button(symbol, path: str) -> str:
    change = reverse("admin:core_symbol_change", args=[symbol.pk])
    return change.replace("change/", f"{path}/")


def test_the_run_backtest_form_offers_the_price_series_and_stores_it(
    admin_client, django_capture_on_commit_callbacks
):
    symbol = split_symbol()
    url = reverse(CHANGELIST)
    form = admin_client.post(
        url, {"action": "run_backtest", "_selected_action": [symbol.pk]}
    ).content.decode()
    assert "Prices" in form and "As traded, not adjusted" in form
    assert 'value="splits" selected' in form

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            url,
            {
                "action": "run_backtest",
                "_selected_action": [symbol.pk],
                "apply": "1",
                "initial_investment": "10000",
                "fast": "50",
                "slow": "200",
                "commission": "0",
                "adjust": "none",
            },
        )

    job = Job.objects.get()
    assert job.parameters["adjust"] == "none"
    run = BacktestRun.objects.get()
    assert (job.status, run.adjust) == (Job.Status.SUCCEEDED, "none")
    page = admin_client.get(
        reverse("admin:backtesting_backtestrun_change", args=[run.pk])
    ).content.decode()
    assert "adjust=none: no corporate action applied" in page


def test_a_backtest_form_with_an_unknown_series_queues_nothing(admin_client):
    symbol = split_symbol()
    page = admin_client.post(
        reverse(CHANGELIST),
        {
            "action": "run_backtest",
            "_selected_action": [symbol.pk],
            "apply": "1",
            "initial_investment": "10000",
            "fast": "50",
            "slow": "200",
            "commission": "0",
            "adjust": "dividends",
        },
    ).content.decode()

    assert "Select a valid choice" in page
    assert not Job.objects.exists()


def test_the_backtest_page_shows_the_split_it_applied(admin_client):
    split_symbol()
    run = backtest_run_create(ticker="SPLT", params=DEFAULT_BACKTEST)

    page = admin_client.get(
        reverse("admin:backtesting_backtestrun_change", args=[run.pk])
    ).content.decode()

    assert f"adjust=splits: split {SPLIT_DAY.isoformat()} (4)" in page


@pytest.mark.parametrize(
    ("button", "kind"), [("forecast", Job.Kind.PREDICT), ("report", Job.Kind.REPORT)]
)
def test_the_forecast_and_report_buttons_ask_for_the_series(
    analyst_client, button, kind, django_capture_on_commit_callbacks
):
    symbol = split_symbol()
    model_train(ticker="SPLT")

    with django_capture_on_commit_callbacks(execute=True):
        dialog, done = confirm_dialog(
            analyst_client, symbol_button(symbol, button), {"adjust": "total"}
        )

    assert "As traded, not adjusted" in dialog.content.decode()
    assert done.status_code == 200
    job = Job.objects.get()
    assert (job.kind, job.parameters, job.status) == (
        kind,
        {"adjust": "total"},
        Job.Status.SUCCEEDED,
    )
    assert PredictionRun.objects.get().adjust == "total"
    if kind == Job.Kind.REPORT:
        assert Report.objects.get().snapshot["adjustment"]["mode"] == "total"


def test_the_list_actions_forecast_on_split_adjusted_prices(
    admin_client, django_capture_on_commit_callbacks
):
    symbol = split_symbol()
    model_train(ticker="SPLT")

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse(CHANGELIST),
            {"action": "forecast_30_days", "_selected_action": [symbol.pk]},
        )

    run = PredictionRun.objects.get()
    assert run.adjust == "splits"
    assert [a["date"] for a in run.adjustment["actions"]] == [SPLIT_DAY.isoformat()]
