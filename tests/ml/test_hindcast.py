"""Hindcasts: /predict/<symbol>/?as_of= forecasts as a model trained on the bars up to
that day would have, stores it marked, and joins the actual closes already stored."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict
from core.models import CorporateAction, Job, PriceBar
from core.services import job_create
from ml.models import PredictionRun, TrainedModel
from ml.selectors import latest_forecast
from ml.services import forecast_create, hindcast_create, model_activate, model_train
from ml.tasks import forecast_task
from tests.factories import (
    ACME_BARS,
    ACME_START,
    make_bars,
    make_symbol,
    price_closes,
    weekdays,
)

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 6, 2)  # a Monday session, about 370 bars after ACME_START
ACME_END = weekdays(ACME_BARS, start=ACME_START)[-1]  # Friday 2025-12-26
BANDS = ("predicted_close", "lower", "upper")


def hindcast(client, ticker: str, as_of: date | str, **query: str):
    params = "".join(f"&{key}={value}" for key, value in query.items())
    return client.get(f"/predict/{ticker}/?as_of={as_of}{params}")


def test_changing_every_price_after_as_of_changes_no_predicted_value(token_client):
    days = weekdays(ACME_BARS, start=ACME_START)
    cut = days.index(AS_OF) + 1
    same = price_closes(ACME_BARS, drift=0.0004, volatility=0.013, seed=5)
    # After as_of another walk, at another level: every later close differs.
    other = same[:cut] + [
        round(close * 1.7, 2)
        for close in price_closes(ACME_BARS - cut, volatility=0.03, seed=11)
    ]
    assert all(a != b for a, b in zip(same[cut:], other[cut:], strict=True))
    for ticker, closes in (("AAA", same), ("BBB", other)):
        make_bars(make_symbol(ticker), start=ACME_START, closes=closes)

    first = hindcast(token_client, "AAA", AS_OF)
    second = hindcast(token_client, "BBB", AS_OF)

    assert first.status_code == second.status_code == 200
    a, b = first.json(), second.json()
    assert a["as_of"] == b["as_of"] == AS_OF.isoformat()
    assert a["last_close"] == b["last_close"]
    for key in BANDS:
        assert [row[key] for row in a["predictions"]] == [
            row[key] for row in b["predictions"]
        ]
    assert a["evaluation"] == b["evaluation"]
    # The later prices did differ, and each hindcast shows its own symbol's.
    assert [row["actual_close"] for row in a["predictions"]] != [
        row["actual_close"] for row in b["predictions"]
    ]


def test_a_dividend_after_as_of_reads_no_later_close(token_client):
    """adjust=total scales earlier prices by 1 - dividend / the close before its
    ex-date: for a later dividend that close is a later price, so it is left out."""
    days = weekdays(ACME_BARS, start=ACME_START)
    cut = days.index(AS_OF) + 1
    same = price_closes(ACME_BARS, drift=0.0004, volatility=0.013, seed=5)
    other = same[:cut] + [round(close * 0.6, 2) for close in same[cut:]]
    for ticker, closes in (("AAA", same), ("BBB", other)):
        symbol = make_symbol(ticker)
        make_bars(symbol, start=ACME_START, closes=closes)
        for day in (date(2024, 9, 3), date(2025, 9, 2)):  # one before, one after
            CorporateAction.objects.create(
                symbol=symbol,
                kind="dividend",
                date=day,
                dividend_amount=Decimal("1.50"),
                source="import",
            )

    a = hindcast(token_client, "AAA", AS_OF, adjust="total").json()
    b = hindcast(token_client, "BBB", AS_OF, adjust="total").json()

    assert a["adjustment"] == b["adjustment"]
    assert [action["date"] for action in a["adjustment"]["actions"]] == ["2024-09-03"]
    for key in BANDS:
        assert [row[key] for row in a["predictions"]] == [
            row[key] for row in b["predictions"]
        ]


def test_a_hindcast_joins_the_stored_closes_and_is_marked(token_client, acme):
    response = hindcast(token_client, "acme", AS_OF)

    assert response.status_code == 200
    body = response.json()
    assert body["hindcast"] is True
    assert body["trained_through"] == AS_OF.isoformat()
    assert body["as_of_requested"] == AS_OF.isoformat()
    assert body["as_of_note"] is None
    assert body["model"]["purpose"] == "hindcast"
    assert body["model"]["is_active"] is False
    assert body["model"]["training_window"]["end"] == AS_OF.isoformat()
    assert "up to 2025-06-02 only" in body["band"]
    # Every predicted day has passed and has a bar: all 30 actuals are filled in.
    stored = dict(PriceBar.objects.filter(symbol=acme).values_list("date", "close"))
    rows = body["predictions"]
    assert len(rows) == 30 and rows[0]["date"] > AS_OF.isoformat()
    for row in rows:
        actual = float(stored[date.fromisoformat(row["date"])])
        assert row["actual_close"] == pytest.approx(actual)
        assert row["error"] == pytest.approx(actual - row["predicted_close"], abs=1e-6)
        assert row["inside_band"] == (row["lower"] <= actual <= row["upper"])
    assert body["realised"]["days_known"] == 30
    assert body["realised"]["mae"] == pytest.approx(
        sum(abs(row["error"]) for row in rows) / 30
    )
    assert body["last_close"] == float(stored[AS_OF])

    run = PredictionRun.objects.get(pk=body["id"])
    assert run.is_hindcast and run.as_of == AS_OF
    assert run.model.purpose == TrainedModel.Purpose.HINDCAST
    assert not run.model.is_active
    # The model's evaluation read no origin after as_of.
    assert run.model.evaluation["first_origin_date"] < AS_OF.isoformat()
    assert "hindcast" in str(run)


def test_the_same_hindcast_twice_is_the_same_stored_run(token_client, acme):
    first = hindcast(token_client, "ACME", AS_OF)
    second = hindcast(token_client, "ACME", AS_OF)

    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert first.json()["predictions"] == second.json()["predictions"]
    assert PredictionRun.objects.count() == 1
    assert TrainedModel.all_objects.count() == 1


def test_a_hindcast_and_the_live_forecast_of_the_same_day_are_apart(token_client, acme):
    live_model = model_train(ticker="ACME")
    live = token_client.get("/predict/ACME/").json()
    past = hindcast(token_client, "ACME", ACME_END)

    assert past.status_code == 200
    body = past.json()
    assert body["as_of"] == live["as_of"] == ACME_END.isoformat()
    assert body["id"] != live["id"]
    assert (body["hindcast"], live["hindcast"]) == (True, False)
    assert live["trained_through"] == ACME_END.isoformat()
    # The hindcast repeats the live model's pipeline on its own fit.
    assert body["model"]["id"] != live_model.pk
    assert body["model"]["based_on"] == live_model.pk
    assert body["model"]["version"] == live_model.version
    # The live forecast stays the symbol's forecast, and its model the active one.
    again = token_client.get("/predict/ACME/").json()
    # Its track record now counts the hindcast; the rest of the answer is unchanged.
    assert again.pop("track_record")["hindcast"]["forecasts"] == 1
    live.pop("track_record")
    assert again == live
    assert latest_forecast(acme).pk == live["id"]
    assert list(TrainedModel.objects.filter(symbol=acme)) == [live_model]
    assert model_train(ticker="ACME").version == 2  # no version taken by it


def test_a_hindcast_model_never_becomes_active(acme):
    run, created = hindcast_create(ticker="ACME", as_of=AS_OF)
    assert created
    with pytest.raises(Conflict, match="cannot become the active model"):
        model_activate(model=run.model)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainedModel.all_objects.filter(pk=run.model_id).update(is_active=True)
    # Without a live model the hindcast used the default pipeline.
    assert run.model.based_on is None and run.model.version == 0
    with pytest.raises(Conflict, match="no active model"):
        forecast_create(ticker="ACME")


def test_a_split_recorded_after_as_of_changes_nothing_of_the_hindcast(
    token_client, acme
):
    first = hindcast(token_client, "ACME", AS_OF).json()
    split_day = date(2025, 9, 2)
    CorporateAction.objects.create(
        symbol=acme,
        kind="split",
        date=split_day,
        split_factor=Decimal(2),
        source="import",
    )
    # The bars from the split on trade at half the price.
    PriceBar.objects.filter(symbol=acme, date__gte=split_day).update(
        **{column: F(column) / 2 for column in ("open", "high", "low", "close")}
    )
    again = hindcast(token_client, "ACME", AS_OF).json()

    assert again["id"] == first["id"]
    assert again["adjustment"] == {"mode": "splits", "actions": []}


@pytest.mark.parametrize(
    ("requested", "used", "words"),
    [
        ("2025-05-31", "2025-05-30", "not a trading session"),  # a Saturday
        ("2025-07-04", "2025-07-03", "exchange holiday"),  # stored bar, market shut
        ("2025-12-27", "2025-12-26", "not a trading session"),  # after the last bar
    ],
)
def test_a_day_without_a_session_uses_the_last_session_before_it(
    token_client, acme, requested, used, words
):
    response = hindcast(token_client, "ACME", requested)

    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == used
    assert body["as_of_requested"] == requested
    assert words in body["as_of_note"] and used in body["as_of_note"]


def test_a_session_without_a_stored_bar_uses_the_bar_before_it(token_client, acme):
    PriceBar.objects.filter(symbol=acme, date=AS_OF).delete()

    body = hindcast(token_client, "ACME", AS_OF).json()

    assert body["as_of"] == "2025-05-30"
    assert body["as_of_note"] == (
        "No bar is stored for 2025-06-02; the hindcast is as of the last stored bar "
        "before it, 2025-05-30."
    )


@pytest.mark.parametrize(
    "as_of", ["2025/06/02", "20250602", "2025-02-30", "yesterday", "2025-W23-1"]
)
def test_an_as_of_that_is_no_date_is_400(token_client, acme, as_of):
    response = hindcast(token_client, "ACME", as_of)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["details"]["parameter"] == "as_of"
    assert not PredictionRun.objects.exists()


def test_a_future_day_or_a_day_after_the_last_bar_is_400(token_client, acme):
    tomorrow = timezone.localdate() + timedelta(days=1)
    future = hindcast(token_client, "ACME", tomorrow)
    after = hindcast(token_client, "ACME", "2025-12-29")  # the session after the last

    assert future.status_code == after.status_code == 400
    assert "in the future" in future.json()["error"]["message"]
    assert "last stored bar is 2025-12-26" in after.json()["error"]["message"]
    assert after.json()["error"]["details"]["last_bar"] == "2025-12-26"
    assert not PredictionRun.objects.exists()


@pytest.mark.parametrize("as_of", ["2024-05-01", "2020-01-02"])
def test_too_little_history_is_422_and_names_the_first_possible_day(
    token_client, acme, as_of
):
    response = hindcast(token_client, "ACME", as_of)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["needed"] == 239
    # 2024-11-28 has the 239th bar but is Thanksgiving: the next session.
    assert error["details"]["first_possible_as_of"] == "2024-11-29"
    assert "2024-11-29" in error["message"]
    assert hindcast(token_client, "ACME", "2024-11-29").status_code == 200


def test_hindcast_needs_the_forecast_permission(client, django_user_model, acme):
    from core.services import api_token_create

    viewer = django_user_model.objects.create_user(username="nobody", is_staff=True)
    key = api_token_create(user=viewer, name="t").raw_key
    response = client.get(
        f"/predict/ACME/?as_of={AS_OF}", HTTP_AUTHORIZATION=f"Bearer {key}"
    )
    assert response.status_code == 403
    assert not PredictionRun.objects.exists()


def test_a_forecast_job_with_an_as_of_day_makes_the_hindcast(staff_user, acme):
    job = job_create(
        kind=Job.Kind.PREDICT,
        ticker="ACME",
        symbol=acme,
        parameters={"as_of": AS_OF.isoformat()},
        created_by=staff_user,
    )
    forecast_task(job.pk)

    job.refresh_from_db()
    run = PredictionRun.objects.get()
    assert job.status == Job.Status.SUCCEEDED
    assert job.result["hindcast"] is True and job.result["forecast"] == run.pk
    assert run.is_hindcast and run.as_of == AS_OF and run.created_by == staff_user
