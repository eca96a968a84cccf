"""Jobs: what staff watch after an admin action."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import display

from core.models import Job

STATUS_COLOURS = {
    Job.Status.QUEUED: "info",
    Job.Status.RUNNING: "warning",
    Job.Status.SUCCEEDED: "success",
    Job.Status.FAILED: "danger",
}


@admin.register(Job)
class JobAdmin(ModelAdmin):
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

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: Job | None = None
    ) -> bool:
        return False
