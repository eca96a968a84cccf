"""Django-Q2 entry point for reports: build, render and archive one."""

from __future__ import annotations

from typing import Any

from core.adjustment import DEFAULT_ADJUST
from core.models import Job
from core.tasks import JobOutcome, run_job
from reporting.services import parse_report_choice, report_archive


def _report(job: Job) -> JobOutcome:
    """{"adjust"}, {"backtest": id} or {"sweep": id}, checked as /report/ checks them."""
    parameters = job.parameters
    backtest_id, sweep_id = parse_report_choice(
        {name: str(parameters.get(name) or "") for name in ("backtest", "sweep")}
    )
    # Jobs queued before adjustment existed, and the admin's bulk action, name none;
    # a chosen run or sweep reads its own series.
    adjust = parameters.get("adjust") or None
    if adjust is None and backtest_id is None and sweep_id is None:
        adjust = DEFAULT_ADJUST
    archived = report_archive(
        ticker=job.ticker,
        adjust=None if adjust is None else str(adjust),
        user=job.created_by,
        backtest_id=backtest_id,
        sweep_id=sweep_id,
    )
    return JobOutcome(
        result={
            "report": archived.pk,
            "size_bytes": archived.size_bytes,
            "backtest": archived.backtest_id,
            "sweep": sweep_id,
        },
        produced=archived,
        symbol=archived.symbol,
    )


def generate_report_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _report)
