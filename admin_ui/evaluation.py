"""What model and forecast pages share: the walk-forward table and the room it needs."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from core.formatting import money, plain_pct
from ml.models import TrainedModel
from ml.selectors import evaluation_summary

# unfold caps a read-only value at max-w-2xl; tables and charts need the room.
WIDE = "max-w-none"


def evaluation_table(model: TrainedModel) -> SafeString:
    """The walk-forward record at 1, 5 and 30 days, model beside naive."""
    summary = evaluation_summary(model)
    rows = []
    for horizon in summary["horizons"]:
        ours, naive = horizon["model"], horizon["naive"]
        rows.append(
            {
                "days": horizon["horizon_days"],
                "origins": f"{horizon['origins']:,}",
                "model_mae": money(ours["mae"]),
                "model_rmse": money(ours["rmse"]),
                "model_mape": plain_pct(ours["mape_pct"], 2),
                "hit_rate": plain_pct(ours["direction_hit_rate_pct"]),
                "naive_mae": money(naive["mae"]),
                "naive_rmse": money(naive["rmse"]),
                "naive_mape": plain_pct(naive["mape_pct"], 2),
                "inside_band": plain_pct(horizon["inside_band_pct"]),
                "beats": ours["mae"] < naive["mae"],
                "verdict": horizon["verdict"],
            }
        )
    return render_to_string(
        "admin_ui/model_evaluation.html",
        {
            "rows": rows,
            "method": summary["method"],
            "first_origin_date": summary["first_origin_date"],
        },
    )
