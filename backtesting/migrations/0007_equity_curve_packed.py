"""The equity curve of a run as packed bytes (backtesting.equity_series) instead of JSON.

The layout is written out here rather than imported, so this migration keeps meaning
what it meant if the module changes: int32 day offsets from the run's start date, then
float64 equity, then float64 buy-and-hold equity, little-endian.
"""

from datetime import date

import numpy as np
from django.db import migrations, models


def _pack(curve, start_date):
    shift = (date.fromisoformat(curve["start"]) - start_date).days
    offsets = np.asarray(curve["day_offsets"], dtype=np.int64) + shift
    return b"".join(
        [
            offsets.astype("<i4").tobytes(),
            np.asarray(curve["equity"], dtype="<f8").tobytes(),
            np.asarray(curve["buy_hold"], dtype="<f8").tobytes(),
        ]
    )


def _unpack(data, start_date):
    raw = bytes(data)
    bars = len(raw) // 20
    offsets = np.frombuffer(raw, dtype="<i4", count=bars)
    values = np.frombuffer(raw, dtype="<f8", count=2 * bars, offset=4 * bars)
    return {
        "start": start_date.isoformat(),
        "day_offsets": offsets.astype(np.int64).tolist(),
        "equity": values[:bars].tolist(),
        "buy_hold": values[bars:].tolist(),
    }


def pack_curves(apps, schema_editor):
    BacktestRun = apps.get_model("backtesting", "BacktestRun")
    runs = BacktestRun.objects.only("id", "start_date", "equity_curve_json")
    for run in runs.iterator(chunk_size=200):
        run.equity_curve = _pack(run.equity_curve_json, run.start_date)
        run.save(update_fields=["equity_curve"])


def unpack_curves(apps, schema_editor):
    BacktestRun = apps.get_model("backtesting", "BacktestRun")
    runs = BacktestRun.objects.only("id", "start_date", "equity_curve")
    for run in runs.iterator(chunk_size=200):
        run.equity_curve_json = _unpack(run.equity_curve, run.start_date)
        run.save(update_fields=["equity_curve_json"])


class Migration(migrations.Migration):
    dependencies = [
        ("backtesting", "0006_research"),
    ]

    operations = [
        migrations.RenameField("backtestrun", "equity_curve", "equity_curve_json"),
        migrations.AlterField(
            "backtestrun", "equity_curve_json", models.JSONField(null=True)
        ),
        migrations.AddField(
            "backtestrun", "equity_curve", models.BinaryField(default=b"")
        ),
        migrations.RunPython(pack_curves, unpack_curves),
        migrations.RemoveField("backtestrun", "equity_curve_json"),
        migrations.AlterField("backtestrun", "equity_curve", models.BinaryField()),
    ]
