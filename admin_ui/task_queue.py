"""Task queue: Django-Q2's own admin pages, restyled with unfold, with each task's Job.

Django-Q2 files a task under "successful" when its function returned, and every Job
task returns (core.tasks.run_job records a failure on the Job and returns normally),
so a task's own success says nothing about the work. The task pages show the outcome
of the task's Job beside it, linked, and filter on it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.urls import reverse
from django.utils.safestring import SafeString
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success, Task
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from admin_ui.jobs import job_badge
from core.formatting import NONE
from core.models import Job

for model in (Success, Failure, Schedule, OrmQ):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class JobOutcomeFilter(admin.SimpleListFilter):
    title = "job outcome"
    parameter_name = "job_status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*Job.Status.choices, ("none", "No job")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> QuerySet:
        value = self.value()
        if value == "none":
            return queryset.filter(_job_status__isnull=True)
        if value in Job.Status.values:
            return queryset.filter(_job_status=value)
        return queryset


class JobTasks:
    """The Job a task ran (Job.task_id is the task's id), as a column and a field."""

    list_before_template = "admin_ui/task_queue_note.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        jobs = Job.objects.filter(task_id=OuterRef("id"))
        return (
            super()  # type: ignore[misc]
            .get_queryset(request)
            .annotate(
                _job_id=Subquery(jobs.values("pk")[:1]),
                _job_status=Subquery(jobs.values("status")[:1]),
            )
        )

    def get_list_display(self, request: HttpRequest) -> Any:
        return [*super().get_list_display(request), "job"]  # type: ignore[misc]

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [JobOutcomeFilter, *super().get_list_filter(request)]  # type: ignore[misc]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["job", *super().get_readonly_fields(request, obj)]  # type: ignore[misc]

    @display(description="Job", ordering="_job_status")
    def job(self, obj: Task) -> SafeString | str:
        job_id = getattr(obj, "_job_id", None)
        if job_id is None:
            return NONE
        url = reverse("admin:core_job_change", args=[job_id])
        return job_badge(obj._job_status, href=url)

    @action(
        description="Resubmit selected tasks to queue",
        icon="replay",
        permissions=["change"],
    )
    def resubmit(self, request: HttpRequest, queryset: QuerySet[Task]) -> None:
        # Django-Q2's own action, behind the change permission (superusers): a Job's
        # task finds its Job final and does nothing, a schedule's task (the nightly
        # refresh) queues real work. Jobs are retried from the Jobs page.
        q_admin.resubmit_task(self, request, queryset)
        self.message_user(  # type: ignore[attr-defined]
            request, f"Resubmitted {len(queryset)} task(s).", messages.SUCCESS
        )


@admin.register(Success)
class SuccessfulTaskAdmin(JobTasks, q_admin.TaskAdmin, ModelAdmin):
    actions = ["resubmit"]


@admin.register(Failure)
class FailedTaskAdmin(JobTasks, q_admin.FailAdmin, ModelAdmin):
    actions = ["resubmit"]


@admin.register(Schedule)
class ScheduledTaskAdmin(q_admin.ScheduleAdmin, ModelAdmin):
    pass


@admin.register(OrmQ)
class QueuedTaskAdmin(q_admin.QueueAdmin, ModelAdmin):
    pass
