"""Reports on adjusted prices: the JSON and the PDF state the mode, the actions applied
and the warnings, and the charts draw the series the work read."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from pypdf import PdfReader

from backtesting.models import BacktestRun
from ml.models import PredictionRun
from ml.services import model_train
from reporting import charts
from reporting.models import Report
from tests.split_series import SPLIT_DAY, record_action, split_symbol

pytestmark = pytest.mark.django_db

SPLIT_WORDS = (
    f"4-for-1 split effective {SPLIT_DAY.isoformat()} (earlier prices \u00d7 0.25)"
)
AS_TRADED_WARNING = (
    f"Prices are as traded (adjust=none): the 4:1 split of SPLT on "
    f"{SPLIT_DAY.isoformat()} shows as a jump."
)


@pytest.fixture
def modelled():
    symbol = split_symbol()
    model_train(ticker="SPLT")
    return symbol


def report(client, query: str = "") -> dict:
    response = client.get(f"/report/SPLT/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def pdf_words(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def test_the_json_report_states_the_split_adjustment_of_every_part(
    token_client, modelled
):
    body = report(token_client)

    adjustment = body["adjustment"]
    assert adjustment["mode"] == "splits"
    assert [a["date"] for a in adjustment["actions"]] == [SPLIT_DAY.isoformat()]
    assert adjustment["label"] == "split-adjusted (adjust=splits)"
    assert adjustment["applied_display"] == f"Applied: {SPLIT_WORDS}."
    assert body["warnings"] == []
    backtest = body["backtest"]
    assert backtest["run"]["adjustment"]["mode"] == "splits"
    assert backtest["run"]["adjustment"]["actions"] == adjustment["actions"]
    assert backtest["metrics"]["total_return_pct"] > 30  # no phantom loss
    assert (
        "on split-adjusted prices, so this report ran the default" in (backtest["note"])
    )
    assert body["forecast"]["adjustment"]["mode"] == "splits"
    assert BacktestRun.objects.get().adjust == "splits"
    assert PredictionRun.objects.get().adjust == "splits"


def test_a_report_on_as_traded_prices_warns_and_keeps_its_runs_apart(
    token_client, modelled
):
    adjusted = report(token_client)
    traded = report(token_client, "?adjust=none")

    assert traded["adjustment"]["mode"] == "none"
    assert traded["adjustment"]["actions"] == []
    assert traded["warnings"] == [AS_TRADED_WARNING]
    assert traded["backtest"]["warnings"] == [AS_TRADED_WARNING]
    assert traded["backtest"]["run"]["id"] != adjusted["backtest"]["run"]["id"]
    assert traded["backtest"]["metrics"]["total_return_pct"] < -60
    assert traded["forecast"]["id"] != adjusted["forecast"]["id"]
    assert traded["forecast"]["adjustment"]["mode"] == "none"
    assert sorted(BacktestRun.objects.values_list("adjust", flat=True)) == [
        "none",
        "splits",
    ]


def test_the_pdf_says_the_adjustment_the_actions_and_the_warnings(
    token_client, modelled
):
    ex_date = SPLIT_DAY + timedelta(days=28)
    record_action(modelled, kind="dividend", day=ex_date, dividend_amount=Decimal(1))
    total = report(token_client, "?adjust=total")

    text = pdf_words(token_client.get("/report/SPLT/?format=pdf&adjust=total").content)
    traded = pdf_words(token_client.get("/report/SPLT/?format=pdf&adjust=none").content)

    assert "Prices: total return, splits and dividends (adjust=total)" in text
    assert total["adjustment"]["description"] in text
    assert total["adjustment"]["applied_display"] in text
    assert SPLIT_WORDS in text
    assert f"dividend of 1 per share, ex-date {ex_date.isoformat()}" in text
    assert "Prices: as traded, not adjusted (adjust=none)" in traded
    assert AS_TRADED_WARNING in traded
    assert "No corporate action was applied." in traded
    assert "Prices are as traded (adjust=none)" not in text


def test_a_report_after_a_split_is_recorded_runs_the_latest_backtest_again(
    token_client,
):
    symbol = split_symbol("SPLT", recorded=False)
    first = token_client.get("/backtest/SPLT/5000/?fast=20&slow=100").json()
    record_action(symbol, kind="split", day=SPLIT_DAY, split_factor=Decimal(4))

    backtest = report(token_client)["backtest"]

    assert backtest["run"]["id"] != first["id"]
    assert backtest["run"]["parameters"]["fast"] == 20
    assert backtest["run"]["parameters"]["initial_investment"] == "5000.00"
    assert backtest["run"]["adjustment"]["actions"][0]["date"] == (
        SPLIT_DAY.isoformat()
    )
    assert backtest["note"] == (
        f"Corporate actions recorded since backtest #{first['id']} change its "
        f"prices, so this report ran it again on the current split-adjusted prices "
        f"(#{backtest['run']['id']})."
    )


def test_the_charts_draw_the_series_of_the_reports_mode(
    token_client, modelled, monkeypatch
):
    drawn: dict[str, list[float]] = {}

    def recording(name, chart):
        def draw(*args, **kwargs):
            drawn[name] = args[1]  # the closes
            return chart(*args, **kwargs)

        return draw

    monkeypatch.setattr(charts, "price_chart", recording("price", charts.price_chart))
    monkeypatch.setattr(
        charts, "forecast_chart", recording("forecast", charts.forecast_chart)
    )

    for mode in ("splits", "none"):
        response = token_client.get(f"/report/SPLT/?format=pdf&adjust={mode}")
        assert response.status_code == 200
        price, history = drawn["price"], drawn["forecast"]
        # Split-adjusted, the series never jumps by the split's factor.
        biggest_fall = max(a / b for a, b in pairwise(price))
        assert (biggest_fall > 3.5) == (mode == "none"), mode
        assert history[-1] == pytest.approx(
            float(PredictionRun.objects.filter(adjust=mode).get().last_close)
        )


@pytest.mark.parametrize("query", ["?adjust=dividends", "?format=pdf&adjust=x"])
def test_an_invalid_adjust_is_400_and_nothing_is_run(token_client, modelled, query):
    response = token_client.get(f"/report/SPLT/{query}")

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": "adjust"}
    assert not BacktestRun.objects.exists()
    assert not PredictionRun.objects.exists()


def test_a_queued_report_keeps_the_mode_of_its_job(
    modelled, django_capture_on_commit_callbacks
):
    from core.models import Job
    from core.services import job_enqueue

    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.REPORT, symbol=modelled, parameters={"adjust": "none"}
        )

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    archived = Report.objects.get()
    assert archived.snapshot["adjustment"]["mode"] == "none"
    assert archived.snapshot["warnings"] == [AS_TRADED_WARNING]
    assert archived.backtest.adjust == archived.forecast.adjust == "none"
