"""core.tasks.run_job under re-delivery: a Job whose worker died runs again, within
max_attempts; a final Job is left alone; a task timeout still ends the Job."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_q.exceptions import TimeoutException

from core.models import Job
from core.services import job_create
from core.tasks import JobOutcome, run_job

pytestmark = pytest.mark.django_db


def left_running(*, attempts: int) -> Job:
    """A Job as a worker that died mid-task leaves it: running, attempts counted."""
    job = job_create(kind=Job.Kind.FETCH, ticker="ACME")
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, attempts=attempts, started_at=timezone.now()
    )
    return job


class Work:
    def __init__(self, error: BaseException | None = None) -> None:
        self.calls = 0
        self.error = error

    def __call__(self, job: Job) -> JobOutcome:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return JobOutcome(result={"attempt": job.attempts})


def test_a_job_whose_worker_died_runs_again_and_counts_the_attempt(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "max_attempts": 2}
    job = left_running(attempts=1)
    work = Work()

    assert run_job(job.pk, work) == {"job": job.pk, "status": Job.Status.SUCCEEDED}

    job.refresh_from_db()
    assert work.calls == 1
    assert (job.status, job.attempts, job.result) == (
        Job.Status.SUCCEEDED,
        2,
        {"attempt": 2},
    )


def test_past_max_attempts_the_job_fails_without_running_again(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "max_attempts": 2}
    job = left_running(attempts=2)
    work = Work()

    outcome = run_job(job.pk, work)

    job.refresh_from_db()
    assert work.calls == 0
    assert outcome == {"job": job.pk, "status": "failed", "error": "worker_lost"}
    assert (job.status, job.attempts, job.error_code) == ("failed", 2, "worker_lost")
    assert job.error.startswith("The worker stopped during each of the 2 attempts")
    assert job.finished_at is not None


def test_a_finished_job_delivered_again_is_left_alone():
    job = left_running(attempts=1)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED)
    work = Work()

    assert run_job(job.pk, work) == {"job": job.pk, "skipped": "already finished"}
    assert work.calls == 0
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_a_task_timeout_fails_the_job_and_still_stops_the_worker():
    job = job_create(kind=Job.Kind.FETCH, ticker="ACME")
    timeout = TimeoutException("Task exceeded maximum timeout value (3 seconds)")

    with pytest.raises(TimeoutException):
        run_job(job.pk, Work(error=timeout))

    job.refresh_from_db()
    assert (job.status, job.error_code, job.attempts) == ("failed", "timeout", 1)
    assert job.error == (
        "The job was stopped: Task exceeded maximum timeout value (3 seconds)."
    )
