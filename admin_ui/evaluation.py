"""What model and forecast pages share: the walk-forward table and the room it needs."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.formatting import NONE, money, plain_pct
from ml.evaluation import BEATS_NAIVE, WORSE_THAN_NAIVE
from ml.models import TrainedModel
from ml.selectors import evaluation_summary, verdict_summary

# unfold caps a read-only value at max-w-2xl; tables and charts need the room.
WIDE = "max-w-none"
_TONES = {
    BEATS_NAIVE: "text-green-700 dark:text-green-400",
    WORSE_THAN_NAIVE: "text-red-700 dark:text-red-400",
}


def evaluation_table(model: TrainedModel) -> SafeString:
    """The walk-forward record at 1, 5 and 30 days, model beside naive and drift,
    each with its Diebold-Mariano verdict."""
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
                "band_out_of_sample": horizon["band"]["out_of_sample"],
                "beats": ours["mae"] < naive["mae"],
                "verdict": horizon["verdict"],
                "tone": _TONES.get(horizon["verdict"], ""),
                "p_value": _p(horizon["p_value"]),
                "drift_mae": money(horizon["drift"]["mae"])
                if horizon["drift"]
                else NONE,
                "vs_drift": horizon["vs_drift"]["verdict"],
                "drift_p_value": _p(horizon["vs_drift"]["p_value"]),
            }
        )
    return render_to_string(
        "admin_ui/model_evaluation.html",
        {
            "rows": rows,
            "method": summary["method"],
            "band_method": summary["band_method"],
            "tested": summary["significance_test"],
            "first_origin_date": summary["first_origin_date"],
        },
    )


def verdict_tone(verdict: str) -> str:
    """The text colour of a verdict: green beats naive, red worse, else plain."""
    return _TONES.get(verdict, "")


def verdict_html(model: TrainedModel) -> SafeString:
    """The verdict in words, to state before any forecast figure."""
    verdict = verdict_summary(model)
    return format_html(
        '<p id="forecast-verdict"><strong class="{}">{}</strong><br>{}</p>',
        _TONES.get(verdict["summary"], ""),
        verdict["summary"][:1].upper() + verdict["summary"][1:],
        verdict["text"],
    )


def _p(value: float | None) -> str:
    if value is None:
        return NONE
    return "< 0.001" if value < 0.001 else f"{value:.3f}"
