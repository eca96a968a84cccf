"""Symbol.data_version: changed by every writer of a symbol's bars or actions."""

from django.db import migrations, models

import core.models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_symbol_figures"),
    ]

    operations = [
        migrations.AddField(
            model_name="symbol",
            name="data_version",
            field=models.BigIntegerField(
                default=core.models.new_data_version, editable=False
            ),
        ),
    ]
