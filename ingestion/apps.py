from django.apps import AppConfig


class IngestionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ingestion"
    verbose_name = "Ingestion"

    def ready(self) -> None:
        from django_q.models import Schedule

        from core.job_tasks import job_task_register
        from core.models import Job
        from core.schedules import ScheduleSpec, schedule_register

        job_task_register(kind=Job.Kind.FETCH, task="ingestion.tasks.fetch_prices_task")
        schedule_register(
            ScheduleSpec(
                name="Nightly watchlist refresh",
                func="ingestion.tasks.refresh_watchlist_task",
                schedule_type=Schedule.DAILY,
                # After the US close (16:00 New York) in summer and winter time.
                at_utc=(22, 30),
            )
        )
