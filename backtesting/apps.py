from django.apps import AppConfig


class BacktestingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backtesting"
    verbose_name = "Backtesting"

    def ready(self) -> None:
        from core.job_tasks import job_task_register
        from core.models import Job

        job_task_register(
            kind=Job.Kind.BACKTEST, task="backtesting.tasks.run_backtest_task"
        )
        job_task_register(kind=Job.Kind.SWEEP, task="backtesting.tasks.run_sweep_task")
        job_task_register(
            kind=Job.Kind.COMPARE, task="backtesting.tasks.run_compare_task"
        )
