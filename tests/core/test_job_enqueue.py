"""One way to queue a background Job: every kind, every caller, and Retry."""

from __future__ import annotations

import pytest
from django.utils.module_loading import import_string

from core.job_tasks import job_task_for
from core.models import Job
from core.services import job_enqueue, job_fail, job_retry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", Job.Kind.values)
def test_every_kind_of_job_has_a_registered_task_that_imports(kind):
    task = import_string(job_task_for(kind))
    assert callable(task)


def test_an_unknown_kind_is_refused_before_any_job_is_written():
    with pytest.raises(LookupError, match="No task is registered"):
        job_enqueue(kind="launch", symbol="ACME")
    assert not Job.objects.exists()


def test_a_job_is_handed_to_the_queue_only_once_committed(
    acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_enqueue(
            kind=Job.Kind.BACKTEST,
            symbol=acme,
            parameters={"initial_investment": "1000", "fast": 10, "slow": 30},
        )
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert (job.status, job.task_id, job.symbol, job.ticker) == (
        Job.Status.QUEUED,
        "",
        acme,
        "ACME",
    )


def test_a_queued_backtest_runs_its_kinds_task_and_ends_succeeded(
    acme, django_capture_on_commit_callbacks
):
    # The test settings run Django-Q2 synchronously, so committing runs the task.
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.BACKTEST,
            symbol=acme,
            parameters={"initial_investment": "1000", "fast": 10, "slow": 30},
        )
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    assert job.task_id
    assert job.result_object.symbol == acme


def test_a_fetch_for_a_ticker_not_stored_yet_keeps_the_ticker(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        job = job_enqueue(kind=Job.Kind.FETCH, symbol="NEWCO")
    assert (job.ticker, job.symbol) == ("NEWCO", None)


def test_retry_queues_a_new_job_asking_for_the_same_work(
    acme, admin_user, django_capture_on_commit_callbacks
):
    parameters = {"initial_investment": "1000", "fast": 10, "slow": 30}
    with django_capture_on_commit_callbacks(execute=False):
        failed = job_enqueue(kind=Job.Kind.BACKTEST, symbol=acme, parameters=parameters)
    job_fail(job=failed, message="The worker stopped.")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = job_retry(job=failed, user=admin_user)
    assert again.pk != failed.pk
    assert len(callbacks) == 1
    assert (again.kind, again.symbol, again.parameters, again.created_by) == (
        Job.Kind.BACKTEST,
        acme,
        parameters,
        admin_user,
    )
