# Before the unique constraint of 0004 (one stored run per symbol, parameters and
# bars, DESIGN §10): runs stored more than once (the same request on the same data
# gives the same results) are folded into the oldest of them; reports and job links
# that named a copy name it instead. A migration of its own, because PostgreSQL
# refuses to alter a table in the transaction that deleted rows other rows refer to.

from django.db import migrations
from django.db.models import Count, Min

INPUTS = (
    "symbol",
    "fast",
    "slow",
    "initial_investment",
    "commission",
    "start_date",
    "end_date",
    "bar_count",
)


def fold_copies_into_the_first_run(apps, schema_editor):
    BacktestRun = apps.get_model("backtesting", "BacktestRun")
    Report = apps.get_model("reporting", "Report")
    Job = apps.get_model("core", "Job")
    ContentType = apps.get_model("contenttypes", "ContentType")
    run_type = ContentType.objects.filter(
        app_label="backtesting", model="backtestrun"
    ).first()
    groups = (
        BacktestRun.objects.order_by()
        .values(*INPUTS)
        .annotate(runs=Count("id"), first=Min("id"))
        .filter(runs__gt=1)
    )
    for group in list(groups):
        first = group.pop("first")
        group.pop("runs")
        copies = list(
            BacktestRun.objects.filter(**group)
            .exclude(pk=first)
            .values_list("pk", flat=True)
        )
        Report.objects.filter(backtest_id__in=copies).update(backtest_id=first)
        if run_type is not None:
            Job.objects.filter(result_type=run_type, result_id__in=copies).update(
                result_id=first
            )
        # Their trades go with them (CASCADE): the first run holds the same ones.
        BacktestRun.objects.filter(pk__in=copies).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("backtesting", "0002_permissions"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0003_permissions"),
        # Reports point at runs; the fold moves them onto the run that stays.
        ("reporting", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            fold_copies_into_the_first_run, migrations.RunPython.noop
        ),
    ]
