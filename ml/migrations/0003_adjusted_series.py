# Models and forecasts record the price series they read (DESIGN §10): the
# adjustment mode and the corporate actions applied; a forecast's digest of them
# joins what makes it one stored forecast. Rows stored before this read the bars as
# traded, so they are marked adjust=none with no action applied; new ones default to
# split-adjusted prices.

from django.db import migrations, models

# sha256 of "[]": the digest of an adjustment that applied no action.
NO_ACTIONS_DIGEST = "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
MODES = [("splits", "splits"), ("total", "total"), ("none", "none")]
HELP = "Price series: splits (split-adjusted), total (splits and dividends) or none (as traded)."
AS_TRADED = {"mode": "none", "actions": []}


def mode_field(default):
    return models.CharField(choices=MODES, default=default, help_text=HELP, max_length=10)


class Migration(migrations.Migration):
    dependencies = [
        ("ml", "0002_permissions"),
    ]

    operations = [
        migrations.AddField("trainedmodel", "adjust", mode_field("none")),
        migrations.AlterField("trainedmodel", "adjust", mode_field("splits")),
        migrations.AddField(
            "trainedmodel", "adjustment", models.JSONField(default=AS_TRADED)
        ),
        migrations.AlterField(
            "trainedmodel", "adjustment", models.JSONField(default=dict)
        ),
        migrations.AddField("predictionrun", "adjust", mode_field("none")),
        migrations.AlterField("predictionrun", "adjust", mode_field("splits")),
        migrations.AddField(
            "predictionrun", "adjustment", models.JSONField(default=AS_TRADED)
        ),
        migrations.AlterField(
            "predictionrun", "adjustment", models.JSONField(default=dict)
        ),
        migrations.AddField(
            "predictionrun",
            "actions_digest",
            models.CharField(default=NO_ACTIONS_DIGEST, max_length=64),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(
            model_name="predictionrun", name="one_forecast_per_model_and_day"
        ),
        migrations.AddConstraint(
            model_name="predictionrun",
            constraint=models.UniqueConstraint(
                fields=("symbol", "model", "as_of", "adjust", "actions_digest"),
                name="one_forecast_per_model_day_and_series",
            ),
        ),
    ]
