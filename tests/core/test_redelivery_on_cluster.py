"""R23 on the production broker: a Job whose worker is SIGKILLed mid-task, or whose
whole cluster is, runs again once `retry` has passed and ends succeeded; a cluster
stopped with SIGTERM finishes its running task first.

A real `manage.py qcluster` (production settings, ORM broker, timeout 4 s, retry 6 s)
fetches IBM from the fake Alpha Vantage, which holds its first answer back; while
the worker waits for it, the worker process (found by its connection to the fake) or
the cluster's whole process group is killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django_q.conf import Conf
from django_q.models import OrmQ

from core.models import Job, PriceBar
from core.services import job_enqueue
from tests.cluster import database_url
from tests.factories import make_symbol
from tests.fakes.alphavantage import FakeAlphaVantage, FakeResponse

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

TIMEOUT, RETRY = 4, 6
# The re-delivered attempt: a second's polling and a fetch from loopback.
MARGIN = 6.0


@pytest.fixture
def cluster_env(fake_av: FakeAlphaVantage, av_key: str, tmp_path: Path) -> dict:
    return {
        **os.environ,
        # Production settings (what ECS runs), on this test's database.
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_Q_SYNC": "false",
        "DJANGO_Q_WORKERS": "1",
        "DJANGO_Q_POLL": "0.2",
        "DJANGO_Q_TIMEOUT": str(TIMEOUT),
        "DJANGO_Q_RETRY": str(RETRY),
        "DJANGO_Q_HEARTBEAT_FILE": str(tmp_path / "qcluster.heartbeat"),
        "PRICE_PROVIDER": "alpha_vantage",
        "ALPHA_VANTAGE_API_KEY": av_key,
        "ALPHA_VANTAGE_BASE_URL": fake_av.base_url,
        "ALPHA_VANTAGE_PLAN": "free",
        "ALPHA_VANTAGE_MIN_INTERVAL": "0",
        # The held-back answer must outlast the kill, not time out first.
        "ALPHA_VANTAGE_TIMEOUT": "60",
    }


@contextlib.contextmanager
def qcluster(env: dict, log: Path) -> Iterator[subprocess.Popen]:
    """`manage.py qcluster` in a process group of its own (so all of it can be
    killed at once, as when a container dies); stopped on exit."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            # The system checks (a third of the start-up) have tests of their own.
            [sys.executable, "manage.py", "qcluster", "--skip-checks"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def children(pid: int) -> list[int]:
    """Every live descendant of pid, from /proc (Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def connected_to(port: int, pids: list[int]) -> list[int]:
    """Those of pids holding an established TCP connection to 127.0.0.1:port."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                    inodes.add(f"socket:[{fields[9]}]")
    holders = []
    for pid in pids:
        with contextlib.suppress(OSError):
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(_readlink(f"/proc/{pid}/fd/{fd}") in inodes for fd in fds):
                holders.append(pid)
    return holders


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def worker_in_the_provider_call(
    cluster: subprocess.Popen, fake: FakeAlphaVantage, timeout: float = 30.0
) -> int:
    """The pid of the cluster process waiting for the fake's held-back answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert cluster.poll() is None, "the cluster exited"
        if fake.requests:
            holders = connected_to(fake.port, children(cluster.pid))
            if len(holders) == 1:
                return holders[0]
        time.sleep(0.02)
    raise AssertionError(f"no worker called the provider within {timeout} s")


def wait_until_running(
    cluster: subprocess.Popen, log: Path, *, runs: int, timeout: float = 60.0
) -> None:
    """Until the log says `runs` clusters reached "running" (imports take seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert cluster.poll() is None, "the cluster exited"
        if log.read_text(errors="replace").count("] running.") >= runs:
            return
        time.sleep(0.1)
    raise AssertionError(f"the cluster did not start within {timeout} s")


def wait_for_final(job_id: int, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if job.is_final:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout:.0f} s")


@pytest.fixture
def held_back_fetch(fake_av: FakeAlphaVantage, monkeypatch) -> Job:
    """A fetch Job queued on the real broker; its first provider answer hangs."""
    monkeypatch.setattr(Conf, "SYNC", False)
    fake_av.script(FakeResponse.slow(120))
    make_symbol("IBM")
    return job_enqueue(kind=Job.Kind.FETCH, symbol="IBM")


def assert_ran_again_and_succeeded(job: Job, fake: FakeAlphaVantage) -> None:
    assert job.status == Job.Status.SUCCEEDED, (job.error_code, job.error)
    assert job.attempts == 2
    assert job.result["inserted"] == 5
    assert PriceBar.objects.filter(symbol__ticker="IBM").count() == 5
    # The killed attempt's call, then the re-delivered one's.
    assert len(fake.price_requests) == 2


def test_a_worker_killed_mid_task_leaves_the_task_to_run_again(
    held_back_fetch, fake_av, cluster_env, tmp_path
):
    log = tmp_path / "qcluster.log"
    with qcluster(cluster_env, log) as cluster:
        worker = worker_in_the_provider_call(cluster, fake_av)
        assert worker != cluster.pid
        os.kill(worker, signal.SIGKILL)
        killed_at = time.monotonic()

        job = wait_for_final(held_back_fetch.pk, RETRY + MARGIN)
        took = time.monotonic() - killed_at

        assert cluster.poll() is None  # only the worker died; the cluster replaced it
        # The container's health check reads the cluster's heartbeat file.
        check = subprocess.run(
            [sys.executable, "docker/healthcheck.py", "worker"],
            cwd=settings.BASE_DIR,
            env={"DJANGO_Q_HEARTBEAT_FILE": cluster_env["DJANGO_Q_HEARTBEAT_FILE"]},
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        assert check.returncode == 0, check.stderr
    assert_ran_again_and_succeeded(job, fake_av)
    assert took <= RETRY + MARGIN
    assert "reincarnated worker" in log.read_text()


def test_a_cluster_killed_whole_leaves_the_task_to_the_next_cluster(
    held_back_fetch, fake_av, cluster_env, tmp_path
):
    log = tmp_path / "qcluster.log"
    with qcluster(cluster_env, log) as first:
        worker_in_the_provider_call(first, fake_av)
        os.killpg(first.pid, signal.SIGKILL)  # the container died: every process
        killed_at = time.monotonic()
        first.wait(timeout=5)
    assert Job.objects.get(pk=held_back_fetch.pk).status == Job.Status.RUNNING

    with qcluster(cluster_env, log) as second:
        wait_until_running(second, log, runs=2)
        # Re-delivered once retry has passed since the first cluster took the task,
        # or at once if the new cluster took longer than that to start.
        left = max(0.0, RETRY - (time.monotonic() - killed_at))
        job = wait_for_final(held_back_fetch.pk, left + MARGIN)

    assert_ran_again_and_succeeded(job, fake_av)


def test_a_stopped_cluster_finishes_the_running_task_before_it_exits(
    fake_av, cluster_env, tmp_path, monkeypatch
):
    # ECS stops a task with SIGTERM first: the running task ends and is acknowledged.
    monkeypatch.setattr(Conf, "SYNC", False)
    fake_av.script(FakeResponse.slow(2))
    make_symbol("IBM")
    job = job_enqueue(kind=Job.Kind.FETCH, symbol="IBM")
    with qcluster(cluster_env, tmp_path / "qcluster.log") as cluster:
        worker_in_the_provider_call(cluster, fake_av)
        cluster.terminate()
        cluster.wait(timeout=30)

    job.refresh_from_db()
    assert (job.status, job.attempts) == (Job.Status.SUCCEEDED, 1)
    assert len(fake_av.price_requests) == 1
    assert not OrmQ.objects.exists()  # acknowledged: nothing left to hand out again
