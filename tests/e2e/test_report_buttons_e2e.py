"""Generate report on a backtest's page, in headless Chromium: the dialog queues a
report Job for that run (not the symbol's latest), which a real worker builds."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from core.models import Job
from reporting.models import Report
from tests.e2e.conftest import TICKER
from tests.e2e.test_admin_flows import JOB_TIMEOUT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.cluster,
    pytest.mark.usefixtures("cluster"),
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]


def test_generate_report_on_a_backtest_reports_that_run(admin_page: Page, url, acme):
    chosen = backtest_run_create(
        ticker=TICKER,
        params=BacktestParams(initial_investment=Decimal(5_000), fast=10, slow=30),
    )
    latest = backtest_run_create(
        ticker=TICKER,
        params=BacktestParams(initial_investment=Decimal(5_000), fast=20, slow=60),
    )
    assert latest.pk > chosen.pk
    page = admin_page
    page.goto(url(f"/admin/backtesting/backtestrun/{chosen.pk}/change/"))

    page.get_by_role("link", name=re.compile("Generate report$")).click()
    dialog = page.locator("#dialog")
    expect(dialog.get_by_text("Generate a report?")).to_be_visible()
    assert not Job.objects.exists()  # the dialog is a GET: nothing queued yet
    dialog.get_by_role("button", name="Queue report").click()

    expect(page).to_have_url(re.compile(r"/admin/core/job/\d+/change/$"))
    job = Job.objects.get(kind=Job.Kind.REPORT)
    assert job.parameters["backtest"] == chosen.pk
    expect(page).to_have_url(url(f"/admin/core/job/{job.pk}/change/"))
    deadline = time.monotonic() + JOB_TIMEOUT
    while not Report.objects.exists():
        job.refresh_from_db()
        assert job.status != Job.Status.FAILED, job.error
        assert time.monotonic() < deadline, "the report job did not finish"
        time.sleep(0.3)
    report = Report.objects.get()
    assert report.backtest_id == chosen.pk
    assert report.snapshot["backtest"]["run"]["parameters"]["fast"] == 10
