"""Jobs: what staff watch after an admin action."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display

from admin_ui.bases import RecordsOnly
from backtesting.services import BacktestParams, backtest_job_enqueue
from core.models import Job, Symbol
from ingestion.services import fetch_job_enqueue
from ml.services import ml_job_enqueue
from reporting.services import report_job_enqueue

STATUS_COLOURS = {
    Job.Status.QUEUED: "info",
    Job.Status.RUNNING: "warning",
    Job.Status.SUCCEEDED: "success",
    Job.Status.FAILED: "danger",
}


@admin.register(Job)
class JobAdmin(RecordsOnly, ModelAdmin):
    list_display = [
        "id",
        "kind",
        "ticker",
        "status_badge",
        "created_at",
        "duration",
        "attempts",
        "error",
    ]
    list_display_links = ["id", "kind"]
    list_filter = ["status", "kind", ("created_at", RangeDateTimeFilter)]
    list_filter_submit = True
    search_fields = ["ticker", "error", "task_id"]
    ordering = ["-created_at"]
    readonly_fields = [
        "kind",
        "ticker",
        "symbol",
        "status_badge",
        "parameters",
        "attempts",
        "task_id",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "duration",
        "error",
        "error_code",
        "result",
        "result_link",
    ]
    exclude = ["status", "result_type", "result_id"]
    actions = ["retry"]

    @display(description="Status", label=STATUS_COLOURS, ordering="status")
    def status_badge(self, obj: Job) -> tuple[str, str]:
        return obj.status, obj.get_status_display()

    @display(description="Duration")
    def duration(self, obj: Job) -> str:
        seconds = obj.duration_seconds
        return "—" if seconds is None else f"{seconds:,.1f} s"

    @display(description="Produced")
    def result_link(self, obj: Job) -> str:
        target = obj.result_object
        if target is None:
            return "—"
        meta = target._meta
        try:
            url = reverse(
                f"admin:{meta.app_label}_{meta.model_name}_change", args=[target.pk]
            )
        except NoReverseMatch:
            return str(target)
        return format_html('<a class="text-primary-600" href="{}">{}</a>', url, target)

    @action(description="Retry failed jobs", icon="replay")
    def retry(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        """Queue a new Job with the same request for each failed one; others are skipped."""
        failed = [job for job in queryset if job.status == Job.Status.FAILED]
        for job in failed:
            RETRY[job.kind](job, request.user)
        skipped = len(queryset) - len(failed)
        note = f" ({skipped} not failed, left alone)" if skipped else ""
        self.message_user(
            request, f"Queued {len(failed)} new job(s){note}.", messages.SUCCESS
        )


def _symbol(job: Job) -> Symbol:
    return job.symbol or Symbol.objects.get(ticker=job.ticker)


# How each kind of Job is asked for again; admin_ui is the floor that knows them all.
RETRY: dict[str, Callable[[Job, AbstractBaseUser], Job]] = {
    Job.Kind.FETCH: lambda job, user: fetch_job_enqueue(ticker=job.ticker, user=user),
    Job.Kind.BACKTEST: lambda job, user: backtest_job_enqueue(
        symbol=_symbol(job), params=BacktestParams.from_json(job.parameters), user=user
    ),
    Job.Kind.PREDICT: lambda job, user: ml_job_enqueue(
        kind=Job.Kind.PREDICT, symbol=_symbol(job), user=user
    ),
    Job.Kind.TRAIN: lambda job, user: ml_job_enqueue(
        kind=Job.Kind.TRAIN, symbol=_symbol(job), user=user
    ),
    Job.Kind.REPORT: lambda job, user: report_job_enqueue(
        symbol=_symbol(job), user=user
    ),
}
