"""The shared shape of every background task: start the Job, do the work, end it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models
from django_q.exceptions import TimeoutException

from core.errors import StockDeskError
from core.log_config import request_id_bound
from core.models import Job, Symbol
from core.services import job_fail, job_start, job_succeed, jobs_sweep_stuck

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutcome:
    result: dict[str, Any] = field(default_factory=dict)
    produced: models.Model | None = None
    symbol: Symbol | None = None


def run_job(job_id: int, work: Callable[[Job], JobOutcome]) -> dict[str, Any]:
    """Run work for a Job and always leave the Job final.

    A re-delivered task finds the Job final and does nothing, so double delivery
    by the broker cannot do the work twice; it finds the Job still running when the
    worker of the last attempt died, and runs it again (job_start counts and caps
    the attempts).
    """
    # Every line logged while the Job runs names it, as a request's lines name the
    # request (a Job run in a request, with DJANGO_Q_SYNC, gives the request's back).
    with request_id_bound(f"job-{job_id}"):
        return _job_run(job_id, work)


def _job_run(job_id: int, work: Callable[[Job], JobOutcome]) -> dict[str, Any]:
    cluster: dict[str, Any] = settings.Q_CLUSTER
    job = job_start(job_id=job_id, max_attempts=cluster["max_attempts"])
    if job is None:
        return {"job": job_id, "skipped": "already finished"}
    if job.is_final:
        return {"job": job_id, "status": job.status, "error": job.error_code}
    try:
        outcome = work(job)
    except TimeoutException as exc:
        # Django-Q2 stops the task with this (a SystemExit) and, failures being
        # acknowledged, never hands it out again: end the Job here, on a fresh
        # connection (the alarm may have cut a query short), then let the worker go.
        if not connection.in_atomic_block:
            connection.close()
        job_fail(job=job, message=f"The job was stopped: {exc}.", code="timeout")
        raise
    except StockDeskError as exc:
        job_fail(job=job, message=exc.message, code=exc.code)
        return {"job": job_id, "status": Job.Status.FAILED, "error": exc.code}
    except Exception:
        logger.exception("Job %s (%s) failed unexpectedly", job_id, job.kind)
        job_fail(
            job=job,
            message="Unexpected error; the worker log has the details.",
            code="internal_error",
        )
        return {"job": job_id, "status": Job.Status.FAILED, "error": "internal_error"}
    job_succeed(
        job=job, result=outcome.result, produced=outcome.produced, symbol=outcome.symbol
    )
    return {"job": job_id, "status": Job.Status.SUCCEEDED}


def sweep_stuck_jobs_task() -> dict[str, int]:
    """Scheduled: fail Jobs left running or queued far past any task's lifetime."""
    cluster: dict[str, Any] = settings.Q_CLUSTER
    lifetime = cluster["retry"] * cluster.get("max_attempts", 1) + cluster["timeout"]
    return {
        "failed": jobs_sweep_stuck(
            running_for=timedelta(seconds=lifetime), queued_for=timedelta(hours=24)
        )
    }
