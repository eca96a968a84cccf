"""The Fetch prices action, end to end, with a real Django-Q2 cluster on the ORM broker."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.urls import reverse
from django_q.conf import Conf

from core.models import Job, PriceBar
from tests.cluster import running_cluster
from tests.factories import make_symbol

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cluster(fake_av, av_key, tmp_path: Path):
    provider = {
        "PRICE_PROVIDER": "alpha_vantage",
        "ALPHA_VANTAGE_API_KEY": av_key,
        "ALPHA_VANTAGE_BASE_URL": fake_av.base_url,
        "ALPHA_VANTAGE_PLAN": "free",
    }
    with running_cluster(provider, tmp_path / "qcluster.log") as process:
        yield process


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
    assert len(fake_av.price_requests) == 1
    jobs_page = admin_client.get(reverse("admin:core_job_changelist")).content.decode()
    assert "Succeeded" in jobs_page
