"""One active fetch Job per ticker, kept by the database: a second request for a fetch
already queued or running is answered with that Job; other kinds stay one per request."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from core.models import Job
from core.services import job_create, job_enqueue, job_fail, job_retry, job_succeed
from tests.cluster import database_url
from tests.concurrency import run_concurrently

BACKTEST = {"initial_investment": "1000", "fast": 10, "slow": 30}


@pytest.mark.django_db
def test_a_second_fetch_while_one_is_queued_gets_that_job_and_queues_nothing(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = job_enqueue(kind=Job.Kind.FETCH, symbol="ACME")
        second = job_enqueue(kind=Job.Kind.FETCH, symbol="ACME")
        other = job_enqueue(kind=Job.Kind.FETCH, symbol="OTHER")

    assert second.pk == first.pk
    assert other.pk != first.pk
    assert Job.objects.count() == 2
    assert len(callbacks) == 2


@pytest.mark.django_db
def test_a_running_fetch_is_shared_and_a_finished_one_is_not(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False):
        first = job_enqueue(kind=Job.Kind.FETCH, symbol="ACME")
        Job.objects.filter(pk=first.pk).update(status=Job.Status.RUNNING)
        assert job_enqueue(kind=Job.Kind.FETCH, symbol="ACME").pk == first.pk
        job_succeed(job=Job.objects.get(pk=first.pk))
        after_success = job_enqueue(kind=Job.Kind.FETCH, symbol="ACME")
        job_fail(job=after_success, message="The provider is down.")
        after_failure = job_enqueue(kind=Job.Kind.FETCH, symbol="ACME")

    assert len({first.pk, after_success.pk, after_failure.pk}) == 3


@pytest.mark.django_db
def test_backtests_are_never_shared_even_with_the_same_parameters(
    acme, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = job_enqueue(kind=Job.Kind.BACKTEST, symbol=acme, parameters=BACKTEST)
        second = job_enqueue(kind=Job.Kind.BACKTEST, symbol=acme, parameters=BACKTEST)

    assert first.pk != second.pk
    assert len(callbacks) == 2


@pytest.mark.django_db
def test_retrying_a_failed_fetch_while_another_is_active_gives_the_active_one(
    admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        failed = job_enqueue(kind=Job.Kind.FETCH, symbol="ACME")
        job_fail(job=failed, message="The provider is down.")
        active = job_enqueue(kind=Job.Kind.FETCH, symbol="ACME")
        retried = job_retry(job=failed, user=admin_user)

    assert retried.pk == active.pk != failed.pk
    assert len(callbacks) == 2


@pytest.mark.django_db
def test_the_database_refuses_a_second_active_fetch_of_a_ticker():
    job_create(kind=Job.Kind.FETCH, ticker="ACME")
    job_create(kind=Job.Kind.BACKTEST, ticker="ACME")
    job_create(kind=Job.Kind.BACKTEST, ticker="ACME")

    with pytest.raises(IntegrityError), transaction.atomic():
        job_create(kind=Job.Kind.FETCH, ticker="ACME")


@pytest.mark.django_db(transaction=True)
def test_twenty_threads_queueing_one_fetch_make_one_job_and_one_task(monkeypatch):
    # Each thread commits at once (autocommit), so its task would run inline in the
    # test settings' sync mode and end the Job; here the tasks are only counted.
    sent: list[tuple] = []
    monkeypatch.setattr(
        "core.services.async_task", lambda *args, **kwargs: sent.append(args) or "t"
    )

    jobs = run_concurrently(
        lambda: job_enqueue(kind=Job.Kind.FETCH, symbol="ACME").pk, 20
    )

    assert len(set(jobs)) == 1
    assert Job.objects.count() == 1
    assert sent == [("ingestion.tasks.fetch_prices_task", jobs[0])]


# A worker process: set up Django, say so, wait for the common start, queue a fetch.
ENQUEUE_ON_GO = """
import pathlib, sys, time
import django
django.setup()
from core.models import Job
from core.services import job_enqueue
ready, go = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
ready.touch()
give_up = time.monotonic() + 120
while not go.exists() and time.monotonic() < give_up:
    time.sleep(0.005)
print(job_enqueue(kind=Job.Kind.FETCH, symbol="ACME").pk)
"""


@pytest.mark.django_db(transaction=True)
def test_processes_queueing_one_fetch_at_once_make_one_job(tmp_path):
    """Separate processes, as gunicorn workers are, released at the same instant."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings_test",
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        # The task is put on the ORM queue, not run: no worker reads it here.
        "DJANGO_Q_SYNC": "false",
    }
    go = tmp_path / "go"
    ready = [tmp_path / f"ready-{n}" for n in range(4)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", ENQUEUE_ON_GO, str(path), str(go)],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in ready
    ]
    try:
        give_up = time.monotonic() + 120
        while not all(path.exists() for path in ready):
            assert time.monotonic() < give_up, "the processes did not start"
            assert all(p.poll() is None for p in processes), "a process ended early"
            time.sleep(0.05)
        go.touch()
        outputs = []
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            outputs.append(int(out.split()[-1]))
    finally:
        for process in processes:
            process.kill()

    assert len(set(outputs)) == 1
    assert Job.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_ends_duplicate_active_fetches_before_adding_the_constraint():
    executor = MigrationExecutor(connection)
    before = [("core", "0003_permissions")]
    after = [("core", "0004_job_one_active_fetch_per_ticker")]
    executor.migrate(before)
    try:
        old_job = executor.loader.project_state(before).apps.get_model("core", "Job")
        rows = [
            ("ACME", "queued"),
            ("ACME", "running"),
            ("ACME", "queued"),
            ("ACME", "succeeded"),
            ("SOLO", "queued"),
        ]
        made = [
            old_job.objects.create(kind="fetch", ticker=t, status=s) for t, s in rows
        ]
        old_job.objects.create(kind="backtest", ticker="ACME", status="queued")
        old_job.objects.create(kind="backtest", ticker="ACME", status="queued")
    finally:
        executor.loader.build_graph()
        executor.migrate(after)
        statuses = dict(Job.objects.filter(kind="fetch").values_list("pk", "status"))
        # Back to the latest schema, or later tests run without the newer migrations.
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    assert [statuses[job.pk] for job in made] == [
        "failed",
        "running",
        "failed",
        "succeeded",
        "queued",
    ]
    assert set(
        Job.objects.filter(status="failed").values_list("error_code", flat=True)
    ) == {"duplicate"}
    assert Job.objects.filter(kind="backtest", status="queued").count() == 2
