"""A Job of kind compare runs comparison_create on its worker and links the comparison."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from backtesting.models import Comparison
from backtesting.params import BacktestParams
from core.models import Job
from core.services import job_enqueue
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


def test_a_compare_job_stores_the_comparison_and_links_it(
    acme, staff_user, django_capture_on_commit_callbacks
):
    wave = make_symbol("WAVE")
    make_bars(wave, start=date(2024, 1, 1), closes=price_closes(200, wave=15))
    params = BacktestParams(initial_investment=Decimal(1000), fast=10, slow=30)

    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.COMPARE,
            symbol=acme,
            parameters={"tickers": ["ACME", "WAVE"], **params.as_json()},
            user=staff_user,
        )

    job.refresh_from_db()
    comparison = Comparison.objects.get()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result_object == comparison
    assert job.result == {"comparison": comparison.pk, "symbols": ["ACME", "WAVE"]}
    assert comparison.created_by == staff_user
    assert comparison.runs.count() == 2


def test_a_compare_job_that_cannot_run_fails_saying_which_symbol(
    acme, django_capture_on_commit_callbacks
):
    short = make_symbol("SHORT")
    make_bars(short, start=date(2024, 1, 1), closes=price_closes(20, seed=2))
    params = BacktestParams(initial_investment=Decimal(1000), fast=10, slow=30)

    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.COMPARE,
            symbol=acme,
            parameters={"tickers": ["ACME", "SHORT"], **params.as_json()},
        )

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "SHORT has 20 bars" in job.error
    assert not Comparison.objects.exists()
