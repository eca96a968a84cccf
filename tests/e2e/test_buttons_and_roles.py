"""The symbol and job pages' buttons, and what a Viewer sees, in headless Chromium.

A button opens a confirmation dialog (its GET queues nothing); the dialog's form
posts with the CSRF token and queues the Job, which a real worker then runs.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect

from backtesting.models import BacktestRun
from core.models import Job, Symbol
from core.services import job_create, job_fail
from tests.admin_ui.conftest import ROLE_PASSWORD, role_user
from tests.e2e.conftest import TICKER
from tests.e2e.test_admin_flows import JOB_TIMEOUT, wait_for_job

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.cluster,
    pytest.mark.usefixtures("cluster"),
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]


def open_symbol(page: Page, url, symbol: Symbol) -> None:
    page.goto(url(f"/admin/core/symbol/{symbol.pk}/change/"))


def status_badge(page: Page, status: str) -> Locator:
    """The Job page's status badge (upper-cased by CSS; the text is the label)."""
    return page.locator("span.uppercase", has_text=re.compile(rf"^\s*{status}\s*$"))


def button(page: Page, title: str) -> Locator:
    """A button of the page's action bar (its icon's name is part of the link text)."""
    return page.get_by_role("link", name=re.compile(f"{title}$"))


def test_the_fetch_button_asks_then_queues_a_fetch(admin_page: Page, url, acme):
    page = admin_page
    open_symbol(page, url, acme)

    button(page, "Fetch prices").click()
    dialog = page.locator("#dialog")
    expect(dialog.get_by_text("Fetch prices?")).to_be_visible()
    expect(dialog.get_by_text(TICKER, exact=True)).to_be_visible()
    assert not Job.objects.exists()  # the dialog is a GET: nothing queued yet

    dialog.get_by_role("button", name="Queue fetch").click()

    expect(page.get_by_text("Queued 1 fetch job(s)")).to_be_visible()
    expect(page).to_have_url(url(f"/admin/core/symbol/{acme.pk}/change/"))
    wait_for_job(page, url, "Fetch prices")
    assert Job.objects.get().created_by.username == "e2e-admin"


def test_the_backtest_button_asks_for_parameters_and_says_what_is_wrong(
    admin_page: Page, url, acme
):
    page = admin_page
    open_symbol(page, url, acme)
    button(page, "Backtest").click()
    dialog = page.locator("#dialog")
    expect(dialog.get_by_text("Run an SMA-crossover backtest")).to_be_visible()

    dialog.get_by_label("Fast").fill("60")
    dialog.get_by_label("Slow").fill("20")
    dialog.get_by_role("button", name="Queue backtest").click()
    expect(dialog.get_by_text("fast < slow")).to_be_visible()
    assert not Job.objects.exists()

    dialog.get_by_label("Fast").fill("20")
    dialog.get_by_label("Slow").fill("60")
    dialog.get_by_role("button", name="Queue backtest").click()

    expect(page.get_by_text("Queued 1 backtest job(s)")).to_be_visible()
    wait_for_job(page, url, "Backtest")
    run = BacktestRun.objects.get()
    assert (run.fast, run.slow) == (20, 60)


def test_a_failed_job_shows_a_badge_and_retries_from_its_page(
    admin_page: Page, url, acme
):
    page = admin_page
    # A kind no other test here runs: the module's one worker caches each content
    # type of what jobs produce, and the emptied database renumbers them per test.
    failed = job_create(kind=Job.Kind.TRAIN, ticker=TICKER, symbol=acme)
    job_fail(job=failed, message="The worker was stopped.", code="internal_error")

    page.goto(url(f"/admin/core/job/{failed.pk}/change/"))
    expect(page.get_by_text("The worker was stopped.")).to_be_visible()
    expect(status_badge(page, "Failed")).to_be_visible()
    expect(page.get_by_text("('failed', 'Failed')")).to_have_count(0)

    button(page, "Retry").click()
    page.locator("#dialog").get_by_role("button", name="Queue again").click()

    expect(page.get_by_text(f"a retry of job #{failed.pk}")).to_be_visible()
    new = Job.objects.exclude(pk=failed.pk).get()
    expect(page).to_have_url(url(f"/admin/core/job/{new.pk}/change/"))
    # The new job's own page, reloaded until its badge says the work is done.
    deadline = time.monotonic() + JOB_TIMEOUT
    while not status_badge(page, "Succeeded").count():
        assert not status_badge(page, "Failed").count(), Job.objects.get(
            pk=new.pk
        ).error
        assert time.monotonic() < deadline, "the retried job did not finish"
        time.sleep(0.3)
        page.reload()


def test_a_viewer_sees_the_data_but_no_work_to_start(page: Page, url, acme):
    role_user("desk-viewer", "Viewer")
    page.goto(url("/admin/login/?next=/admin/"))
    page.get_by_label("Username").fill("desk-viewer")
    page.get_by_label("Password").fill(ROLE_PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.I)).click()
    page.wait_for_url(url("/admin/"))

    page.goto(url("/admin/core/symbol/"))
    expect(page.get_by_role("row").filter(has_text=TICKER)).to_be_visible()
    options = page.locator("select[name=action] option").all_inner_texts()
    assert not {"Fetch prices", "Run backtest", "Train model"} & set(options)

    open_symbol(page, url, acme)
    expect(page.get_by_text(re.compile(r"520 bars from 2024-01-01"))).to_be_visible()
    expect(button(page, "Fetch prices")).to_have_count(0)
    expect(button(page, "Backtest")).to_have_count(0)

    refused = page.goto(url(f"/admin/core/symbol/{acme.pk}/fetch/"))
    assert refused is not None and refused.status == 403
    assert not Job.objects.exists()
