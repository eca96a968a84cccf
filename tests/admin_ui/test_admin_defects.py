"""Defects staff met in the admin, each pinned by the request that showed it.

Junk in a request is the user's 400 (or 404 for an id naming nothing), never a 500.
Several showed only on PostgreSQL, which refuses a NUL character in text and a value
longer than its column; SQLite stores either, so there the tests show the 400 only.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django_q.models import Success

from backtesting.models import BacktestRun
from backtesting.params import BacktestParams
from core.models import Job, Symbol
from core.services import job_create, job_enqueue, job_fail, job_succeed
from tests.admin_ui.conftest import confirm_dialog, csrf_token
from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(admin_user) -> Client:
    """A superuser whose server errors come back as 500 answers, as a browser sees."""
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.fixture
def wave() -> Symbol:
    symbol = make_symbol("WAVE", name="Wave Corp")
    make_bars(symbol, start=date(2023, 1, 2), closes=price_closes(260, wave=15))
    return symbol


def failed_job(symbol: Symbol | None = None) -> Job:
    job = job_create(
        kind=Job.Kind.FETCH, ticker=symbol.ticker if symbol else "ZZZ", symbol=symbol
    )
    return job_fail(
        job=job, message="Alpha Vantage does not know ZZZ.", code="unknown_symbol"
    )


# --- the symbol page's Backtest form --------------------------------------------------


def test_the_symbol_pages_backtest_form_queues_one_job_and_answers(
    client, wave, django_capture_on_commit_callbacks
):
    """It answered 500 ('NoneType' object has no attribute 'has_header') after
    queueing the Job."""
    url = f"/admin/core/symbol/{wave.pk}/backtest/"
    with django_capture_on_commit_callbacks(execute=True):
        dialog, done = confirm_dialog(
            client,
            url,
            {
                "initial_investment": "5000",
                "fast": "10",
                "slow": "30",
                "commission": "0.001",
            },
        )

    assert "Run an SMA-crossover backtest" in dialog.content.decode()
    assert done.status_code == 200
    assert done.headers["HX-Redirect"] == reverse(
        "admin:core_symbol_change", args=[wave.pk]
    )
    job = Job.objects.get()
    assert (job.kind, job.status) == (Job.Kind.BACKTEST, Job.Status.SUCCEEDED)
    run = BacktestRun.objects.get()
    assert (run.fast, run.slow, float(run.commission)) == (10, 30, 0.001)
    page = client.get(reverse("admin:core_symbol_change", args=[wave.pk]))
    assert "Queued 1 backtest job(s)" in page.content.decode()


def test_the_symbol_pages_backtest_form_with_bad_windows_says_why(client, wave):
    _, done = confirm_dialog(
        client,
        f"/admin/core/symbol/{wave.pk}/backtest/",
        {"initial_investment": "5000", "fast": "50", "slow": "20", "commission": "0"},
    )

    assert done.status_code == 200
    assert "fast &lt; slow" in done.content.decode()
    assert not Job.objects.exists()


# --- Job pages ------------------------------------------------------------------------


def test_a_job_page_shows_its_status_as_a_badge(client):
    """It showed the tuple ('failed', 'Failed') in place of the badge."""
    page = client.get(
        reverse("admin:core_job_change", args=[failed_job().pk])
    ).content.decode()

    assert "(&#x27;failed&#x27;, &#x27;Failed&#x27;)" not in page
    assert re.search(r'<span class="[^"]*bg-red-100[^"]*"\s*>\s*Failed\s*</span>', page)


def test_a_failed_jobs_page_has_a_retry_button_that_queues_it_again(
    client, admin_user, wave
):
    job = failed_job(wave)
    retry_url = reverse("admin:core_job_retry_detail", args=[job.pk])
    page = client.get(reverse("admin:core_job_change", args=[job.pk]))
    assert retry_url in page.content.decode()

    dialog, done = confirm_dialog(client, retry_url)

    assert "Retry this job?" in dialog.content.decode()
    new = Job.objects.exclude(pk=job.pk).get()
    assert done.headers["HX-Redirect"] == reverse(
        "admin:core_job_change", args=[new.pk]
    )
    assert (new.kind, new.ticker, new.created_by) == (job.kind, "WAVE", admin_user)
    new_page = client.get(reverse("admin:core_job_change", args=[new.pk]))
    assert f"a retry of job #{job.pk}" in new_page.content.decode()


def test_a_job_that_did_not_fail_has_no_retry_button(client):
    job = job_create(kind=Job.Kind.FETCH, ticker="OK")
    job_succeed(job=job)
    retry_url = reverse("admin:core_job_retry_detail", args=[job.pk])

    page = client.get(reverse("admin:core_job_change", args=[job.pk]))

    assert retry_url not in page.content.decode()
    assert client.get(retry_url).status_code == 403
    assert Job.objects.count() == 1


# --- the task queue -------------------------------------------------------------------


def test_the_task_queue_shows_the_outcome_of_each_tasks_job(
    client, django_capture_on_commit_callbacks
):
    """A task whose Job failed was listed as successful, and only that."""
    short = make_symbol("SHORT")
    make_bars(short, start=date(2024, 1, 1), closes=[10.0] * 20)
    params = BacktestParams(initial_investment=Decimal(1000), fast=50, slow=200)
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            kind=Job.Kind.BACKTEST, symbol=short, parameters=params.as_json()
        )
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "not_enough_data"
    task_id = job.task_id
    assert Success.objects.filter(pk=task_id).exists()  # Django-Q2 calls it a success
    job_url = reverse("admin:core_job_change", args=[job.pk])

    listing = client.get(reverse("admin:django_q_success_changelist"))
    failed_only = client.get(
        reverse("admin:django_q_success_changelist"), {"job_status": "failed"}
    )
    succeeded_only = client.get(
        reverse("admin:django_q_success_changelist"), {"job_status": "succeeded"}
    )
    task_page = client.get(reverse("admin:django_q_success_change", args=[task_id]))

    for response in (listing, failed_only, task_page):
        page = response.content.decode()
        assert re.search(
            rf'<a href="{job_url}"[^>]*bg-red-100[^>]*>\s*Failed\s*</a>', page
        )
    assert f'href="{job_url}"' not in succeeded_only.content.decode()
    assert "the outcome that counts" in listing.content.decode()


# --- junk in a request: 400, or 404 for ids naming nothing ----------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/admin/core/symbol/?ticker=%00",
        "/admin/core/symbol/?q=%00",
        "/admin/core/symbol/?exchange__exact=%00",
        "/admin/core/job/?status__exact=%00",
        "/admin/core/job/?q=ab%00c",
        "/admin/core/pricebar/?source__exact=%00",
        "/admin/core/apitoken/?q=%00",
        "/admin/django_q/success/?q=%00",
        "/admin/core/symbol/export/?ticker=%00",
        "/admin/autocomplete/?term=%00&app_label=core&model_name=symbol&field_name=x",
    ],
)
def test_a_nul_character_in_a_filter_or_search_is_a_400(client, wave, url):
    response = client.get(url)

    assert response.status_code == 400
    page = response.content.decode()
    assert "NUL character" in page and "Nothing was changed or queued" in page


@pytest.mark.parametrize(
    "path",
    [
        "core/symbol/{}/fetch/",
        "core/symbol/{}/backtest/",
        "core/symbol/{}/train/",
        "core/symbol/{}/forecast/",
        "core/symbol/{}/report/",
        "core/job/{}/retry/",
        "ml/trainedmodel/{}/activate/",
    ],
)
@pytest.mark.parametrize("object_id", ["abc", "99999", "1.5"])
def test_a_button_url_whose_id_names_nothing_is_a_404(client, path, object_id):
    url = "/admin/" + path.format(object_id)
    token = csrf_token(client.get(reverse("admin:core_symbol_changelist")))

    assert client.get(url).status_code == 404
    posted = client.post(url, {"csrfmiddlewaretoken": token, "_form_submitted": "True"})
    assert posted.status_code == 404
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "model", ["core/symbol", "core/pricebar", "backtesting/backtestrun"]
)
def test_an_export_link_with_a_filter_the_list_lacks_is_a_400(client, wave, model):
    response = client.get(f"/admin/{model}/export/?format=99")

    assert response.status_code == 400
    assert "a filter this list does not have" in response.content.decode()
    assert client.get(f"/admin/{model}/export/").status_code == 200


@pytest.mark.parametrize(
    ("changelist", "action"),
    [
        ("core_symbol", "fetch_prices"),
        ("core_symbol", "export_admin_action"),
        ("core_job", "retry"),
        ("core_apitoken", "revoke"),
        ("reporting_report", "delete_selected"),
    ],
)
@pytest.mark.parametrize("selected", ["abc", "", "1e3"])
def test_a_bulk_action_on_ids_that_are_not_ids_is_a_400(
    client, wave, changelist, action, selected
):
    response = client.post(
        reverse(f"admin:{changelist}_changelist"),
        {"action": action, "index": "0", "_selected_action": [str(wave.pk), selected]},
    )

    assert response.status_code == 400
    assert "is not the id of a" in response.content.decode()
    assert not Job.objects.exists()


def test_a_login_with_a_too_long_username_says_so(settings, django_user_model):
    """With django-axes recording the failure, PostgreSQL refused the 256 characters."""
    settings.AXES_ENABLED = True
    anonymous = Client(raise_request_exception=False)

    response = anonymous.post(
        reverse("admin:login"), {"username": "a" * 256, "password": "whatever"}
    )

    assert response.status_code == 200
    assert "at most 150 characters (it has 256)" in response.content.decode()
    django_user_model.objects.create_user(
        username="b" * 150, password="right-pass-123", is_staff=True
    )
    signed_in = anonymous.post(
        reverse("admin:login"),
        {"username": "b" * 150, "password": "right-pass-123", "next": "/admin/"},
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/admin/"
