"""Django-Q2 entry points for ingestion; each takes a Job id and calls one service."""

from __future__ import annotations

from typing import Any

from core.models import Job
from core.selectors import symbol_get
from core.tasks import JobOutcome, run_job
from ingestion.services.fetch import prices_fetch, watchlist_refresh_enqueue


def _fetch(job: Job) -> JobOutcome:
    result = prices_fetch(ticker=job.ticker)
    symbol = symbol_get(result.symbol)
    return JobOutcome(result=result.as_dict(), produced=symbol, symbol=symbol)


def fetch_prices_task(job_id: int) -> dict[str, Any]:
    return run_job(job_id, _fetch)


def refresh_watchlist_task() -> dict[str, Any]:
    """The nightly schedule's entry: queue today's affordable watchlist fetches."""
    jobs = watchlist_refresh_enqueue()
    return {"queued": [job.ticker for job in jobs]}
