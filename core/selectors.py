"""Shared reads of core's models."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse

from core.models import Job, Symbol


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


def job_counts_since(since: datetime) -> dict[str, int]:
    """Jobs created since `since`, by status."""
    counts = (
        Job.objects.filter(created_at__gte=since)
        .values("status")
        .annotate(n=Count("id"))
    )
    return {row["status"]: row["n"] for row in counts}


def job_outcomes_by_day(days: int, *, now: datetime) -> list[dict[str, Any]]:
    """Succeeded and failed jobs per UTC day for the last `days` days, oldest first."""
    first = (now - timedelta(days=days - 1)).date()
    rows = (
        Job.objects.filter(created_at__date__gte=first, status__in=Job.FINAL_STATUSES)
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(n=Count("id"))
    )
    totals = {(row["day"], row["status"]): row["n"] for row in rows}
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        out.append(
            {
                "day": day,
                "succeeded": totals.get((day, Job.Status.SUCCEEDED), 0),
                "failed": totals.get((day, Job.Status.FAILED), 0),
            }
        )
    return out


def stale_symbols(*, older_than: timedelta, now: datetime) -> QuerySet[Symbol]:
    """Watchlist symbols never fetched, or not fetched for longer than `older_than`."""
    return Symbol.objects.filter(is_active=True).filter(
        Q(last_fetched_at__isnull=True) | Q(last_fetched_at__lt=now - older_than)
    )
