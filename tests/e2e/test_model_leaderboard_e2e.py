"""Two forecasting methods in headless Chromium: train an ETS model from the symbol's
Train model button (a real worker fits it), compare it with the linear model on the
Models tab's leaderboard, and make it the active model from there."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from ml.models import TrainedModel
from ml.services import model_train
from tests.e2e.conftest import TICKER
from tests.e2e.test_admin_flows import JOB_TIMEOUT

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.cluster,
    pytest.mark.usefixtures("cluster"),
    # pytest-playwright 0.10's own base_url fixture, not ours.
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance"),
]


def test_train_ets_compare_it_and_activate_it(admin_page: Page, url, acme):
    linear = model_train(ticker=TICKER)
    page = admin_page
    page.goto(url(f"/admin/core/symbol/{acme.pk}/change/"))

    page.get_by_role("link", name=re.compile("Train model$")).click()
    dialog = page.locator("#dialog")
    expect(dialog.get_by_text("Train a forecasting model")).to_be_visible()
    dialog.get_by_label("Method").select_option(label="ETS (exponential smoothing)")
    dialog.get_by_role("button", name="Queue training").click()
    expect(page.get_by_text("Queued 1 train model job(s)")).to_be_visible()

    deadline = time.monotonic() + JOB_TIMEOUT
    while not TrainedModel.objects.filter(method="ets").exists():
        assert time.monotonic() < deadline, "the training job did not finish"
        time.sleep(0.3)
    ets = TrainedModel.objects.get(method="ets")
    assert not ets.is_active  # the linear model was active: staff choose

    page.reload()
    # unfold's fieldset tabs are anchors without an href, in a nav of their own.
    page.locator("nav > a", has_text=re.compile(r"^\s*Models\s*$")).click()
    board = page.locator("#model-leaderboard")
    expect(board).to_be_visible()
    ets_row = board.get_by_role("row").filter(has_text="ETS (exponential smoothing)")
    linear_row = board.get_by_role("row").filter(has_text="Linear regression")
    expect(linear_row).to_contain_text("Active")
    expect(ets_row).to_contain_text("Activate")

    ets_row.get_by_role("link", name="Activate").click()
    expect(dialog.get_by_text("Activate this model?")).to_be_visible()
    dialog.get_by_role("button", name="Activate").click()

    expect(page).to_have_url(url(f"/admin/ml/trainedmodel/{ets.pk}/change/"))
    expect(
        page.get_by_text(f"{TICKER} model v{ets.version} is now active")
    ).to_be_visible()
    ets.refresh_from_db()
    linear.refresh_from_db()
    assert ets.is_active and not linear.is_active
