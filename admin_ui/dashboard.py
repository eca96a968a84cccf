"""The admin's home page: what is tracked, what ran, and what needs attention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from backtesting.selectors import latest_runs_ranked
from core.data_quality import Problem, symbols_with_problems
from core.formatting import signed_pct
from core.models import Job, PriceBar, Symbol
from core.selectors import job_counts_since, job_outcomes_by_day, stale_symbols
from ingestion.selectors import provider_calls_today, watchlist_refresh_plan

STALE_AFTER = timedelta(days=3)
CHART_DAYS = 14
SHOWN = 5


def _run_row(run: Any) -> dict[str, str]:
    return {
        "label": f"{run.symbol.ticker} SMA {run.fast}/{run.slow}",
        "value": signed_pct(run.total_return_pct),
        "tone": "up" if run.total_return_pct > 0 else "down",
        "url": reverse("admin:backtesting_backtestrun_change", args=[run.pk]),
    }


def _data_quality(with_problems: dict[int, list[Problem]]) -> dict[str, Any]:
    """How many symbols have a data-quality problem, and the first few of them."""
    shown = Symbol.objects.filter(pk__in=list(with_problems)).order_by("ticker")[:SHOWN]
    return {
        "count": len(with_problems),
        "symbols": Symbol.objects.count(),
        "rows": [
            {
                "label": symbol.ticker,
                "note": ", ".join(p.label for p in with_problems[symbol.pk]),
                "url": reverse("admin:core_symbol_change", args=[symbol.pk]),
            }
            for symbol in shown
        ],
        "url": f"{reverse('admin:core_symbol_changelist')}?data_quality=problems",
    }


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(tz=UTC)
    today = datetime.combine(now.date(), datetime.min.time(), UTC)
    jobs_today = job_counts_since(today)
    jobs_day = job_counts_since(now - timedelta(days=1))
    used, limit = provider_calls_today()
    plan = watchlist_refresh_plan(now=now)
    ranked = latest_runs_ranked()
    outcomes = job_outcomes_by_day(CHART_DAYS, now=now)
    failed_recent = Job.objects.filter(
        status=Job.Status.FAILED, created_at__gte=now - timedelta(days=1)
    )[:SHOWN]
    stale = list(stale_symbols(older_than=STALE_AFTER, now=now)[:SHOWN])
    with_problems = symbols_with_problems(now=now)
    jobs_url = reverse("admin:core_job_changelist")
    context.update(
        {
            "kpis": [
                {
                    "label": "Symbols tracked",
                    "value": f"{Symbol.objects.filter(is_active=True).count():,}",
                    "note": f"of {Symbol.objects.count():,} symbols",
                },
                {
                    "label": "Price bars stored",
                    "value": f"{PriceBar.objects.count():,}",
                    "note": "daily bars, all symbols",
                },
                {
                    "label": "Jobs today",
                    "value": f"{sum(jobs_today.values()):,}",
                    "note": f"{jobs_day.get(Job.Status.FAILED, 0):,} failed in the last 24 hours",
                },
                {
                    "label": "Alpha Vantage calls today",
                    "value": f"{used:,} of {limit:,}",
                    "note": (
                        f"{plan.calls_left:,} left (UTC day)"
                        if plan.calls_left is not None
                        else "no key set: fetches use offline sample data"
                    ),
                },
            ],
            "best_runs": [_run_row(run) for run in ranked[:3]],
            "worst_runs": [_run_row(run) for run in reversed(ranked[-3:])]
            if len(ranked) > 3
            else [],
            "outcomes_chart": json.dumps(
                {
                    "labels": [f"{row['day']:%b %d}" for row in outcomes],
                    "datasets": [
                        {
                            "label": "Succeeded",
                            "data": [row["succeeded"] for row in outcomes],
                            "backgroundColor": "#16a34a",
                        },
                        {
                            "label": "Failed",
                            "data": [row["failed"] for row in outcomes],
                            "backgroundColor": "#dc2626",
                        },
                    ],
                }
            ),
            "failed_jobs": [
                {
                    "label": f"{job.get_kind_display()} {job.ticker}",
                    "note": job.error[:120],
                    "url": reverse("admin:core_job_change", args=[job.pk]),
                }
                for job in failed_recent
            ],
            "failed_jobs_url": f"{jobs_url}?status__exact=failed",
            "stale_symbols": [
                {
                    "label": symbol.ticker,
                    "note": (
                        f"last fetched {symbol.last_fetched_at:%Y-%m-%d}"
                        if symbol.last_fetched_at
                        else "never fetched"
                    ),
                    "url": reverse("admin:core_symbol_change", args=[symbol.pk]),
                }
                for symbol in stale
            ],
            "waiting_for_budget": [symbol.ticker for symbol in plan.waiting],
            "data_quality": _data_quality(with_problems),
        }
    )
    return context
