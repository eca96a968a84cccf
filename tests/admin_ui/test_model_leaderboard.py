"""The Models tab of a symbol's page: its forecasting models side by side, the
Activate link that makes one the active model, and the Train model button's method."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import Job
from ml.models import TrainedModel
from ml.services import model_train
from tests.admin_ui.conftest import confirm_dialog, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_models(acme):
    return model_train(ticker="ACME"), model_train(ticker="ACME", method="ets")


def _page(client, symbol) -> str:
    response = client.get(reverse("admin:core_symbol_change", args=[symbol.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _leaderboard(page: str) -> str:
    start = page.index('id="model-leaderboard"')
    return page[start : page.index("</table>", start)]


def test_the_models_tab_lists_both_methods_and_activates_the_one_chosen(
    admin_user, acme, two_models
):
    linear, ets = two_models
    client = logged_in(admin_user)
    board = _leaderboard(_page(client, acme))
    activate = reverse("admin:ml_trainedmodel_activate_detail", args=[ets.pk])

    assert "Linear regression" in board and "ETS (exponential smoothing)" in board
    assert board.count("Active</strong>") == 1
    assert activate in board
    assert reverse("admin:ml_trainedmodel_activate_detail", args=[linear.pk]) not in (
        board
    )

    dialog, done = confirm_dialog(client, activate)
    assert "Activate this model?" in dialog.content.decode()
    assert done.status_code == 200 and done.headers["HX-Redirect"]

    assert TrainedModel.objects.get(is_active=True) == ets
    board = _leaderboard(_page(client, acme))
    assert reverse("admin:ml_trainedmodel_activate_detail", args=[linear.pk]) in board
    assert activate not in board


def test_staff_who_may_not_activate_see_the_board_without_the_link(
    viewer_client, analyst_client, acme, two_models
):
    _, ets = two_models
    activate = reverse("admin:ml_trainedmodel_activate_detail", args=[ets.pk])
    for client in (viewer_client, analyst_client):
        board = _leaderboard(_page(client, acme))
        assert "ETS (exponential smoothing)" in board and activate not in board
        assert "Not active" in board


def test_a_models_page_shows_the_symbols_leaderboard(admin_client, acme, two_models):
    _, ets = two_models
    page = admin_client.get(
        reverse("admin:ml_trainedmodel_change", args=[ets.pk])
    ).content.decode()

    assert "Compared with the symbol" in page
    board = _leaderboard(page)
    assert "Linear regression" in board and "statsmodels" in page


def test_the_train_button_trains_the_method_chosen(
    admin_user, acme, django_capture_on_commit_callbacks
):
    model_train(ticker="ACME")
    client = logged_in(admin_user)
    url = f"/admin/core/symbol/{acme.pk}/train/"

    with django_capture_on_commit_callbacks(execute=True):
        dialog, done = confirm_dialog(
            client, url, {"method": "ets", "adjust": "splits"}
        )

    assert "Method" in dialog.content.decode()
    assert done.status_code == 200
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.parameters == {"adjust": "splits", "method": "ets"}
    assert job.result["method"] == "ets" and job.result["active"] is False
    ets = TrainedModel.objects.get(method="ets")
    assert job.result_object == ets and not ets.is_active
