"""/compare/?symbols=A,B: the same backtest on each symbol, one table, prices rebased to 100."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from backtesting.models import BacktestRun, Comparison
from core.models import PriceBar, Symbol
from core.services import api_token_create
from tests.api.conftest import OPENAPI_PATH, OpenApiDocument
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

ROW_KEYS = {
    "symbol",
    "run_id",
    "total_return_pct",
    "cagr_pct",
    "max_drawdown_pct",
    "sharpe",
    "trades",
    "buy_hold_return_pct",
    "data",
    "adjustment",
}


@pytest.fixture
def wavy() -> Symbol:
    """WAVE: 400 bars of a wave from mid-2023, so it starts before ACME (2024-01-01)."""
    symbol = make_symbol("WAVE", name="Wave Corp")
    closes = price_closes(400, wave=20, wave_period=25, trend=0.05)
    make_bars(symbol, start=date(2023, 6, 1), closes=closes)
    return symbol


@pytest.fixture
def short() -> Symbol:
    """SHORT: 40 bars, too few for a 20/50 backtest."""
    symbol = make_symbol("SHORT", name="Short history")
    make_bars(symbol, start=date(2024, 1, 1), closes=price_closes(40, seed=2))
    return symbol


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.content
    return response.json()["error"]


def closes_of(ticker: str) -> dict[date, float]:
    return {
        day: float(close)
        for day, close in PriceBar.objects.filter(symbol__ticker=ticker).values_list(
            "date", "close"
        )
    }


def test_answers_one_row_per_symbol_equal_to_its_own_backtest(token_client, acme, wavy):
    """Each row is the very run /backtest/ answers for the same parameters."""
    query = "fast=20&slow=50&investment=2500.50&commission=0.001"
    response = token_client.get(f"/compare/?symbols=acme,wave&{query}")

    assert response.status_code == 200, response.content
    body = response.json()
    comparison = Comparison.objects.get()
    assert body["id"] == comparison.pk
    assert body["parameters"] == {
        "strategy": "sma_crossover",
        "symbols": ["ACME", "WAVE"],
        "fast": 20,
        "slow": 50,
        "initial_investment": "2500.50",
        "commission": 0.001,
        "start": None,
        "end": None,
        "adjust": "splits",
    }
    assert [row["symbol"] for row in body["rows"]] == ["ACME", "WAVE"]
    for row in body["rows"]:
        assert set(row) == ROW_KEYS
        alone = token_client.get(
            f"/backtest/{row['symbol']}/2500.50/?fast=20&slow=50&commission=0.001"
        ).json()
        assert row["run_id"] == alone["id"], "the stored run is reused, not copied"
        metrics = alone["metrics"]
        assert row["total_return_pct"] == metrics["total_return_pct"]
        assert row["cagr_pct"] == metrics["cagr_pct"]
        assert row["max_drawdown_pct"] == metrics["max_drawdown_pct"]
        assert row["sharpe"] == metrics["sharpe"]
        assert row["trades"] == metrics["trades"] == len(alone["trades"])
        assert row["buy_hold_return_pct"] == metrics["buy_hold_return_pct"]
        assert row["data"] == alone["data"]
    assert BacktestRun.objects.count() == 2
    assert set(comparison.runs.values_list("pk", flat=True)) == {
        row["run_id"] for row in body["rows"]
    }
    assert comparison.tickers == ["ACME", "WAVE"]


def test_prices_are_rebased_to_100_on_the_first_common_date(token_client, acme, wavy):
    body = token_client.get("/compare/?symbols=WAVE,ACME&fast=20&slow=50").json()

    rebased = body["rebased"]
    acme_closes, wave_closes = closes_of("ACME"), closes_of("WAVE")
    common = sorted(set(acme_closes) & set(wave_closes))
    assert rebased["dates"] == [day.isoformat() for day in common]
    # WAVE's bars start in 2023; the lines start together on ACME's first day.
    assert rebased["dates"][0] == "2024-01-01"
    assert list(rebased["series"]) == ["WAVE", "ACME"]
    for ticker, closes in (("ACME", acme_closes), ("WAVE", wave_closes)):
        series = rebased["series"][ticker]
        assert series[0] == 100.0
        assert len(series) == len(common)
        for day, value in zip(common, series, strict=True):
            assert value == pytest.approx(
                closes[day] / closes[common[0]] * 100, abs=1e-4
            )
    assert rebased["note"] is None


def test_defaults_are_the_50_200_backtest_of_10000(token_client, acme, wavy):
    body = token_client.get("/compare/?symbols=ACME,WAVE").json()

    params = body["parameters"]
    assert (params["fast"], params["slow"]) == (50, 200)
    assert params["initial_investment"] == "10000.00"
    run = BacktestRun.objects.get(pk=body["rows"][0]["run_id"])
    assert (run.fast, run.slow, run.initial_investment) == (50, 200, Decimal(10_000))


def test_repeated_symbols_count_once_in_the_order_first_named(token_client, acme, wavy):
    body = token_client.get(
        "/compare/?symbols=wave, acme,WAVE,,&fast=20&slow=50"
    ).json()

    assert body["parameters"]["symbols"] == ["WAVE", "ACME"]
    assert [row["symbol"] for row in body["rows"]] == ["WAVE", "ACME"]


def test_post_answers_the_same_as_get(token_client, acme, wavy):
    got = token_client.get("/compare/?symbols=ACME,WAVE&fast=20&slow=50").json()
    posted = token_client.post("/compare/?symbols=ACME,WAVE&fast=20&slow=50").json()

    assert posted["rows"] == got["rows"]
    assert posted["rebased"] == got["rebased"]


def test_the_adjustment_mode_is_the_series_rebased(token_client, acme):
    """A recorded 2-for-1 split: split-adjusted, the line stays flat; as traded it halves."""
    split = make_symbol("SPLT")
    make_bars(split, start=date(2024, 1, 1), closes=[100.0] * 150 + [50.0] * 150)
    split_day = PriceBar.objects.filter(symbol=split).order_by("date")[150].date
    split.corporate_actions.create(
        kind="split", date=split_day, split_factor=Decimal(2), source="import"
    )
    adjusted = token_client.get("/compare/?symbols=SPLT,ACME&fast=10&slow=30").json()
    traded = token_client.get(
        "/compare/?symbols=SPLT,ACME&fast=10&slow=30&adjust=none"
    ).json()

    assert set(adjusted["rebased"]["series"]["SPLT"]) == {100.0}
    assert adjusted["rows"][0]["adjustment"]["mode"] == "splits"
    assert adjusted["rows"][0]["adjustment"]["actions"][0]["kind"] == "split"
    assert traded["parameters"]["adjust"] == "none"
    assert traded["rebased"]["series"]["SPLT"][-1] == 50.0
    assert traded["rows"][0]["run_id"] != adjusted["rows"][0]["run_id"]


# --- errors: a clear answer, and nothing stored ----------------------------------------


def assert_nothing_stored() -> None:
    assert Comparison.objects.count() == 0
    assert BacktestRun.objects.count() == 0


def test_an_unknown_symbol_is_404_naming_it(token_client, acme, wavy):
    error = error_of(token_client.get("/compare/?symbols=ACME,ZZZ,WAVE"), 404)

    assert error["code"] == "unknown_symbol"
    assert error["details"]["symbol"] == "ZZZ"
    assert "ZZZ" in error["message"]
    assert_nothing_stored()


def test_a_symbol_with_too_few_bars_is_422_naming_it_and_undoes_the_others(
    token_client, acme, wavy, short
):
    """ACME's and WAVE's runs come first and succeed; SHORT's failure undoes them."""
    response = token_client.get("/compare/?symbols=ACME,WAVE,SHORT&fast=20&slow=50")

    error = error_of(response, 422)
    assert error["code"] == "not_enough_data"
    assert error["details"]["symbol"] == "SHORT"
    assert error["details"]["available"] == 40
    assert "SHORT" in error["message"]
    assert_nothing_stored()


def test_a_symbol_without_bars_in_the_range_is_404_naming_it(token_client, acme, wavy):
    # WAVE's bars end in 2024-12; ACME's go on to 2025-12.
    response = token_client.get(
        "/compare/?symbols=ACME,WAVE&start=2025-03-01&fast=5&slow=10"
    )

    error = error_of(response, 404)
    assert (error["code"], error["details"]["symbol"]) == ("no_data", "WAVE")
    assert_nothing_stored()


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("", "symbols"),
        ("symbols=ACME", "symbols"),
        ("symbols=ACME,acme", "symbols"),
        ("symbols=" + ",".join(f"S{i}" for i in range(11)), "symbols"),
        ("symbols=ACME,WAVE&fast=x", "fast"),
        ("symbols=ACME,WAVE&fast=60&slow=50", "fast/slow"),
        ("symbols=ACME,WAVE&investment=0", "investment"),
        ("symbols=ACME,WAVE&investment=1e5", "investment"),
        ("symbols=ACME,WAVE&commission=0.5", "commission"),
        ("symbols=ACME,WAVE&start=June", "start"),
        ("symbols=ACME,WAVE&start=2025-01-01&end=2024-01-01", "start/end"),
        ("symbols=ACME,WAVE&adjust=dividends", "adjust"),
        ("symbols=" + "A," * 200, "symbols"),
    ],
    ids=[
        "none",
        "one",
        "one-repeated",
        "eleven",
        "bad-fast",
        "windows-swapped",
        "zero-investment",
        "exponent",
        "commission",
        "bad-date",
        "dates-swapped",
        "bad-adjust",
        "too-long",
    ],
)
def test_bad_input_is_400_naming_the_parameter(
    token_client, acme, wavy, query, parameter
):
    error = error_of(token_client.get(f"/compare/?{query}"), 400)

    assert error["code"] == "invalid_parameter"
    assert error["details"]["parameter"] == parameter
    assert_nothing_stored()


def test_a_bad_ticker_is_400_invalid_symbol(token_client, acme):
    error = error_of(token_client.get("/compare/?symbols=ACME,$$"), 400)

    assert error["code"] == "invalid_symbol"
    assert_nothing_stored()


# --- who may compare -------------------------------------------------------------------


def test_a_viewer_token_is_refused_403_and_nothing_is_stored(acme, wavy, staff_user):
    viewer = User.objects.create_user(username="viewer", is_staff=True)
    viewer.groups.add(Group.objects.get(name="Viewer"))
    key = api_token_create(user=viewer, name="tests").raw_key
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    error = error_of(client.get("/compare/?symbols=ACME,WAVE&fast=20&slow=50"), 403)

    assert error["code"] == "forbidden"
    assert error["details"]["permission"] == "backtesting.run_backtest"
    assert_nothing_stored()


def test_without_credentials_it_is_401(client, acme, wavy):
    error_of(client.get("/compare/?symbols=ACME,WAVE"), 401)
    assert_nothing_stored()


def test_a_staff_session_may_open_it_as_a_link(staff_client, acme, wavy):
    response = staff_client.get("/compare/?symbols=ACME,WAVE&fast=20&slow=50")

    assert response.status_code == 200
    comparison = Comparison.objects.get()
    assert comparison.created_by.username == "analyst"


def test_calls_over_the_rate_are_refused_429(settings, token_client, acme, wavy):
    settings.RATELIMIT_WORK = "1/m"
    assert (
        token_client.get("/compare/?symbols=ACME,WAVE&fast=20&slow=50").status_code
        == 200
    )

    response = token_client.get("/compare/?symbols=ACME,WAVE&fast=20&slow=50")

    assert error_of(response, 429)["code"] == "rate_limited"
    assert int(response["Retry-After"]) >= 1
    assert Comparison.objects.count() == 1


# --- the answers as docs/openapi.yaml documents them ------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_answers_match_the_openapi_document(token_client, acme, wavy, short, method):
    document = OpenApiDocument(OPENAPI_PATH)
    calls = [
        ("/compare/?symbols=ACME,WAVE&fast=20&slow=50&investment=1000", 200),
        ("/compare/?symbols=ACME", 400),
        ("/compare/?symbols=ACME,NOPE", 404),
        ("/compare/?symbols=ACME,SHORT&fast=20&slow=50", 422),
    ]
    for address, status in calls:
        response = token_client.generic(method, address)
        assert response.status_code == status
        document.check_response(response)
