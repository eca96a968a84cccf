"""Models and forecasts in the admin: lists, details, Activate, the Symbol actions, export."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils.html import escape

from core.formatting import money
from core.models import Job, PriceBar
from ml.models import PredictionRun, TrainedModel
from ml.selectors import evaluation_summary
from ml.services import forecast_create, model_train
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

MODELS = "admin:ml_trainedmodel_changelist"
FORECASTS = "admin:ml_predictionrun_changelist"


@pytest.fixture
def walk():
    """A symbol with 520 weekday bars of a seeded random walk: enough to train."""
    symbol = make_symbol("WALK", name="Random Walk Inc")
    closes = price_closes(520, drift=0.0004, volatility=0.015, seed=20_240_601)
    make_bars(symbol, start=date(2022, 1, 3), closes=closes)
    return symbol


@pytest.fixture
def model(walk) -> TrainedModel:
    return model_train(ticker="WALK")


@pytest.fixture
def run(model) -> PredictionRun:
    return forecast_create(ticker="WALK")[0]


def _active_versions() -> list[int]:
    return list(
        TrainedModel.objects.filter(is_active=True).values_list("version", flat=True)
    )


def test_the_models_list_shows_mae_beside_naive_and_which_is_active(
    admin_client, model
):
    page = admin_client.get(reverse(MODELS)).content.decode()
    assert "WALK" in page and "v1" in page
    for horizon in evaluation_summary(model)["horizons"]:
        assert money(horizon["model"]["mae"]) in page
        assert money(horizon["naive"]["mae"]) in page
    assert "Active" in page
    assert f"{model.train_start} to {model.train_end}" in page


def test_the_models_list_filters_by_symbol_and_state(admin_client, model):
    other = make_symbol("QUIET")
    url = reverse(MODELS)
    row_link = reverse("admin:ml_trainedmodel_change", args=[model.pk])
    by_symbol = admin_client.get(url, {"symbol__id__exact": other.pk})
    assert row_link not in by_symbol.content.decode()
    active = admin_client.get(url, {"is_active__exact": "1"})
    assert row_link in active.content.decode()


def test_the_model_detail_is_read_only_and_shows_the_evaluation_not_the_artifact(
    admin_client, model
):
    response = admin_client.get(
        reverse("admin:ml_trainedmodel_change", args=[model.pk])
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert model.algorithm in page
    assert "close_vs_sma_50" in page and model.sklearn_version in page
    assert model.sha256 in page
    assert "Direction hit" in page and "Naive (last close)" in page
    assert "1 day" in page and "5 days" in page and "30 days" in page
    verdicts = {h["verdict"] for h in evaluation_summary(model)["horizons"]}
    assert all(escape(v.capitalize()) in page for v in verdicts)
    assert "Artifact" not in page and 'name="sha256"' not in page
    assert admin_client.get(reverse("admin:ml_trainedmodel_add")).status_code == 403


def test_activate_switches_the_active_model_back_to_an_older_version(
    admin_client, model
):
    newer = model_train(ticker="WALK")
    assert _active_versions() == [2]

    page = admin_client.post(
        reverse(MODELS),
        {"action": "activate", "_selected_action": [model.pk]},
        follow=True,
    ).content.decode()

    assert "WALK model v1 is now active" in page
    model.refresh_from_db()
    newer.refresh_from_db()
    assert model.is_active and not newer.is_active


def test_activate_refuses_two_models_of_the_same_symbol(admin_client, model):
    newer = model_train(ticker="WALK")
    page = admin_client.post(
        reverse(MODELS),
        {"action": "activate", "_selected_action": [model.pk, newer.pk]},
        follow=True,
    ).content.decode()
    assert "select one model per symbol" in page and "Nothing changed" in page
    assert _active_versions() == [2]


def test_the_detail_page_activate_button_asks_then_activates(admin_client, model):
    newer = model_train(ticker="WALK")
    url = reverse("admin:ml_trainedmodel_activate_detail", args=[model.pk])
    detail = admin_client.get(reverse("admin:ml_trainedmodel_change", args=[model.pk]))
    assert url in detail.content.decode()

    confirm = admin_client.get(url)
    assert "Activate this model?" in confirm.content.decode()
    assert _active_versions() == [2]

    # The dialog posts through htmx, which follows HX-Redirect.
    done = admin_client.post(url, {"_form_submitted": "True"}, HTTP_HX_REQUEST="true")
    assert done.headers["HX-Redirect"] == reverse(
        "admin:ml_trainedmodel_change", args=[model.pk]
    )
    assert _active_versions() == [1]
    newer_page = admin_client.get(
        reverse("admin:ml_trainedmodel_change", args=[newer.pk])
    ).content.decode()
    assert reverse("admin:ml_trainedmodel_activate_detail", args=[newer.pk]) in (
        newer_page
    )


def test_staff_who_may_only_view_models_cannot_activate(client, staff_user, model):
    staff_user.user_permissions.add(
        Permission.objects.get(codename="view_trainedmodel")
    )
    newer = model_train(ticker="WALK")
    client.force_login(staff_user)
    client.post(reverse(MODELS), {"action": "activate", "_selected_action": [model.pk]})
    url = reverse("admin:ml_trainedmodel_activate_detail", args=[model.pk])
    assert client.post(url, {"_form_submitted": "True"}).status_code == 403
    newer.refresh_from_db()
    assert newer.is_active


def test_train_and_forecast_actions_queue_jobs_that_store_results(
    admin_client, walk, django_capture_on_commit_callbacks
):
    url = reverse("admin:core_symbol_changelist")
    with django_capture_on_commit_callbacks(execute=True):
        trained = admin_client.post(
            url, {"action": "train_model", "_selected_action": [walk.pk]}, follow=True
        )
    assert "Queued 1 train model job(s)" in trained.content.decode()
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result_object == TrainedModel.objects.get(symbol=walk, is_active=True)

    with django_capture_on_commit_callbacks(execute=True):
        forecast = admin_client.post(
            url,
            {"action": "forecast_30_days", "_selected_action": [walk.pk]},
            follow=True,
        )
    assert "Queued 1 forecast job(s)" in forecast.content.decode()
    job = Job.objects.get(kind=Job.Kind.PREDICT)
    assert job.status == Job.Status.SUCCEEDED, job.error
    run = PredictionRun.objects.get(symbol=walk)
    assert job.result_object == run and run.predictions.count() == 30


def test_a_forecast_without_a_model_fails_its_job_with_the_reason(
    admin_client, walk, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:core_symbol_changelist"),
            {"action": "forecast_30_days", "_selected_action": [walk.pk]},
        )
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert "no active model" in job.error


def test_the_forecasts_list_shows_the_run_with_its_figures(admin_client, run):
    page = admin_client.get(reverse(FORECASTS)).content.decode()
    day_30 = run.predictions.get(step=30).predicted_close
    assert "WALK" in page and "v1" in page
    assert money(run.last_close) in page and money(day_30) in page
    assert "0 of 30" in page


def test_the_forecasts_list_filters_by_as_of_range(admin_client, run):
    url = reverse(FORECASTS)
    row_link = reverse("admin:ml_predictionrun_change", args=[run.pk])
    after = admin_client.get(url, {"as_of_from": str(run.as_of.replace(day=1))})
    assert row_link in after.content.decode()
    before = admin_client.get(url, {"as_of_to": "2020-01-01"})
    assert row_link not in before.content.decode()


def test_the_forecast_detail_shows_chart_rows_and_the_models_evaluation(
    admin_client, run
):
    response = admin_client.get(reverse("admin:ml_predictionrun_change", args=[run.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-stockdesk-chart="forecast-chart-' in page and "Predicted close" in page
    assert "Lower (80 % band)" in page and "Upper (80 % band)" in page
    assert page.count("not yet") == 30
    assert "Naive (last close)" in page and "0 of 30" in page


def test_the_forecast_detail_shows_actual_and_error_once_the_bar_arrives(
    admin_client, run
):
    first = run.predictions.get(step=1)
    make_bars(run.symbol, start=first.date, closes=[float(first.predicted_close) + 2.5])
    actual = PriceBar.objects.get(symbol=run.symbol, date=first.date).close

    page = admin_client.get(
        reverse("admin:ml_predictionrun_change", args=[run.pk])
    ).content.decode()

    assert money(actual) in page
    assert "+2.50" in page  # actual minus predicted
    assert "1 of 30" in page and page.count("not yet") == 29
    listing = admin_client.get(reverse(FORECASTS)).content.decode()
    assert "1 of 30" in listing and "2.50" in listing  # realised MAE so far


def test_forecasts_export_one_row_per_predicted_day_to_xlsx(admin_client, run):
    first = run.predictions.get(step=1)
    make_bars(run.symbol, start=first.date, closes=[123.45])
    response = admin_client.post(
        reverse("admin:ml_predictionrun_export"), {"format": 1, "resource": 0}
    )
    assert response.status_code == 200, response.content[:500]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.values)
    assert list(header) == [
        "forecast",
        "symbol",
        "as_of",
        "model_version",
        "step",
        "date",
        "predicted_close",
        "lower",
        "upper",
        "actual_close",
    ]
    assert len(rows) == 30
    by_step = {row[header.index("step")]: row for row in rows}
    assert by_step[1][header.index("symbol")] == "WALK"
    assert float(by_step[1][header.index("actual_close")]) == 123.45
    assert by_step[2][header.index("actual_close")] in (None, "")


def test_forecasts_export_to_csv(admin_client, run):
    response = admin_client.post(
        reverse("admin:ml_predictionrun_export"), {"format": 0, "resource": 0}
    )
    assert response.status_code == 200, response.content[:500]
    lines = response.content.decode().strip().splitlines()
    assert lines[0].startswith("forecast,symbol,as_of,model_version,step,date")
    assert len(lines) == 31
    assert 'filename="forecasts-' in response["Content-Disposition"]


def test_forecasts_and_models_cannot_be_added_changed_or_deleted(admin_client, run):
    assert admin_client.get(reverse("admin:ml_predictionrun_add")).status_code == 403
    delete = reverse("admin:ml_predictionrun_delete", args=[run.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    delete = reverse("admin:ml_trainedmodel_delete", args=[run.model_id])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert PredictionRun.objects.exists() and TrainedModel.objects.exists()
