"""Django-Q2 entry point for reports: build, render and archive one."""

from __future__ import annotations

from typing import Any

from core.adjustment import DEFAULT_ADJUST
from core.models import Job
from core.tasks import JobOutcome, run_job
from reporting.services import report_archive


def _report(job: Job) -> JobOutcome:
    # Jobs queued before adjustment existed, and the admin's bulk action, name none.
    adjust = str(job.parameters.get("adjust") or DEFAULT_ADJUST)
    archived = report_archive(ticker=job.ticker, adjust=adjust, user=job.created_by)
    return JobOutcome(
        result={"report": archived.pk, "size_bytes": archived.size_bytes},
        produced=archived,
        symbol=archived.symbol,
    )


def generate_report_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _report)
