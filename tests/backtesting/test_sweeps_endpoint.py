"""/backtest/<symbol>/<initial_investment>/sweep/: validation, the stored sweep, rows equal
to single backtests, the proof's shape, permissions and the rate limit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from backtesting.models import BacktestRun, Sweep
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create, sweep_create
from backtesting.sweep_selectors import heatmap, sweep_to_dict
from backtesting.sweeps import SweepParams, WindowRange
from core.models import Job
from core.services import api_token_create, job_enqueue
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

SWEEP = "/backtest/ACME/10000/sweep/"
SMALL = "fast=10:50:20&slow=60:200:70"  # 10, 30, 50 x 60, 130, 200: 9 pairs


def error_of(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def test_a_sweep_answers_one_row_per_pair_and_is_stored(token_client, acme):
    response = token_client.get(f"{SWEEP}?{SMALL}&commission=0.001")

    assert response.status_code == 200, response.content
    body = response.json()
    sweep = Sweep.objects.get()
    assert body["id"] == sweep.pk
    assert body["symbol"] == "ACME"
    assert body["pairs"] == 9 == len(body["rows"])
    assert {(row["fast"], row["slow"]) for row in body["rows"]} == {
        (f, s) for f in (10, 30, 50) for s in (60, 130, 200)
    }
    assert body["parameters"] == {
        "strategy": "sma_crossover",
        "fast": "10:50:20",
        "slow": "60:200:70",
        "initial_investment": "10000.00",
        "commission": 0.001,
        "oos": 0.3,
        "benchmark": "default",
    }
    assert body["data"] == {
        "start": "2024-01-01",
        "end": str(sweep.end_date),
        "bars": 520,
    }
    assert body["ranking"]["metric"] == "sharpe"
    assert body["best"] == {"fast": sweep.best_fast, "slow": sweep.best_slow}
    ranked = sorted(body["rows"], key=lambda row: row["rank"])
    assert (ranked[0]["fast"], ranked[0]["slow"]) == (sweep.best_fast, sweep.best_slow)
    held_out = body["out_of_sample"]
    assert held_out["available"] and held_out["fraction"] == 0.3
    assert held_out["in_sample"]["bars"] == 364 and held_out["held_out"]["bars"] == 156
    assert (held_out["default"]["fast"], held_out["default"]["slow"]) == (50, 200)
    assert held_out["buy_hold"]["trades"] == 0
    assert body["walk_forward"]["available"]
    assert len(body["walk_forward"]["windows"]) == 3
    verdict = body["verdict"]
    assert isinstance(verdict["edge"], bool) and verdict["text"]
    assert sweep.result["verdict"]["text"] == verdict["text"]
    assert "in-sample Sharpe" in verdict["text"]
    assert sweep.beat_default is verdict["beat_default"]
    # No SPY stored: the benchmark says why there are no figures.
    assert body["benchmark"]["full"]["available"] is False


def test_each_row_is_identical_to_that_pair_run_alone(token_client, acme):
    body = token_client.get(f"{SWEEP}?{SMALL}&commission=0.001&adjust=none").json()

    for row in body["rows"][::2]:
        run = backtest_run_create(
            ticker="ACME",
            params=BacktestParams(
                initial_investment=Decimal(10_000),
                fast=row["fast"],
                slow=row["slow"],
                commission=Decimal("0.001"),
                adjust="none",
            ),
        )
        assert run.metrics.keys() <= row.keys()
        assert {key: row[key] for key in run.metrics} == run.metrics, row


def test_the_same_request_on_the_same_bars_answers_the_stored_sweep(token_client, acme):
    first = token_client.get(f"{SWEEP}?{SMALL}").json()
    again = token_client.post(f"{SWEEP}?{SMALL}").json()
    other = token_client.get(f"{SWEEP}?{SMALL}&oos=0.25").json()

    assert again["id"] == first["id"] != other["id"]
    assert Sweep.objects.count() == 2


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("fast=5-70", "fast", "start:stop:step"),
        ("fast=5:70:0", "fast", "step must be at least 1"),
        ("slow=240:20:20", "slow", "start must not be above stop"),
        ("slow=20:500:20", "slow", "from 2 to 400"),
        ("fast=1:10:1", "fast", "from 2 to 400"),
        ("fast=2:100:1&slow=101:110:1", "fast/slow", "at most 400"),
        ("fast=100:120:10&slow=20:90:10", "fast/slow", "No pair with fast < slow"),
        ("oos=0.6", "oos", "oos must be"),
        ("oos=0.05", "oos", "oos must be"),
        ("oos=abc", "oos", "oos must be"),
        ("commission=0.2", "commission", "commission"),
        ("adjust=bogus", "adjust", "adjust"),
        ("start=2024-06-01&end=2024-01-01", "start/end", "before"),
    ],
)
def test_bad_input_is_400_naming_the_parameter(
    token_client, acme, query, parameter, words
):
    error = error_of(token_client.get(f"{SWEEP}?{query}"), 400)
    assert error["details"]["parameter"] == parameter
    assert words in error["message"]
    assert not Sweep.objects.exists()


def test_unknown_symbol_is_404_and_too_few_bars_is_422(token_client, db):
    assert error_of(token_client.get("/backtest/NOPE/100/sweep/"), 404)["code"] == (
        "unknown_symbol"
    )
    short = make_symbol("SHORT")
    make_bars(short, start=date(2024, 1, 1), closes=price_closes(15, seed=1))
    error = error_of(token_client.get("/backtest/SHORT/100/sweep/"), 422)
    assert "smallest slow window" in error["message"]


def test_an_unknown_benchmark_is_404_before_any_work(token_client, acme):
    error = error_of(token_client.get(f"{SWEEP}?{SMALL}&benchmark=NOPE"), 404)
    assert error["code"] == "unknown_symbol"
    assert not Sweep.objects.exists()


def test_a_stored_benchmark_gives_full_and_held_out_figures(token_client, acme):
    spy = make_symbol("SPY")
    make_bars(
        spy, start=date(2024, 1, 1), closes=price_closes(520, volatility=0.01, seed=9)
    )

    body = token_client.get(f"{SWEEP}?{SMALL}").json()

    benchmark = body["benchmark"]
    assert benchmark["ticker"] == "SPY"
    full, held = benchmark["full"], benchmark["held_out"]
    assert full["available"] and held["available"]
    assert full["common_days"] == 520
    assert held["common_days"] == body["out_of_sample"]["held_out"]["bars"] + 1
    assert "equity" not in full
    assert full["return_pct"] != held["return_pct"]


def test_a_viewer_may_not_sweep_and_anonymous_is_401(client: Client, acme, db):
    viewer = User.objects.create_user("viewer", is_staff=True)
    key = api_token_create(user=viewer, name="read").raw_key
    forbidden = Client(HTTP_AUTHORIZATION=f"Bearer {key}").get(f"{SWEEP}?{SMALL}")
    assert error_of(forbidden, 403)["details"] == {
        "permission": "backtesting.run_backtest"
    }
    assert error_of(client.get(SWEEP), 401)["code"] == "unauthorized"


def test_a_session_post_needs_csrf(staff_client, acme):
    assert error_of(staff_client.post(f"{SWEEP}?{SMALL}"), 403)["code"] == "csrf_failed"
    assert staff_client.get(f"{SWEEP}?{SMALL}").status_code == 200


def test_sweeps_have_their_own_rate_limit(token_client, acme, settings):
    settings.RATELIMIT_WORK = "2/m"
    for _ in range(2):
        assert token_client.get(f"{SWEEP}?{SMALL}").status_code == 200
    error = error_of(token_client.get(f"{SWEEP}?{SMALL}"), 429)
    assert error["details"]["scope"] == "sweep"
    # Backtests count apart.
    assert token_client.get("/backtest/ACME/10000/?fast=10&slow=60").status_code == 200


def test_the_default_grid_of_the_issue_runs(token_client, acme):
    body = token_client.get(f"{SWEEP}?fast=5:70:5&slow=20:240:20").json()
    assert body["pairs"] == 147


def test_the_heatmap_is_a_fast_by_slow_grid(acme):
    sweep = sweep_create(
        ticker="ACME",
        params=SweepParams(
            initial_investment=Decimal(1000),
            fast=WindowRange(10, 50, 20),
            slow=WindowRange(30, 90, 30),
        ),
    )
    grid = heatmap(sweep, "total_return_pct")
    assert grid["fasts"] == [10, 30, 50] and grid["slows"] == [30, 60, 90]
    rows = {(row["fast"], row["slow"]): row for row in sweep.rows}
    assert grid["values"][0][1] == rows[(10, 60)]["total_return_pct"]
    assert grid["values"][1][0] is None  # 30/30 is no pair
    assert grid["values"][2][0] is None and grid["values"][2][1] is not None
    assert heatmap(sweep, "nonsense")["metric"] == "sharpe"
    in_sample = heatmap(sweep, "in_sample_sharpe")
    assert in_sample["values"][0][0] == rows[(10, 30)]["in_sample"]["sharpe"]
    assert sweep_to_dict(sweep)["rows"] == sweep.rows


def test_a_sweep_job_stores_the_sweep(
    acme, staff_user, django_capture_on_commit_callbacks
):
    params = SweepParams(
        initial_investment=Decimal(5000),
        fast=WindowRange(10, 30, 10),
        slow=WindowRange(60, 120, 60),
    )
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.SWEEP,
            symbol=acme,
            parameters=params.as_json(),
            user=staff_user,
        )
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    sweep = Sweep.objects.get()
    assert job.result_object == sweep
    assert job.result["sweep"] == sweep.pk and job.result["pairs"] == 6
    assert sweep.created_by == staff_user
    assert not BacktestRun.objects.exists()


@pytest.fixture(scope="module")
def openapi():
    from tests.api.conftest import OPENAPI_PATH, OpenApiDocument

    return OpenApiDocument(OPENAPI_PATH)


@pytest.mark.parametrize(
    "query",
    [
        SMALL,
        # Short in-sample part: the default 50/200 cannot run, walk-forward neither.
        "fast=5:10:5&slow=20:40:20&start=2025-06-01&oos=0.5",
        # Pairs too long for the bars get error rows.
        "fast=10&slow=60:400:170&benchmark=none",
    ],
    ids=["plain", "short", "error-rows"],
)
def test_the_answer_matches_docs_openapi(openapi, token_client, acme, query):
    response = token_client.get(f"{SWEEP}?{query}")
    body = openapi.check_response(response)
    assert response.status_code == 200
    assert body["rows"]
