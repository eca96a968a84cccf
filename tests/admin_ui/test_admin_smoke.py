"""Every registered admin opens for a superuser: its changelist and a change page.

Django-Q2's task pages and django-axes' are included: whatever admin.site holds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from unittest import mock

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db.models import Model
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Failure, OrmQ, Schedule, Success
from django_q.tasks import async_task

from backtesting.models import BacktestRun, Comparison
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create, comparison_create, sweep_create
from backtesting.sweeps import SweepParams, WindowRange
from core.models import Job, Symbol
from core.services import api_token_create, job_create
from ml.services import forecast_create, model_train
from reporting.services import report_archive
from tests.factories import make_acme, make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

REGISTERED = {model._meta.label_lower: model for model in admin.site._registry}
VISITOR = {
    "ip_address": "203.0.113.7",
    "user_agent": "pytest",
    "http_accept": "text/html",
    "path_info": "/admin/login/",
}


def wave_symbol() -> Symbol:
    """WAVE: 120 bars of a sine wave, so a 10/30 crossover trades."""
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(symbol, start=date(2024, 1, 1), closes=price_closes(120, wave=15))
    return symbol


def backtest_run() -> BacktestRun:
    params = BacktestParams(initial_investment=Decimal(10_000), fast=10, slow=30)
    return backtest_run_create(ticker=wave_symbol().ticker, params=params)


def comparison() -> Comparison:
    wave_symbol(), make_acme()
    params = BacktestParams(initial_investment=Decimal(10_000), fast=10, slow=30)
    return comparison_create(tickers=["WAVE", "ACME"], params=params)


def trained_acme() -> Symbol:
    acme = make_acme()
    model_train(ticker=acme.ticker)
    return acme


def succeeded_task() -> Success:
    """A task run inline, kept by Django-Q2 as the cluster would keep it."""
    return Success.objects.get(pk=async_task("math.floor", 1.5, sync=True))


def failed_task() -> Failure:
    # Run inline, a failing task raises instead of being kept: stored as a worker would.
    now = timezone.now()
    return Failure.objects.create(
        id=uuid.uuid4().hex,
        name="smoke-failure",
        func="math.sqrt",
        args=(-1.0,),
        kwargs={},
        result="math domain error",
        started=now,
        stopped=now,
        success=False,
        attempt_count=1,
    )


def queued_task() -> OrmQ:
    # The test settings run tasks inline; this one must wait in the ORM broker.
    with mock.patch.object(Conf, "SYNC", False):
        async_task("math.floor", 1.5, sync=False)
    return OrmQ.objects.get()


# One object per registered model, made the way the product makes it.
BUILDERS: dict[str, Callable[[AbstractBaseUser], Model]] = {
    "auth.user": lambda user: user,
    "auth.group": lambda user: Group.objects.create(name="Smoke testers"),
    "axes.accessattempt": lambda user: AccessAttempt.objects.create(
        username="intruder",
        get_data="",
        post_data="username=intruder",
        failures_since_start=1,
        **VISITOR,
    ),
    "axes.accesslog": lambda user: AccessLog.objects.create(
        username=user.get_username(), **VISITOR
    ),
    "axes.accessfailurelog": lambda user: AccessFailureLog.objects.create(
        username="intruder", locked_out=False, **VISITOR
    ),
    "core.apitoken": lambda user: api_token_create(user=user, name="smoke").token,
    "core.symbol": lambda user: make_symbol("SMOKE", name="Smoke Inc"),
    "core.pricebar": lambda user: make_bars(
        make_symbol("SMOKE"), start=date(2024, 6, 3), closes=[170.0, 171.5]
    )[0],
    "core.corporateaction": lambda user: make_symbol("SMOKE").corporate_actions.create(
        kind="split", date=date(2024, 6, 3), split_factor=Decimal(4), source="import"
    ),
    "core.job": lambda user: job_create(
        kind=Job.Kind.FETCH, ticker="SMOKE", symbol=make_symbol("SMOKE")
    ),
    "backtesting.backtestrun": lambda user: backtest_run(),
    "backtesting.trade": lambda user: backtest_run().trades.first(),
    "backtesting.comparison": lambda user: comparison(),
    "backtesting.sweep": lambda user: sweep_create(
        ticker=make_acme().ticker,
        params=SweepParams(
            initial_investment=Decimal(10_000),
            fast=WindowRange(10, 30, 10),
            slow=WindowRange(60, 120, 60),
        ),
    ),
    "ml.trainedmodel": lambda user: model_train(ticker=make_acme().ticker),
    "ml.predictionrun": lambda user: forecast_create(ticker=trained_acme().ticker)[0],
    "reporting.report": lambda user: report_archive(ticker=make_acme().ticker),
    "django_q.schedule": lambda user: Schedule.objects.create(
        name="Smoke", func="math.floor", args="1.5", schedule_type=Schedule.DAILY
    ),
    "django_q.success": lambda user: succeeded_task(),
    "django_q.failure": lambda user: failed_task(),
    "django_q.ormq": lambda user: queued_task(),
}


@pytest.mark.parametrize("label", sorted(REGISTERED))
def test_the_changelist_and_a_change_page_open(admin_client, admin_user, label):
    model = REGISTERED[label]
    assert label in BUILDERS, f"{label} is registered: add a builder to BUILDERS"
    obj = model._default_manager.first() or BUILDERS[label](admin_user)
    assert obj is not None and obj.pk is not None, f"no {label} to open"
    meta = model._meta

    change_url = reverse(admin_urlname(meta, "change"), args=[obj.pk])

    changelist = admin_client.get(reverse(admin_urlname(meta, "changelist")))
    change = admin_client.get(change_url)

    assert changelist.status_code == 200, label
    assert change_url in changelist.content.decode(), "the list links the object"
    assert change.status_code == 200, label
