"""Django-Q2 entry points for models and forecasts; each calls one service."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.adjustment import DEFAULT_ADJUST
from core.models import Job
from core.tasks import JobOutcome, run_job
from ml.methods import DEFAULT_METHOD
from ml.services import forecast_create, hindcast_create, model_train


def _adjust(job: Job) -> str:
    # Jobs queued before adjustment existed, and the admin's bulk actions, name none.
    return str(job.parameters.get("adjust") or DEFAULT_ADJUST)


def _train(job: Job) -> JobOutcome:
    model = model_train(
        ticker=job.ticker,
        adjust=_adjust(job),
        # Jobs queued before there was a choice of method name none.
        method=str(job.parameters.get("method") or DEFAULT_METHOD),
        user=job.created_by,
    )
    return JobOutcome(
        result={
            "model": model.pk,
            "version": model.version,
            "method": model.method,
            "active": model.is_active,
        },
        produced=model,
        symbol=model.symbol,
    )


def _forecast(job: Job) -> JobOutcome:
    # A forecast Job naming an as_of day ({"as_of": "YYYY-MM-DD"}) is a hindcast.
    as_of = job.parameters.get("as_of")
    if as_of:
        run, created = hindcast_create(
            ticker=job.ticker,
            as_of=date.fromisoformat(str(as_of)),
            adjust=_adjust(job),
            user=job.created_by,
        )
    else:
        run, created = forecast_create(
            ticker=job.ticker, adjust=_adjust(job), user=job.created_by
        )
    return JobOutcome(
        result={
            "forecast": run.pk,
            "as_of": run.as_of.isoformat(),
            "new": created,
            "hindcast": run.is_hindcast,
        },
        produced=run,
        symbol=run.symbol,
    )


def train_model_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _train)


def forecast_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _forecast)
