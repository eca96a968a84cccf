from django.apps import AppConfig


class MlConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ml"
    verbose_name = "Forecasting"

    def ready(self) -> None:
        from core.job_tasks import job_task_register
        from core.models import Job

        job_task_register(kind=Job.Kind.TRAIN, task="ml.tasks.train_model_task")
        job_task_register(kind=Job.Kind.PREDICT, task="ml.tasks.forecast_task")
