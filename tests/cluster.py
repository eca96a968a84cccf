"""A real Django-Q2 cluster in another process, sharing the test database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """The test database this process uses, as a URL the worker process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def running_cluster(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """`manage.py qcluster` on the ORM broker, polling every 0.2 s; stopped on exit.

    `env` adds to the test environment (provider settings and the like). The worker
    keeps Django-Q2's cluster name, so it reads the queue the tests write to.
    """
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get(
            "DJANGO_SETTINGS_MODULE", "core.settings_test"
        ),
        "DATABASE_URL": database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "DJANGO_Q_SYNC": "false",
        "DJANGO_Q_POLL": "0.2",
        "DJANGO_Q_WORKERS": "1",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=settings.BASE_DIR,
            env=full_env,
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
    text = log.read_text(errors="replace")
    if "Traceback" in text or "ERROR" in text:
        print(text[-4000:])
