"""PriceBar's own symbol_id index goes: the (symbol, date) unique index serves it.

Only the index is dropped. Django's AlterField would drop and re-add the foreign key
too, which on PostgreSQL checks every stored bar again (seconds at millions of bars).
"""

import django.db.models.deletion
from django.db import migrations, models

# The name Django gave the foreign key's index in 0001 (the same on every database).
INDEX = "core_pricebar_symbol_id_a7050dbc"


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_research"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="pricebar",
                    name="symbol",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="bars",
                        to="core.symbol",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "core_pricebar" ("symbol_id")',
                ),
            ],
        ),
    ]
