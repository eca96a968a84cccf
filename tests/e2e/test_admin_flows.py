"""The admin as staff use it, in headless Chromium: every action's job runs on a real worker."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from backtesting.models import BacktestRun
from core.models import Job, PriceBar, Symbol
from ml.models import PredictionRun, TrainedModel
from reporting.models import Report
from tests.e2e.conftest import PASSWORD, TICKER, USERNAME

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.cluster,
    # The worker takes a few seconds to start: from the first test on, not on demand.
    pytest.mark.usefixtures("cluster"),
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]

JOB_TIMEOUT = 60.0


def select_and_run(page: Page, url, ticker: str, action: str) -> None:
    """Tick the symbol's row on the Symbols list and run an action on it."""
    page.goto(url("/admin/core/symbol/"))
    row = page.get_by_role("row").filter(has_text=ticker)
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option(label=action)
    page.get_by_role("button", name="Run", exact=True).click()


def wait_for_job(page: Page, url, kind: str, ticker: str = TICKER) -> None:
    """Reload the Jobs page until the job's row says Succeeded (fail fast on Failed)."""
    page.goto(url("/admin/core/job/"))
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        row = page.get_by_role("row").filter(has_text=kind).filter(has_text=ticker)
        expect(row).to_have_count(1)
        # The badge is upper-cased by CSS; the text itself is the status label.
        text = " ".join(row.inner_text().split()).lower()
        if "succeeded" in text:
            return
        if "failed" in text:
            failed = Job.objects.filter(status=Job.Status.FAILED).values(
                "kind", "error"
            )
            raise AssertionError(f"{kind} job failed: {list(failed)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{kind} job not done after {JOB_TIMEOUT} s: {text}")
        time.sleep(0.3)
        page.reload()


def test_log_in_through_the_login_form(page: Page, url, admin_account):
    page.goto(url("/admin/"))
    expect(page).to_have_url(re.compile(r"/admin/login/\?next=/admin/$"))

    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    expect(page.get_by_text("Please enter the correct username")).to_be_visible()

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()

    expect(page).to_have_url(url("/admin/"))
    expect(page.get_by_role("link", name="Symbols").first).to_be_visible()
    expect(page.get_by_text(USERNAME).first).to_be_visible()


def test_add_a_symbol_and_fetch_its_prices(admin_page: Page, url):
    page = admin_page
    page.goto(url("/admin/core/symbol/"))
    page.get_by_title("Add symbol").click()
    page.get_by_label("Ticker").fill("acme")
    page.get_by_label("Name").fill("Acme Corp")
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_text("was added successfully")).to_be_visible()
    assert Symbol.objects.filter(ticker=TICKER, name="Acme Corp").exists()

    select_and_run(page, url, TICKER, "Fetch prices")
    expect(page.get_by_text("Queued 1 fetch job(s)")).to_be_visible()

    wait_for_job(page, url, "Fetch prices")
    assert PriceBar.objects.filter(symbol__ticker=TICKER).count() > 500

    page.goto(url("/admin/core/symbol/"))
    row = page.get_by_role("row").filter(has_text=TICKER)
    expect(row).to_contain_text("June 7, 2024")


def test_run_a_backtest_and_open_the_run(admin_page: Page, url, acme):
    page = admin_page
    select_and_run(page, url, TICKER, "Run backtest")

    expect(
        page.get_by_role("heading", name="Run an SMA-crossover backtest")
    ).to_be_visible()
    page.get_by_label("Fast").fill("20")
    page.get_by_label("Slow").fill("60")
    page.get_by_role("button", name="Queue backtests").click()
    expect(page.get_by_text("Queued 1 backtest job(s)")).to_be_visible()

    wait_for_job(page, url, "Backtest")
    run = BacktestRun.objects.get()
    assert (run.fast, run.slow) == (20, 60)

    page.goto(url("/admin/backtesting/backtestrun/"))
    page.get_by_role("row").filter(has_text="20 / 60").get_by_role(
        "link", name=TICKER
    ).click()
    expect(page).to_have_url(url(f"/admin/backtesting/backtestrun/{run.pk}/change/"))
    expect(page.get_by_text("SMA 20 / 60, initial")).to_be_visible()
    for metric in ("Final equity", "Total return", "Max drawdown", "Sharpe"):
        expect(page.get_by_text(metric, exact=True).first).to_be_visible()
    chart = page.locator("[data-stockdesk-chart] canvas").first
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 100


def test_train_a_model_then_forecast_30_days(admin_page: Page, url, acme):
    page = admin_page
    select_and_run(page, url, TICKER, "Train model")
    expect(page.get_by_text("Queued 1 train model job(s)")).to_be_visible()
    wait_for_job(page, url, "Train model")
    assert TrainedModel.objects.get().is_active

    select_and_run(page, url, TICKER, "Forecast 30 days")
    expect(page.get_by_text("Queued 1 forecast job(s)")).to_be_visible()
    wait_for_job(page, url, "Forecast")
    forecast = PredictionRun.objects.get()

    page.goto(url("/admin/ml/predictionrun/"))
    page.get_by_role("row").filter(has_text=TICKER).get_by_role(
        "link", name=TICKER
    ).first.click()
    expect(page).to_have_url(url(f"/admin/ml/predictionrun/{forecast.pk}/change/"))
    expect(page.get_by_text("Predicted change")).to_be_visible()
    expect(page.locator("[data-stockdesk-chart] canvas").first).to_be_visible()
    assert forecast.predictions.count() == 30


def test_generate_a_report_and_download_the_pdf(admin_page: Page, url, acme):
    page = admin_page
    select_and_run(page, url, TICKER, "Generate report")
    expect(page.get_by_text("Queued 1 report job(s)")).to_be_visible()
    wait_for_job(page, url, "Report")

    page.goto(url("/admin/reporting/report/"))
    with page.expect_download() as info:
        page.get_by_role("row").filter(has_text=TICKER).get_by_role(
            "link", name="Download PDF"
        ).click()
    download = info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert Report.objects.count() == 1
