"""The same backtest on the same data is stored once and answered from the store."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from backtesting.models import BacktestRun, Trade
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from core.models import Job, PriceBar
from core.services import api_token_create, job_create
from reporting.models import Report
from tests.concurrency import run_concurrently
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

START = date(2023, 1, 2)
PARAMS = BacktestParams(initial_investment=Decimal(10_000), fast=20, slow=50)


def wave_symbol(ticker: str = "WAVE"):
    """300 weekday bars of a slow wave, so the 20/50 averages cross and trade."""
    symbol = make_symbol(ticker, name="Wave Corp")
    make_bars(symbol, start=START, closes=price_closes(300, wave=20, wave_period=25))
    return symbol


@pytest.fixture
def wavy():
    return wave_symbol()


def test_the_same_request_twice_answers_the_stored_run(token_client, wavy):
    first = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50")
    again = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50")

    assert first.status_code == again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json() == first.json()
    assert BacktestRun.objects.count() == 1
    assert Trade.objects.count() == first.json()["metrics"]["trades"] > 0


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (
            "10000/?fast=20&slow=50&commission=0.001",
            "10000.00/?slow=50&fast=20&commission=0.00100",
        ),
        ("2500.5/?fast=20&slow=50", "2500.50/?fast=20&slow=50&commission=0"),
    ],
)
def test_the_same_values_written_differently_are_the_same_run(
    token_client, wavy, first, again
):
    one = token_client.get(f"/backtest/WAVE/{first}").json()
    two = token_client.get(f"/backtest/WAVE/{again}").json()

    assert two["id"] == one["id"]
    assert BacktestRun.objects.count() == 1


def test_the_stored_run_stays_its_first_requesters(
    token_client, staff_user, wavy, django_user_model
):
    token_client.get("/backtest/WAVE/10000/?fast=20&slow=50")
    other = django_user_model.objects.create_user(username="second", is_staff=True)
    other.groups.add(Group.objects.get(name="Analyst"))
    other_client = Client(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=other, name='t').raw_key}"
    )

    answer = other_client.get("/backtest/WAVE/10000/?fast=20&slow=50")

    assert answer.status_code == 200
    run = BacktestRun.objects.get()
    assert answer.json()["id"] == run.pk
    assert run.created_by == staff_user


@pytest.mark.parametrize(
    "changed",
    [
        "/backtest/WAVE/10000/?fast=20&slow=50&commission=0.001",
        "/backtest/WAVE/10001/?fast=20&slow=50",
        "/backtest/WAVE/10000/?fast=21&slow=50",
        "/backtest/WAVE/10000/?fast=20&slow=50&end=2023-12-29",
    ],
    ids=["commission", "investment", "window", "fewer bars"],
)
def test_other_parameters_or_bars_are_a_new_run(token_client, wavy, changed):
    first = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50").json()
    other = token_client.get(changed)

    assert other.status_code == 200
    assert other.json()["id"] != first["id"]
    assert BacktestRun.objects.count() == 2


def test_a_new_bar_is_a_new_run(token_client, wavy):
    first = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50").json()
    last = PriceBar.objects.filter(symbol=wavy).order_by("-date").first()
    day = last.date + timedelta(days=3 if last.date.weekday() == 4 else 1)
    make_bars(wavy, start=day, closes=[float(last.close) + 1])

    after = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50").json()

    assert after["id"] != first["id"]
    assert after["data"]["bars"] == first["data"]["bars"] + 1
    assert BacktestRun.objects.count() == 2


def test_a_range_that_selects_the_same_bars_is_the_same_run(token_client, wavy):
    """Data is the bars used: a start on the Sunday before the first bar selects
    exactly what no start does."""
    first = token_client.get("/backtest/WAVE/10000/?fast=20&slow=50").json()
    sunday = START - timedelta(days=1)

    same = token_client.get(f"/backtest/WAVE/10000/?fast=20&slow=50&start={sunday}")

    assert same.json()["id"] == first["id"]
    assert BacktestRun.objects.count() == 1


def test_the_database_refuses_a_second_copy(wavy):
    run = backtest_run_create(ticker="WAVE", params=PARAMS)
    copy = {
        field.name: getattr(run, field.name)
        for field in BacktestRun._meta.concrete_fields
        if field.name not in {"id", "created_at"}
    }

    with pytest.raises(IntegrityError), transaction.atomic():
        BacktestRun.objects.create(**copy)


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_store_one_run():
    wave_symbol("RACE")

    runs = run_concurrently(
        lambda: backtest_run_create(ticker="RACE", params=PARAMS).pk, 8
    )

    assert len(set(runs)) == 1
    assert BacktestRun.objects.count() == 1
    assert Trade.objects.filter(run_id=runs[0]).count() > 0


@pytest.mark.django_db(transaction=True)
def test_the_migration_folds_runs_stored_twice_into_the_first():
    symbol = wave_symbol("OLD")
    first = backtest_run_create(ticker="OLD", params=PARAMS)
    other = backtest_run_create(
        ticker="OLD", params=BacktestParams(initial_investment=Decimal(5_000))
    )
    call_command("migrate", "backtesting", "0002_permissions", verbosity=0)
    try:
        # The copies are written as the tables stood before 0003: through the models
        # of that migration state, which lack the fields added since.
        state = MigrationExecutor(connection).loader.project_state(
            ("backtesting", "0002_permissions")
        )
        old_run = state.apps.get_model("backtesting", "BacktestRun")
        old_trade = state.apps.get_model("backtesting", "Trade")
        original = old_run.objects.get(pk=first.pk)
        copies = [
            old_run.objects.create(
                **{
                    field.attname: getattr(original, field.attname)
                    for field in old_run._meta.concrete_fields
                    if field.name not in {"id", "created_at"}
                }
            )
            for _ in range(2)
        ]
        for copy in copies:
            old_trade.objects.bulk_create(
                old_trade(**{**trade, "id": None, "run_id": copy.pk})
                for trade in old_trade.objects.filter(run=original).values()
            )
        report = Report.objects.create(
            symbol=symbol,
            backtest_id=copies[1].pk,
            pdf="r.pdf",
            size_bytes=1,
            snapshot={},
        )
        job = job_create(kind=Job.Kind.BACKTEST, ticker="OLD")
        job.result_type = ContentType.objects.get_for_model(BacktestRun)
        job.result_id = copies[0].pk
        job.save()
    finally:
        call_command("migrate", "backtesting", verbosity=0)

    assert set(BacktestRun.objects.values_list("pk", flat=True)) == {
        first.pk,
        other.pk,
    }
    assert Trade.objects.filter(run=first).count() == first.trade_count
    assert Trade.objects.count() == first.trade_count + other.trade_count
    report.refresh_from_db()
    job.refresh_from_db()
    assert report.backtest_id == job.result_id == first.pk
    # Runs stored before adjustment existed read the bars as traded.
    assert set(BacktestRun.objects.values_list("adjust", flat=True)) == {"none"}
