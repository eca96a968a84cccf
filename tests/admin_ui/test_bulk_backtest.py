"""Run backtest on "select all" symbols: one Job each, queued in a fixed number of
queries, guarded by backtesting.run_backtest, and run by a real Django-Q2 cluster."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_q.conf import Conf
from django_q.models import OrmQ

from admin_ui.symbols import NAMED_SYMBOLS
from backtesting.models import BacktestRun
from core.models import Job
from tests.admin_ui.conftest import BACKTEST_FORM, csrf_token
from tests.cluster import running_cluster
from tests.factories import make_bars, make_symbol, price_closes

CHANGELIST = reverse("admin:core_symbol_changelist")


def bulk_backtest(client, search: str = "", *, first_id: int):
    """The two POSTs staff make: "select all" + Run backtest, then the form's submit.

    As the list page does, each names one row it showed and select_across=1; the
    search is in the URL, as on the list.
    """
    url = f"{CHANGELIST}?q={search}" if search else CHANGELIST
    token = csrf_token(client.get(url))
    selection = {
        "csrfmiddlewaretoken": token,
        "action": "run_backtest",
        "select_across": "1",
        "_selected_action": [str(first_id)],
    }
    form_page = client.post(url, {**selection, "index": "0"})
    done = client.post(url, {**selection, **BACKTEST_FORM, "apply": "1"})
    return form_page, done


def symbols_with_bars(prefix: str, count: int) -> list:
    symbols = [make_symbol(f"{prefix}{n:02d}") for n in range(count)]
    for symbol in symbols:
        make_bars(symbol, start=date(2024, 1, 1), closes=price_closes(80, wave=6))
    return symbols


@pytest.mark.django_db
def test_select_all_queues_one_job_per_symbol_in_the_same_number_of_queries(
    superuser_client, monkeypatch, django_capture_on_commit_callbacks
):
    # Kept in the ORM broker's queue, as for a cluster, instead of run inline.
    monkeypatch.setattr(Conf, "SYNC", False)
    few = [make_symbol(f"FEW{n}") for n in range(3)]
    many = [make_symbol(f"MANY{n:02d}") for n in range(30)]
    queries = {}
    for prefix, symbols in (("FEW", few), ("MANY", many)):
        with (
            django_capture_on_commit_callbacks(execute=True),
            CaptureQueriesContext(connection) as captured,
        ):
            _, done = bulk_backtest(superuser_client, prefix, first_id=symbols[0].pk)
        assert done.status_code == 302
        queries[prefix] = len(captured)

    assert queries["FEW"] == queries["MANY"]
    jobs = list(Job.objects.order_by("ticker"))
    assert [job.ticker for job in jobs] == sorted(s.ticker for s in few + many)
    assert {job.status for job in jobs} == {Job.Status.QUEUED}
    assert {job.kind for job in jobs} == {Job.Kind.BACKTEST}
    assert jobs[0].parameters["fast"] == 10 and jobs[0].parameters["slow"] == 30
    # Each Job is its own signed task, named by the Job's task id, as async_task
    # would have queued it one by one.
    tasks = {task.task_id(): task.task for task in OrmQ.objects.all()}
    assert len(tasks) == len(jobs)
    for job in jobs:
        task = tasks[job.task_id]
        assert task["func"] == "backtesting.tasks.run_backtest_task"
        assert task["args"] == (job.pk,)
        assert task["name"] == f"backtest-job-{job.pk}"


@pytest.mark.django_db
def test_the_form_after_select_all_names_a_few_symbols_and_counts_the_rest(
    superuser_client,
):
    symbols = [make_symbol(f"SEL{n:02d}") for n in range(NAMED_SYMBOLS + 5)]

    form_page, _ = bulk_backtest(superuser_client, first_id=symbols[0].pk)

    page = form_page.content.decode()
    assert f"{len(symbols)} symbols:" in page
    assert "<strong>SEL00</strong>" in page and "and 5 more" in page
    assert f"<strong>SEL{NAMED_SYMBOLS:02d}</strong>" not in page
    # One id and select_across go back, not one field per symbol.
    assert page.count('name="_selected_action"') == 1
    assert 'name="select_across" value="1"' in page


@pytest.mark.django_db
def test_the_search_on_the_list_limits_what_select_all_queues(
    superuser_client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", False)
    wanted = [make_symbol(f"KEEP{n}") for n in range(2)]
    make_symbol("OTHER")

    with django_capture_on_commit_callbacks(execute=True):
        bulk_backtest(superuser_client, "KEEP", first_id=wanted[0].pk)

    assert sorted(Job.objects.values_list("ticker", flat=True)) == ["KEEP0", "KEEP1"]


@pytest.mark.django_db
def test_staff_without_run_backtest_cannot_queue_a_bulk_backtest(
    viewer_client, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(Conf, "SYNC", False)
    symbols = [make_symbol(f"NOPE{n}") for n in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        form_page, done = bulk_backtest(viewer_client, first_id=symbols[0].pk)

    assert form_page.status_code == 403 and done.status_code == 403
    assert not Job.objects.exists()
    assert not OrmQ.objects.exists()


@pytest.mark.django_db
def test_a_symbol_that_fails_leaves_the_others_to_succeed(
    analyst_client, django_capture_on_commit_callbacks
):
    good = symbols_with_bars("GOOD", 2)
    short = make_symbol("SHORT")
    make_bars(short, start=date(2024, 1, 1), closes=[10.0] * 20)

    # The test settings run each task inline once the Jobs are committed.
    with django_capture_on_commit_callbacks(execute=True):
        bulk_backtest(analyst_client, first_id=good[0].pk)

    jobs = {job.ticker: job for job in Job.objects.all()}
    assert jobs["SHORT"].status == Job.Status.FAILED
    assert jobs["SHORT"].error_code == "not_enough_data"
    for symbol in good:
        job = jobs[symbol.ticker]
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.result_object == BacktestRun.objects.get(symbol=symbol)


def wait_for_all_final(count: int, timeout: float = 90.0) -> list[Job]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = list(Job.objects.all())
        if len(jobs) == count and all(job.is_final for job in jobs):
            return jobs
        time.sleep(0.2)
    states = sorted(Job.objects.values_list("ticker", "status"))
    raise AssertionError(f"jobs not final after {timeout} s: {states}")


@pytest.mark.cluster
@pytest.mark.django_db(transaction=True)
def test_a_cluster_runs_the_bulk_backtest_to_stored_runs(
    superuser_client, monkeypatch, tmp_path: Path
):
    monkeypatch.setattr(Conf, "SYNC", False)
    good = symbols_with_bars("RUN", 4)
    short = make_symbol("SHORT")
    make_bars(short, start=date(2024, 1, 1), closes=[10.0] * 20)

    _, done = bulk_backtest(superuser_client, first_id=good[0].pk)
    assert done.status_code == 302
    assert Job.objects.filter(status=Job.Status.QUEUED).count() == 5
    with running_cluster({"DJANGO_Q_WORKERS": "2"}, tmp_path / "qcluster.log"):
        jobs = {job.ticker: job for job in wait_for_all_final(5)}

    assert jobs["SHORT"].status == Job.Status.FAILED
    assert jobs["SHORT"].error_code == "not_enough_data"
    for symbol in good:
        job = jobs[symbol.ticker]
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert job.attempts == 1
        run = BacktestRun.objects.get(symbol=symbol)
        assert job.result_object == run
        assert (run.fast, run.slow) == (10, 30)
    assert not OrmQ.objects.exists()
    jobs_page = superuser_client.get(reverse("admin:core_job_changelist"))
    assert "Succeeded" in jobs_page.content.decode()
