from django.apps import AppConfig


class ReportingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reporting"
    verbose_name = "Reports"

    def ready(self) -> None:
        from core.job_tasks import job_task_register
        from core.models import Job

        job_task_register(
            kind=Job.Kind.REPORT, task="reporting.tasks.generate_report_task"
        )
