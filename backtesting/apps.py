from django.apps import AppConfig


class BacktestingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backtesting"
    verbose_name = "Backtesting"
