# At most one queued or running fetch Job per ticker. Fetches queued twice before
# this constraint existed are settled first: one per ticker is kept (a running one,
# else the oldest queued, which a worker would reach first) and the others end
# failed, so their tasks find them final and do nothing.

from django.db import migrations, models
from django.utils import timezone

ACTIVE = ["queued", "running"]


def fail_duplicate_active_fetches(apps, schema_editor):
    Job = apps.get_model("core", "Job")
    active = Job.objects.using(schema_editor.connection.alias).filter(
        kind="fetch", status__in=ACTIVE
    )
    kept = {}
    duplicates = []
    # "running" sorts after "queued": running Jobs come first, then oldest first.
    for job in active.order_by("-status", "created_at", "id"):
        if job.ticker in kept:
            duplicates.append(job.pk)
        else:
            kept[job.ticker] = job.pk
    if duplicates:
        active.filter(pk__in=duplicates).update(
            status="failed",
            finished_at=timezone.now(),
            error_code="duplicate",
            error=(
                "Another fetch of this symbol was queued or running at the same "
                "time; this one was not run."
            ),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_permissions"),
    ]

    operations = [
        migrations.RunPython(
            fail_duplicate_active_fetches, migrations.RunPython.noop, elidable=True
        ),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.UniqueConstraint(
                condition=models.Q(("kind", "fetch"), ("status__in", ACTIVE)),
                fields=("kind", "ticker"),
                name="job_one_active_fetch_per_ticker",
                violation_error_message=(
                    "A fetch of this symbol is already queued or running."
                ),
            ),
        ),
    ]
