"""Django-Q2 entry point for reports: build, render and archive one."""

from __future__ import annotations

from typing import Any

from core.models import Job
from core.tasks import JobOutcome, run_job
from reporting.services import report_archive


def _report(job: Job) -> JobOutcome:
    archived = report_archive(ticker=job.ticker, user=job.created_by)
    return JobOutcome(
        result={"report": archived.pk, "size_bytes": archived.size_bytes},
        produced=archived,
        symbol=archived.symbol,
    )


def generate_report_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _report)
