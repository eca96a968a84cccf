# Each run records the price series it read (DESIGN §10): the adjustment mode, the
# corporate actions applied and their digest, which join what defines a run. Runs
# stored before this ran on the bars as traded, so they are marked adjust=none with
# no action applied; new runs default to split-adjusted prices.

from django.db import migrations, models

# sha256 of "[]": the digest of an adjustment that applied no action.
NO_ACTIONS_DIGEST = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
MODES = [("splits", "splits"), ("total", "total"), ("none", "none")]


class Migration(migrations.Migration):
    dependencies = [
        ("backtesting", "0004_backtest_inputs_unique"),
    ]

    operations = [
        migrations.AddField(
            model_name="backtestrun",
            name="adjust",
            field=models.CharField(
                choices=MODES,
                default="none",
                help_text="Price series: splits (split-adjusted), total (splits and dividends) or none (as traded).",
                max_length=10,
            ),
        ),
        migrations.AlterField(
            model_name="backtestrun",
            name="adjust",
            field=models.CharField(
                choices=MODES,
                default="splits",
                help_text="Price series: splits (split-adjusted), total (splits and dividends) or none (as traded).",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="backtestrun",
            name="adjustment",
            field=models.JSONField(default={"mode": "none", "actions": []}),
        ),
        migrations.AlterField(
            model_name="backtestrun",
            name="adjustment",
            field=models.JSONField(default=dict),
        ),
        migrations.AddField(
            model_name="backtestrun",
            name="actions_digest",
            field=models.CharField(default=NO_ACTIONS_DIGEST, max_length=64),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(
            model_name="backtestrun",
            name="backtest_inputs_unique",
        ),
        migrations.AddConstraint(
            model_name="backtestrun",
            constraint=models.UniqueConstraint(
                fields=(
                    "symbol",
                    "fast",
                    "slow",
                    "initial_investment",
                    "commission",
                    "adjust",
                    "actions_digest",
                    "start_date",
                    "end_date",
                    "bar_count",
                ),
                name="backtest_inputs_unique",
            ),
        ),
    ]
