# Hindcasts (DESIGN §10): a forecast as of a past day from a model trained on the bars
# up to it. The model is stored as a hindcast model (purpose=hindcast), outside the
# registry's version count and never active; the forecast is marked is_hindcast and
# is one per symbol, day and series. Rows stored before this are live.

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ml", "0003_adjusted_series"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="trainedmodel",
            options={
                "base_manager_name": "all_objects",
                "default_manager_name": "objects",
                "ordering": ["-trained_at", "-id"],
                "permissions": [("train_model", "Can train forecasting models")],
                "verbose_name": "model",
            },
        ),
        migrations.AlterModelManagers(
            name="trainedmodel",
            managers=[
                ("all_objects", django.db.models.manager.Manager()),
                ("objects", django.db.models.manager.Manager()),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="trainedmodel",
            name="model_version",
        ),
        migrations.AddField(
            model_name="predictionrun",
            name="is_hindcast",
            field=models.BooleanField(default=False, verbose_name="hindcast"),
        ),
        migrations.AddField(
            model_name="trainedmodel",
            name="based_on",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="hindcast_models",
                to="ml.trainedmodel",
            ),
        ),
        migrations.AddField(
            model_name="trainedmodel",
            name="purpose",
            field=models.CharField(
                choices=[
                    ("live", "Live (the registry)"),
                    ("hindcast", "Hindcast (trained on bars up to a past day)"),
                ],
                default="live",
                max_length=10,
            ),
        ),
        migrations.AddConstraint(
            model_name="predictionrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_hindcast", True)),
                fields=("symbol", "as_of", "adjust", "actions_digest"),
                name="one_hindcast_per_day_and_series",
            ),
        ),
        migrations.AddConstraint(
            model_name="trainedmodel",
            constraint=models.UniqueConstraint(
                condition=models.Q(("purpose", "live")),
                fields=("symbol", "version"),
                name="model_version",
            ),
        ),
        migrations.AddConstraint(
            model_name="trainedmodel",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("purpose", "live"), ("is_active", False), _connector="OR"
                ),
                name="hindcast_model_never_active",
            ),
        ),
    ]
