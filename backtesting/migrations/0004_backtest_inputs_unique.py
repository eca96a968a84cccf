# One stored run per symbol, parameters and bars (DESIGN §10); 0003 folded the
# runs stored more than once.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("backtesting", "0003_fold_repeated_runs"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="backtestrun",
            constraint=models.UniqueConstraint(
                fields=(
                    "symbol",
                    "fast",
                    "slow",
                    "initial_investment",
                    "commission",
                    "start_date",
                    "end_date",
                    "bar_count",
                ),
                name="backtest_inputs_unique",
            ),
        ),
    ]
