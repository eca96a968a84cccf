"""Shared reads of core's models."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.models import Job


def job_to_dict(job: Job) -> dict[str, Any]:
    return {
        "id": job.pk,
        "kind": job.kind,
        "symbol": job.ticker,
        "status": job.status,
        "parameters": job.parameters,
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": {"code": job.error_code, "message": job.error} if job.error else None,
        "result": job.result or None,
        "url": reverse("job-detail", args=[job.pk]),
    }
