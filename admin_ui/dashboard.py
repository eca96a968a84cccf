"""The admin's home page: what is tracked, what ran, and what needs attention."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.urls import reverse

from backtesting.selectors import latest_runs_ranked
from core.data_quality import problems_filter, symbols_facts_of
from core.formatting import signed_pct
from core.models import Job, Symbol
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


def _data_quality(now: datetime, symbol_count: int) -> dict[str, Any]:
    """How many symbols have a data-quality problem, and the first few of them:
    two queries of the symbol table, from the figures the writers of bars keep."""
    with_problems = Symbol.objects.filter(problems_filter(now))
    shown = list(with_problems.order_by("ticker")[:SHOWN])
    facts = symbols_facts_of(shown, now=now)
    return {
        "count": with_problems.count(),
        "symbols": symbol_count,
        "rows": [
            {
                "label": symbol.ticker,
                "note": ", ".join(p.label for p in facts[symbol.pk].problems),
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
    symbols = Symbol.objects.aggregate(
        count=Count("pk"),
        active=Count("pk", filter=Q(is_active=True)),
        # Each symbol's bar count is kept by the writer of bars: summing 1,000 rows
        # instead of counting millions of bars.
        bars=Coalesce(Sum("bar_count"), 0),
    )
    jobs_url = reverse("admin:core_job_changelist")
    context.update(
        {
            "kpis": [
                {
                    "label": "Symbols tracked",
                    "value": f"{symbols['active']:,}",
                    "note": f"of {symbols['count']:,} symbols",
                },
                {
                    "label": "Price bars stored",
                    "value": f"{symbols['bars']:,}",
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
            "data_quality": _data_quality(now, symbols["count"]),
        }
    )
    return context
