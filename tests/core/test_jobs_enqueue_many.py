"""jobs_enqueue: many Jobs at once, their tasks pushed together to the broker."""

from __future__ import annotations

import pytest
from django_q.conf import Conf
from django_q.models import OrmQ

from core.models import Job, Symbol
from core.queue_broker import TaskBatch
from core.services import job_enqueue, jobs_enqueue
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Tasks wait in the ORM broker's queue instead of running inline."""
    monkeypatch.setattr(Conf, "SYNC", False)


def test_the_tasks_reach_the_queue_only_once_the_jobs_are_committed(
    queued, django_capture_on_commit_callbacks
):
    for ticker in ("AAA", "BBB"):
        make_symbol(ticker)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        jobs = jobs_enqueue(
            kind=Job.Kind.REPORT, symbols=Symbol.objects.all(), parameters={}
        )
    assert [job.ticker for job in jobs] == ["AAA", "BBB"]
    assert not OrmQ.objects.exists()
    assert set(Job.objects.values_list("task_id", flat=True)) == {""}

    for callback in callbacks:
        callback()

    task_ids = {task.task_id() for task in OrmQ.objects.all()}
    assert task_ids == set(Job.objects.values_list("task_id", flat=True))
    assert len(task_ids) == 2


def test_a_fetch_of_a_ticker_already_fetching_shares_that_job(
    queued, django_capture_on_commit_callbacks
):
    ibm, msft = make_symbol("IBM"), make_symbol("MSFT")
    with django_capture_on_commit_callbacks(execute=True):
        active = job_enqueue(kind=Job.Kind.FETCH, symbol=ibm)
        jobs = jobs_enqueue(kind=Job.Kind.FETCH, symbols=Symbol.objects.all())

    assert jobs[0] == active
    assert jobs[1].symbol == msft and jobs[1].task_id
    assert Job.objects.count() == 2
    assert OrmQ.objects.count() == 2


def test_a_broker_without_enqueue_many_gets_the_tasks_one_by_one(queued, monkeypatch):
    # Django-Q2's own ORM broker: what TaskBatch falls back to for any broker.
    monkeypatch.setattr(Conf, "BROKER_CLASS", "django_q.brokers.orm.ORM")
    batch = TaskBatch()
    assert not hasattr(batch.target, "enqueue_many")
    batch.enqueue("first")
    batch.enqueue("second")

    batch.push()

    assert sorted(OrmQ.objects.values_list("payload", flat=True)) == [
        "first",
        "second",
    ]
    assert batch.packages == []
