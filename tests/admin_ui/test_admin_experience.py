"""Dashboard, schedules, job retry, exports, the symbol page and who may log in."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import openpyxl
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from backtesting.models import BacktestRun
from backtesting.params import BacktestParams
from backtesting.services import backtest_run_create
from core.models import Job, PriceBar, Symbol
from core.schedules import schedules_setup
from core.services import api_token_create, job_create, job_fail
from ingestion.models import ProviderAccount, ProviderDailyUsage
from ingestion.selectors import watchlist_refresh_plan
from ingestion.services.metering import key_fingerprint
from ingestion.tasks import refresh_watchlist_task
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


def wave(ticker: str, n: int = 260) -> Symbol:
    symbol = make_symbol(ticker, name=f"{ticker} Corp")
    make_bars(symbol, start=date(2024, 1, 1), closes=price_closes(n, wave=15))
    return symbol


# --- dashboard -----------------------------------------------------------------------


def test_the_dashboard_shows_counts_backtests_and_what_needs_attention(admin_client):
    good, bad = wave("GOOD"), wave("BAD")
    Symbol.objects.filter(pk=bad.pk).update(
        last_fetched_at=timezone.now() - timedelta(days=5)
    )
    Symbol.objects.filter(pk=good.pk).update(last_fetched_at=timezone.now())
    backtest_run_create(
        ticker="GOOD", params=BacktestParams(initial_investment=1000, fast=10, slow=30)
    )
    failed = job_create(kind=Job.Kind.FETCH, ticker="ZZZ")
    job_fail(
        job=failed,
        message="Alpha Vantage does not know the symbol 'ZZZ'.",
        code="unknown_symbol",
    )

    page = admin_client.get(reverse("admin:index")).content.decode()

    assert "Symbols tracked" in page and "Price bars stored" in page
    assert f"{PriceBar.objects.count():,}" in page
    assert "1 failed in the last 24 hours" in page
    assert "Alpha Vantage calls today" in page and "0 of 25" in page
    assert "GOOD SMA 10/30" in page
    assert "Fetch prices ZZZ" in page and "does not know the symbol" in page
    assert "BAD" in page and "last fetched" in page
    assert 'data-type="bar"' in page


# --- schedules -----------------------------------------------------------------------


def test_setup_schedules_is_idempotent():
    made = schedules_setup(now=datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    again = schedules_setup()
    assert [s.pk for s in made] == [s.pk for s in again]
    assert Schedule.objects.count() == 2
    by_name = {s.name: s for s in made}
    assert set(by_name) == {"Nightly watchlist refresh", "Sweep stuck jobs"}
    first = Schedule.objects.get(name="Nightly watchlist refresh")
    sweeper = Schedule.objects.get(name="Sweep stuck jobs")
    assert sweeper.func == "core.tasks.sweep_stuck_jobs_task"
    assert (sweeper.schedule_type, sweeper.minutes) == (Schedule.MINUTES, 10)
    assert first.func == "ingestion.tasks.refresh_watchlist_task"
    assert first.schedule_type == Schedule.DAILY
    assert first.next_run == datetime(2026, 3, 2, 22, 30, tzinfo=UTC)


def test_the_nightly_refresh_stays_within_the_call_budget(provider_settings, av_key):
    provider_settings.ALPHA_VANTAGE_DAILY_LIMIT = 3
    for ticker in ("AAA", "BBB", "CCC", "DDD"):
        make_symbol(ticker)
    make_symbol("OFF", is_active=False)
    account = ProviderAccount.objects.create(
        provider="alpha_vantage", key_fingerprint=key_fingerprint(av_key)
    )
    ProviderDailyUsage.objects.create(
        account=account, day=datetime.now(tz=UTC).date(), calls=1
    )

    plan = watchlist_refresh_plan()

    assert plan.calls_left == 2
    assert [s.ticker for s in plan.to_fetch] == ["AAA", "BBB"]
    assert [s.ticker for s in plan.waiting] == ["CCC", "DDD"]
    queued = refresh_watchlist_task()
    assert queued == {"queued": ["AAA", "BBB"]}
    assert set(Job.objects.values_list("ticker", flat=True)) == {"AAA", "BBB"}


def test_symbols_fetched_longest_ago_go_first():
    old, recent, never = make_symbol("OLD"), make_symbol("NEW"), make_symbol("NEVER")
    Symbol.objects.filter(pk=old.pk).update(
        last_fetched_at=timezone.now() - timedelta(days=9)
    )
    Symbol.objects.filter(pk=recent.pk).update(
        last_fetched_at=timezone.now() - timedelta(days=2)
    )
    assert [s.ticker for s in watchlist_refresh_plan().to_fetch] == [
        "NEVER",
        "OLD",
        "NEW",
    ]
    assert never.is_active


def test_the_dashboard_says_which_symbols_wait_for_budget(
    admin_client, provider_settings
):
    provider_settings.ALPHA_VANTAGE_DAILY_LIMIT = 0
    make_symbol("LATE")
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Waiting for tomorrow" in page and "LATE" in page


# --- jobs ----------------------------------------------------------------------------


def test_retry_queues_a_new_job_for_failed_ones_only(
    admin_client, django_capture_on_commit_callbacks
):
    symbol = wave("RETRY")
    failed = job_create(
        kind=Job.Kind.BACKTEST,
        ticker="RETRY",
        symbol=symbol,
        parameters=BacktestParams(initial_investment=1000, fast=10, slow=30).as_json(),
    )
    job_fail(job=failed, message="worker died", code="internal_error")
    fine = job_create(kind=Job.Kind.FETCH, ticker="RETRY", symbol=symbol)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:core_job_changelist"),
            {"action": "retry", "_selected_action": [failed.pk, fine.pk]},
            follow=True,
        )

    assert "Queued 1 new job(s) (1 not failed, left alone)" in response.content.decode()
    new = Job.objects.exclude(pk__in=[failed.pk, fine.pk]).get()
    assert new.kind == Job.Kind.BACKTEST and new.parameters == failed.parameters
    assert new.status == Job.Status.SUCCEEDED
    assert BacktestRun.objects.count() == 1


def test_a_job_page_shows_its_parameters_timings_and_error(admin_client):
    job = job_create(kind=Job.Kind.BACKTEST, ticker="X", parameters={"fast": 10})
    job_fail(job=job, message="X has 20 bars; needs 202.", code="not_enough_data")
    page = admin_client.get(
        reverse("admin:core_job_change", args=[job.pk])
    ).content.decode()
    assert "needs 202" in page and "not_enough_data" in page and "fast" in page


# --- exports -------------------------------------------------------------------------


EXPORTS = [
    ("core_symbol", "symbolresource", "ticker"),
    ("core_pricebar", "pricebarresource", "close"),
    ("backtesting_backtestrun", "backtestrunresource", "total_return_pct"),
    ("backtesting_trade", "traderesource", "pnl"),
]


@pytest.mark.parametrize(("model", "resource", "column"), EXPORTS)
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_lists_export_to_csv_and_xlsx(
    admin_client, model, resource, column, file_format
):
    wave("EXP")
    backtest_run_create(
        ticker="EXP", params=BacktestParams(initial_investment=1000, fast=10, slow=30)
    )
    response = admin_client.post(
        reverse(f"admin:{model}_export"),
        {
            "format": {"csv": 0, "xlsx": 1}[file_format],
            "resource": 0,
            f"{resource}_{column}": "on",
        },
    )
    assert response.status_code == 200, response.content[:300]
    if file_format == "csv":
        header = response.content.decode().splitlines()[0]
    else:
        header = ",".join(
            str(v)
            for v in next(
                openpyxl.load_workbook(io.BytesIO(response.content)).active.values
            )
        )
    assert column in header


def test_selected_rows_export_from_the_action(admin_client):
    chosen, other = wave("PICK"), wave("SKIP")
    form = admin_client.post(
        reverse("admin:core_symbol_changelist"),
        {"action": "export_admin_action", "_selected_action": [chosen.pk]},
    )
    assert form.status_code == 200 and "export_items" in form.content.decode()
    response = admin_client.post(
        reverse("admin:core_symbol_export"),
        {
            "format": 0,
            "resource": 0,
            "symbolresource_ticker": "on",
            "export_items": [chosen.pk],
        },
    )
    text = response.content.decode()
    assert "PICK" in text and "SKIP" not in text
    assert other.pk


# --- the symbol page ------------------------------------------------------------------


def test_the_symbol_page_has_its_chart_bars_runs_and_buttons(admin_client):
    symbol = wave("PAGE")
    backtest_run_create(
        ticker="PAGE", params=BacktestParams(initial_investment=1000, fast=10, slow=30)
    )
    page = admin_client.get(
        reverse("admin:core_symbol_change", args=[symbol.pk])
    ).content.decode()
    for text in (
        "Price chart",
        "Recent bars",
        "Backtests",
        "Forecasts",
        "Reports",
        "SMA 200",
    ):
        assert text in page
    for path in ("fetch", "backtest", "forecast", "report"):
        assert (
            reverse("admin:core_symbol_change", args=[symbol.pk]).replace("change/", "")
            in page
        )
        assert f"/{path}/" in page


def test_the_detail_buttons_ask_then_queue_jobs(
    admin_client, django_capture_on_commit_callbacks
):
    symbol = wave("BTN")
    base = reverse("admin:core_symbol_change", args=[symbol.pk]).replace("change/", "")
    asked = admin_client.get(f"{base}report/")
    assert "Generate a report?" in asked.content.decode()
    assert not Job.objects.exists()  # opening a button's URL queues nothing
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{base}report/", {"_form_submitted": "True"}, follow=True
        )
    assert "Queued 1 report job(s)" in response.content.decode()
    assert Job.objects.get().kind == Job.Kind.REPORT
    form = admin_client.get(f"{base}backtest/")
    assert "Queue backtest" in form.content.decode()


# --- access --------------------------------------------------------------------------


def test_a_token_for_a_non_staff_user_reaches_the_api_but_not_the_admin(
    django_user_model,
):
    user = django_user_model.objects.create_user(
        username="robot", password="robot-pass-123"
    )
    wave("APIX")
    job = job_create(kind=Job.Kind.FETCH, ticker="APIX", created_by=user)
    key = api_token_create(user=user, name="robot").raw_key
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    # It reads what it started; work needs a staff member's permission (DESIGN §11).
    assert api.get(f"/jobs/{job.pk}/").status_code == 200
    assert api.get("/backtest/APIX/1000/?fast=10&slow=30").status_code == 403
    assert api.get("/admin/").status_code == 302  # to the login page
    browser = Client()
    assert not browser.login(username="robot", password="robot-pass-123") or (
        browser.get("/admin/").status_code == 302
    )


def test_repeated_failed_logins_are_locked_out(settings, django_user_model):
    settings.AXES_ENABLED = True
    django_user_model.objects.create_user(
        username="staff", password="right-pass-123", is_staff=True
    )
    client = Client()
    url = reverse("admin:login")
    for _ in range(5):
        client.post(url, {"username": "staff", "password": "wrong", "next": "/admin/"})
    locked = client.post(
        url, {"username": "staff", "password": "right-pass-123", "next": "/admin/"}
    )
    assert locked.status_code == 429
    other = Client()
    assert other.post(url, {"username": "other", "password": "x"}).status_code == 200


def test_the_sweeper_fails_jobs_a_dead_worker_left_behind(settings):
    from core.tasks import sweep_stuck_jobs_task

    running = job_create(kind=Job.Kind.FETCH, ticker="DEAD")
    recent = job_create(kind=Job.Kind.FETCH, ticker="BUSY")
    old_queued = job_create(kind=Job.Kind.FETCH, ticker="LOST")
    long_ago = timezone.now() - timedelta(hours=2)
    Job.objects.filter(pk=running.pk).update(
        status=Job.Status.RUNNING, started_at=long_ago
    )
    Job.objects.filter(pk=recent.pk).update(
        status=Job.Status.RUNNING, started_at=timezone.now()
    )
    Job.objects.filter(pk=old_queued.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )

    assert sweep_stuck_jobs_task() == {"failed": 2}

    states = dict(Job.objects.values_list("ticker", "status"))
    assert states == {"DEAD": "failed", "BUSY": "running", "LOST": "failed"}
    assert "Retry it" in Job.objects.get(ticker="DEAD").error
