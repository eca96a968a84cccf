"""Track records: per model, how its stored forecasts did on the days whose prices
arrived, live forecasts and hindcasts apart; on /predict/, the admin and the report,
growing as the nightly refresh stores new bars."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pypdf import PdfReader

from core.formatting import money
from core.market import BAR_COLUMNS
from ingestion.providers.base import ProviderResult
from ingestion.services.fetch import prices_fetch
from ml.models import PredictionRun
from ml.selectors import forecast_rows
from ml.services import forecast_create, hindcast_create, model_train
from ml.track_record import forecast_track_record, model_track_record, track_record
from ml.track_scores import ScoredDay, horizon_score, horizon_scores
from tests.factories import (
    ACME_BARS,
    ACME_START,
    make_bars,
    make_symbol,
    price_bars,
    price_closes,
    weekdays,
)
from tests.split_series import DAYS as SPLIT_DAYS
from tests.split_series import SPLIT_INDEX, split_symbol

# ACME's walk, of which TRK stores the first STORED bars; the rest arrive later.
CLOSES = price_closes(ACME_BARS, drift=0.0004, volatility=0.013, seed=5)
DAYS = weekdays(ACME_BARS, start=ACME_START)
STORED = 430
HINDCAST_DAYS = (DAYS[300], DAYS[340], DAYS[380])
SUMMARY = (1, 5, 30)


class Arriving:
    """A price provider answering the given bars, as the nightly refresh's fetch
    reads them (ingestion.services.fetch.prices_fetch)."""

    name = "sample"

    def __init__(self, closes: list[float], start: date) -> None:
        self.bars = price_bars(closes, start=start)

    def fetch_daily(self, symbol: str, since: date | None = None) -> ProviderResult:
        rows = [
            (bar.date, bar.open, bar.high, bar.low, bar.close, bar.volume)
            for bar in self.bars
        ]
        return ProviderResult(
            bars=pd.DataFrame(rows, columns=list(BAR_COLUMNS)), source="sample"
        )


def expected_scores(runs: list[PredictionRun], step: int) -> dict[str, float | int]:
    """The figures at one horizon from each forecast's own rows (forecast_rows, as
    its page shows them), for comparison."""
    rows = [
        (row, float(run.last_close))
        for run in runs
        for row in forecast_rows(run)
        if row["step"] == step and row["actual_close"] is not None
    ]
    mae = sum(abs(row["error"]) for row, _ in rows) / len(rows)
    naive = sum(abs(row["actual_close"] - close) for row, close in rows) / len(rows)
    inside = sum(row["inside_band"] for row, _ in rows) / len(rows) * 100
    return {
        "forecasts": len(rows),
        "mae": mae,
        "naive_mae": naive,
        "skill": 1 - mae / naive,
        "inside_band_pct": inside,
    }


def assert_matches(score: dict, expected: dict) -> None:
    assert score["forecasts"] == expected["forecasts"]
    for key in ("mae", "naive_mae", "skill", "inside_band_pct"):
        assert score[key] == pytest.approx(expected[key], rel=1e-9, abs=1e-9), key


def at(record_kind: dict, horizon: int) -> dict:
    return next(h for h in record_kind["horizons"] if h["horizon_days"] == horizon)


@pytest.fixture
def trk(db):
    symbol = make_symbol("TRK", name="Track Corp")
    make_bars(symbol, start=ACME_START, closes=CLOSES[:STORED])
    return symbol


@pytest.fixture
def made(trk):
    """TRK's live model, its forecast from the last bar, and three hindcasts."""
    model = model_train(ticker="TRK")
    live, _ = forecast_create(ticker="TRK")
    hindcasts = [hindcast_create(ticker="TRK", as_of=day)[0] for day in HINDCAST_DAYS]
    return model, live, hindcasts


# --- the arithmetic ------------------------------------------------------------------


def test_the_arithmetic_of_one_horizon():
    days = [
        # predicted, band, naive (the as-of close), actual
        ScoredDay(step=1, predicted=101, lower=99, upper=103, naive=100, actual=102),
        ScoredDay(step=1, predicted=99, lower=97, upper=101, naive=100, actual=95),
    ]
    score = horizon_score(1, days)

    assert score.forecasts == 2
    assert score.mae == pytest.approx((1 + 4) / 2)
    assert score.naive_mae == pytest.approx((2 + 5) / 2)
    assert score.skill == pytest.approx(1 - 2.5 / 3.5)
    assert score.inside_band_pct == pytest.approx(50.0)


def test_horizons_nothing_reached_yet_have_no_figures():
    days = [ScoredDay(step=2, predicted=1, lower=1, upper=1, naive=1, actual=1)]
    scores = horizon_scores(days, 3)

    assert [s.horizon_days for s in scores] == [1, 2, 3]
    assert scores[0].as_dict() == {
        "horizon_days": 1,
        "forecasts": 0,
        "mae": None,
        "naive_mae": None,
        "skill": None,
        "inside_band_pct": None,
    }
    # The naive forecast was never wrong: a skill would divide by zero.
    assert scores[1].forecasts == 1 and scores[1].mae == 0 and scores[1].skill is None


# --- stored forecasts and bars --------------------------------------------------------


def test_live_forecasts_and_hindcasts_are_reported_apart(made):
    model, _, hindcasts = made

    record = model_track_record(model)

    assert record["model"] == {
        "id": model.pk,
        "version": 1,
        "algorithm": model.algorithm,
    }
    assert record["prices_through"] == DAYS[STORED - 1].isoformat()
    # The live forecast starts at the last bar: none of its days has passed.
    assert record["live"]["forecasts"] == 1
    assert record["live"]["forecasts_scored"] == record["live"]["days_scored"] == 0
    assert all(h["mae"] is None for h in record["live"]["horizons"])
    hindcast = record["hindcast"]
    assert hindcast["forecasts"] == hindcast["forecasts_scored"] == 3
    assert [h["horizon_days"] for h in hindcast["horizons"]] == list(range(1, 31))
    assert [h["horizon_days"] for h in hindcast["summary"]] == list(SUMMARY)
    assert hindcast["days_scored"] == 90
    for step in (1, 2, 5, 17, 30):
        assert_matches(at(hindcast, step), expected_scores(hindcasts, step))


def test_the_track_record_grows_as_the_nightly_refresh_stores_bars(token_client, made):
    model, live, _ = made
    before = token_client.get("/predict/TRK/").json()
    assert before["id"] == live.pk
    assert before["track_record"]["live"]["days_scored"] == 0

    # The nightly refresh's fetch stores the next 60 sessions.
    fetched = prices_fetch(
        ticker="TRK",
        provider=Arriving(CLOSES[STORED : STORED + 60], start=DAYS[STORED]),
    )
    assert fetched.inserted == 60

    after = token_client.get("/predict/TRK/").json()
    assert after["id"] != live.pk  # a new bar: a new forecast from the new last bar
    record = after["track_record"]
    assert record["prices_through"] == DAYS[STORED + 59].isoformat()
    assert record["live"]["forecasts"] == 2
    assert record["live"]["forecasts_scored"] == 1
    assert record["live"]["days_scored"] == 30
    for horizon in SUMMARY:
        assert_matches(at(record["live"], horizon), expected_scores([live], horizon))
    # The hindcasts' days had all arrived already.
    assert record["hindcast"]["days_scored"] == 90
    assert record == model_track_record(model)


def test_new_bars_score_more_days_of_a_hindcast(made, trk):
    model, _, _ = made
    recent, _ = hindcast_create(ticker="TRK", as_of=DAYS[STORED - 11])
    before = model_track_record(model)["hindcast"]
    assert before["forecasts"] == 4 and before["days_scored"] == 90 + 10

    make_bars(trk, start=DAYS[STORED], closes=CLOSES[STORED : STORED + 5])

    after = model_track_record(model)["hindcast"]
    assert after["days_scored"] == 90 + 15
    assert at(after, 15)["forecasts"] == 4 and at(after, 16)["forecasts"] == 3
    assert_matches(at(after, 15), expected_scores([*made[2], recent], 15))


def test_a_hindcast_answers_the_track_record_of_the_live_model_it_repeats(
    token_client, made
):
    model, _, _ = made
    body = token_client.get(f"/predict/TRK/?as_of={HINDCAST_DAYS[0]}").json()

    assert body["hindcast"] is True
    assert body["track_record"]["model"]["id"] == model.pk
    assert body["track_record"]["hindcast"]["forecasts"] == 3


def test_hindcasts_without_a_live_model_have_the_default_pipelines_record(trk):
    run, _ = hindcast_create(ticker="TRK", as_of=HINDCAST_DAYS[0])

    record = forecast_track_record(run)

    assert record["model"] is None
    assert "default pipeline" in record["scope"]
    assert record["live"]["forecasts"] == 0
    assert record["hindcast"]["forecasts"] == 1
    assert record["hindcast"]["days_scored"] == 30


def test_a_split_after_as_of_is_no_error(db):
    """A hindcast before a recorded 4:1 split reads prices 4 times the later ones:
    the actual closes are brought into its basis, as on its page."""
    symbol = split_symbol()
    run, _ = hindcast_create(ticker="SPLT", as_of=SPLIT_DAYS[SPLIT_INDEX - 10])

    record = track_record(symbol, None)["hindcast"]

    assert record["days_scored"] == 30
    for step in (5, 11, 30):  # before the split day and after it
        assert_matches(at(record, step), expected_scores([run], step))
        # A 75 % fall would be an error of about three quarters of the price.
        assert at(record, step)["naive_mae"] < 0.2 * float(run.last_close)


def test_its_queries_do_not_grow_with_the_forecasts(made):
    model, _, _ = made

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            model_track_record(model)
        return len(captured)

    three = queries()
    hindcast_create(ticker="TRK", as_of=DAYS[390])
    hindcast_create(ticker="TRK", as_of=DAYS[400])
    assert model_track_record(model)["hindcast"]["forecasts"] == 5
    assert queries() == three


# --- where staff and readers see it ---------------------------------------------------


def test_the_model_page_and_the_forecast_page_show_the_track_record(admin_client, made):
    model, _, hindcasts = made
    record = model_track_record(model)
    one_day = at(record["hindcast"], 1)
    thirty = at(record["hindcast"], 30)
    seventeen = at(record["hindcast"], 17)

    page = admin_client.get(
        reverse("admin:ml_trainedmodel_change", args=[model.pk])
    ).content.decode()
    assert "Track record" in page
    assert "Live forecasts" in page and "Hindcasts" in page
    assert "1 stored, 0 with an actual close, 0 days scored" in page
    assert "3 stored, 3 with an actual close, 90 days scored" in page
    assert money(one_day["mae"]) in page and money(thirty["naive_mae"]) in page
    assert "17 days" in page and money(seventeen["mae"]) in page  # every horizon

    forecast_page = admin_client.get(
        reverse("admin:ml_predictionrun_change", args=[hindcasts[1].pk])
    ).content.decode()
    assert "The model&#x27;s track record" in forecast_page
    assert money(one_day["mae"]) in forecast_page
    assert "17 days" not in forecast_page  # 1, 5 and 30 days only


def test_the_report_json_and_pdf_show_the_track_record(token_client, made):
    body = token_client.get("/report/TRK/").json()
    record = body["forecast"]["track_record"]
    assert record["hindcast"]["forecasts"] == 3
    rows = record["rows"]
    assert [row["horizon_days"] for row in rows] == list(SUMMARY)
    assert rows[0]["hindcast"]["forecasts"] == "3"
    assert rows[0]["live"]["mae"] == "—"  # no live day has arrived

    pdf = token_client.get("/report/TRK/?format=pdf")
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.content))
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert "Track record: how this model's stored forecasts did" in text
    for row in rows:
        for figure in ("mae", "naive_mae", "skill", "inside_band"):
            assert row["hindcast"][figure] in text, (row["horizon_days"], figure)
    assert "3 hindcasts (3 with an actual close)" in text
