"""Hindcasts in the admin: marked in the forecasts list and on the page, filterable, and
their models kept out of the registry's list."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.urls import reverse

from ml.services import forecast_create, hindcast_create, model_train

pytestmark = pytest.mark.django_db

FORECASTS = "admin:ml_predictionrun_changelist"
AS_OF = date(2025, 6, 2)


@pytest.fixture
def runs(acme):
    live_model = model_train(ticker="ACME")
    live, _ = forecast_create(ticker="ACME")
    past, _ = hindcast_create(ticker="ACME", as_of=AS_OF)
    return live_model, live, past


def _change_url(run) -> str:
    return reverse("admin:ml_predictionrun_change", args=[run.pk])


def test_the_forecasts_list_marks_hindcasts_and_filters_them(admin_client, runs):
    _, live, past = runs
    page = admin_client.get(reverse(FORECASTS)).content.decode()
    assert re.search(r">\s*Hindcast\s*<", page) and re.search(r">\s*Forecast\s*<", page)
    assert "By hindcast" in page
    assert _change_url(live) in page and _change_url(past) in page

    only = admin_client.get(reverse(FORECASTS), {"is_hindcast__exact": "1"})
    listed = only.content.decode()
    assert _change_url(past) in listed and _change_url(live) not in listed
    assert "v1 (refit)" in listed


def test_a_hindcast_page_says_what_it_is_and_links_the_live_pipeline(
    admin_client, runs
):
    live_model, _, past = runs
    page = admin_client.get(_change_url(past)).content.decode()

    assert (
        "Hindcast: the forecast a model trained only on the bars up to 2025-06-02 "
        "would have made"
    ) in page
    assert "Hindcast model trained through 2025-06-02" in page
    assert reverse("admin:ml_trainedmodel_change", args=[live_model.pk]) in page


def test_the_models_list_holds_live_models_only(admin_client, runs):
    live_model, _, past = runs
    page = admin_client.get(reverse("admin:ml_trainedmodel_changelist"))
    text = page.content.decode()
    assert reverse("admin:ml_trainedmodel_change", args=[live_model.pk]) in text
    assert reverse("admin:ml_trainedmodel_change", args=[past.model_id]) not in text
