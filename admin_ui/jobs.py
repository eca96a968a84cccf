"""Jobs: what staff watch after an admin action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display

from admin_ui.bases import RecordsOnly
from core.models import Job
from core.services import job_retry

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
            job_retry(job=job, user=request.user)
        skipped = len(queryset) - len(failed)
        note = f" ({skipped} not failed, left alone)" if skipped else ""
        self.message_user(
            request, f"Queued {len(failed)} new job(s){note}.", messages.SUCCESS
        )
