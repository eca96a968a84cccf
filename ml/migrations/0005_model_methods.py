# More than one forecasting method (ml.methods): each model and forecast records its
# method, each model its library's version; one hindcast per method, day and series.
# Rows stored before this are the seed's linear regression, fitted by scikit-learn.

from django.conf import settings
from django.db import migrations, models


def _library_versions(apps, schema_editor):
    TrainedModel = apps.get_model("ml", "TrainedModel")
    for model in TrainedModel._base_manager.filter(library_version=""):
        model.library_version = f"scikit-learn {model.sklearn_version}"
        model.save(update_fields=["library_version"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_research"),
        ("ml", "0004_hindcasts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="predictionrun",
            name="one_hindcast_per_day_and_series",
        ),
        migrations.AddField(
            model_name="predictionrun",
            name="method",
            field=models.CharField(
                choices=[
                    ("linear_regression", "Linear regression"),
                    ("ets", "ETS (exponential smoothing)"),
                ],
                default="linear_regression",
                max_length=30,
            ),
        ),
        migrations.AddField(
            model_name="trainedmodel",
            name="library_version",
            field=models.CharField(default="", max_length=60),
        ),
        migrations.AddField(
            model_name="trainedmodel",
            name="method",
            field=models.CharField(
                choices=[
                    ("linear_regression", "Linear regression"),
                    ("ets", "ETS (exponential smoothing)"),
                ],
                default="linear_regression",
                max_length=30,
            ),
        ),
        migrations.AddConstraint(
            model_name="predictionrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("is_hindcast", True)),
                fields=("symbol", "method", "as_of", "adjust", "actions_digest"),
                name="one_hindcast_per_method_day_and_series",
            ),
        ),
        migrations.RunPython(_library_versions, migrations.RunPython.noop),
    ]
