"""Task queue: Django-Q2's own admin pages, restyled with unfold, behaviour unchanged."""

from __future__ import annotations

from django.contrib import admin
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success
from unfold.admin import ModelAdmin

for model in (Success, Failure, Schedule, OrmQ):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(Success)
class SuccessfulTaskAdmin(q_admin.TaskAdmin, ModelAdmin):
    pass


@admin.register(Failure)
class FailedTaskAdmin(q_admin.FailAdmin, ModelAdmin):
    pass


@admin.register(Schedule)
class ScheduledTaskAdmin(q_admin.ScheduleAdmin, ModelAdmin):
    pass


@admin.register(OrmQ)
class QueuedTaskAdmin(q_admin.QueueAdmin, ModelAdmin):
    pass
