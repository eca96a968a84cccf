from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "StockDesk"

    def ready(self) -> None:
        from django_q.models import Schedule

        from core.schedules import ScheduleSpec, schedule_register

        schedule_register(
            ScheduleSpec(
                name="Sweep stuck jobs",
                func="core.tasks.sweep_stuck_jobs_task",
                schedule_type=Schedule.MINUTES,
                minutes=10,
            )
        )
