"""The Fetch prices action, end to end, with a real Django-Q2 cluster on the ORM broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django_q.conf import Conf

from core.models import Job, PriceBar
from tests.factories import make_symbol

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


def test_database_url() -> str:
    """The URL of the database this test runs on, for the worker process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


test_database_url.__test__ = False  # a helper, not a test


@pytest.fixture
def cluster(fake_av, av_key, tmp_path: Path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "core.settings_test",
        "DATABASE_URL": test_database_url(),
        "DJANGO_Q_SYNC": "false",
        "DJANGO_Q_POLL": "0.2",
        "DJANGO_Q_WORKERS": "1",
        "PRICE_PROVIDER": "alpha_vantage",
        "ALPHA_VANTAGE_API_KEY": av_key,
        "ALPHA_VANTAGE_BASE_URL": fake_av.base_url,
        "ALPHA_VANTAGE_PLAN": "free",
    }
    log = tmp_path / "qcluster.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    print(log.read_text(errors="replace")[-3000:])


def wait_for_final(job_id: int, timeout: float = 60.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_final:
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout} s")


def test_fetch_action_runs_on_the_cluster(admin_client, cluster, fake_av, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    symbol = make_symbol("IBM")

    response = admin_client.post(
        reverse("admin:core_symbol_changelist"),
        {"action": "fetch_prices", "_selected_action": [symbol.pk]},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.status == Job.Status.QUEUED
    assert job.task_id

    job = wait_for_final(job.pk)

    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.attempts == 1
    assert job.result["inserted"] == 5
    assert job.result_object == symbol
    assert PriceBar.objects.filter(symbol=symbol).count() == 5
    assert len(fake_av.requests) == 1
    jobs_page = admin_client.get(reverse("admin:core_job_changelist")).content.decode()
    assert "Succeeded" in jobs_page
