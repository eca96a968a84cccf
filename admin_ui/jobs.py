"""Jobs: what staff watch after an admin action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import RangeDateTimeFilter
from unfold.decorators import action, display

from admin_ui.bases import RecordsOnly, badge, dialog_done
from admin_ui.forms import JobDialogForm
from admin_ui.permissions import RUN_PERMISSIONS, may_run
from core.models import Job
from core.services import job_retry

STATUS_COLOURS = {
    Job.Status.QUEUED: "info",
    Job.Status.RUNNING: "warning",
    Job.Status.SUCCEEDED: "success",
    Job.Status.FAILED: "danger",
}


def job_badge(status: str, href: str | None = None) -> SafeString:
    """A Job status as the coloured badge the Jobs pages and the task queue show."""
    return badge(Job.Status(status).label, STATUS_COLOURS[Job.Status(status)], href)


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
    actions_detail = ["retry_detail"]

    @display(description="Status", ordering="status")
    def status_badge(self, obj: Job) -> SafeString:
        return job_badge(obj.status)

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

    def has_retry_permission(
        self, request: HttpRequest, object_id: int | str | None = None
    ) -> bool:
        """Retrying queues the job's work again: the permission of its kind.

        On the list, the action is there for whoever may run some kind; on a job's
        page the button is there when the job failed and its kind is the user's.
        """
        if object_id is None:
            return any(may_run(request.user, kind) for kind in RUN_PERMISSIONS)
        job = self.get_object(request, str(object_id))
        # An id naming no job passes here, so that the button's URL answers 404.
        return job is None or (
            job.status == Job.Status.FAILED and may_run(request.user, job.kind)
        )

    @action(description="Retry failed jobs", icon="replay", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        """Queue a new Job with the same request for each failed one; others are skipped."""
        chosen = list(queryset)
        failed = [job for job in chosen if job.status == Job.Status.FAILED]
        allowed = [job for job in failed if may_run(request.user, job.kind)]
        for job in allowed:
            job_retry(job=job, user=request.user)
        notes = []
        if skipped := len(chosen) - len(failed):
            notes.append(f"{skipped} not failed")
        if refused := len(failed) - len(allowed):
            notes.append(f"{refused} of a kind you may not run")
        note = f" ({', '.join(notes)}, left alone)" if notes else ""
        self.message_user(
            request,
            f"Queued {len(allowed)} new job(s){note}.",
            messages.SUCCESS if allowed else messages.WARNING,
        )

    @action(
        description="Retry",
        url_path="retry",
        icon="replay",
        permissions=["retry"],
        dialog={
            "title": "Retry this job?",
            "description": (
                "A new job asks for the same work with the same parameters; this "
                "one stays as it is, with its error."
            ),
            "form_class": JobDialogForm,
            "form_submit_text": "Queue again",
        },
    )
    def retry_detail(
        self, request: HttpRequest, form: JobDialogForm, object_id: str
    ) -> HttpResponse:
        new = job_retry(job=form.object, user=request.user)
        self.message_user(
            request,
            f"Queued job #{new.pk}, a retry of job #{form.object.pk}.",
            messages.SUCCESS,
        )
        return dialog_done(request, reverse("admin:core_job_change", args=[new.pk]))
