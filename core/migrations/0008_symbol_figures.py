"""The figures of each symbol's bars on Symbol, filled for the stored bars, and an
index on PriceBar.date for the Price bars list's order and date filters."""

from django.db import migrations, models

BATCH = 100  # symbols measured per pass: bounded memory at millions of bars


def figures_filled(apps, schema_editor):
    # The measuring is core.data_quality's, the one the writers use, so the rows
    # filled here equal what a later write stores. It reads only bars and splits.
    from core.data_quality import symbols_figures_measured

    symbol_model = apps.get_model("core", "Symbol")
    ids = list(symbol_model.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BATCH):
        measured = symbols_figures_measured(ids[start : start + BATCH])
        for pk, figures in measured.items():
            symbol_model.objects.filter(pk=pk).update(**figures)



class Migration(migrations.Migration):

    dependencies = [
        ('core', '0007_pricebar_symbol_index_dropped'),
    ]

    operations = [
        migrations.AddField(
            model_name='symbol',
            name='bar_count',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='symbol',
            name='closed_day_bars',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='symbol',
            name='first_bar_date',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='symbol',
            name='last_bar_date',
            field=models.DateField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name='symbol',
            name='last_close',
            field=models.DecimalField(blank=True, decimal_places=4, editable=False, max_digits=14, null=True),
        ),
        migrations.AddField(
            model_name='symbol',
            name='missing_sessions',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='symbol',
            name='source_count',
            field=models.PositiveSmallIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name='symbol',
            name='suspected_splits',
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddIndex(
            model_name='pricebar',
            index=models.Index(fields=['date'], name='pricebar_date'),
        ),
        migrations.RunPython(figures_filled, migrations.RunPython.noop),
    ]
