"""Container health checks, with nothing but Python's standard library (no curl in
the image, and no Django: a check runs every 30 s beside the real work).

python docker/healthcheck.py web     GET /healthz on this container: 200 = healthy
python docker/healthcheck.py worker  the Django-Q2 cluster in this container touched
                                     DJANGO_Q_HEARTBEAT_FILE within the last
                                     DJANGO_Q_HEARTBEAT_MAX_AGE seconds (default 30;
                                     core.queue_broker writes it every 5 s)
Exit 0 when healthy, 1 otherwise (Docker and ECS read the exit code).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time


def _host() -> str:
    """A name from ALLOWED_HOSTS, so Django's host check lets the probe in."""
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = entry.strip().lstrip(".")
        if name and name != "*":
            return name
    return "localhost"


def web() -> bool:
    import urllib.request

    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"Host": _host()}
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310 - loopback
            return response.status == 200
    except OSError:
        return False


def worker() -> bool:
    name = os.environ.get("DJANGO_Q_HEARTBEAT_FILE", "").strip()
    if not name:
        raise RuntimeError("DJANGO_Q_HEARTBEAT_FILE is not set")
    # Relative to the temporary directory, as core/settings.py resolves it.
    path = os.path.join(tempfile.gettempdir(), name)
    max_age = float(os.environ.get("DJANGO_Q_HEARTBEAT_MAX_AGE", "").strip() or 30)
    # A missing file (the cluster never started) raises: unhealthy, with the reason.
    age = time.time() - os.stat(path).st_mtime
    if age > max_age:
        raise RuntimeError(f"the cluster's last heartbeat is {age:.0f} s old")
    return True


if __name__ == "__main__":
    checks = {"web": web, "worker": worker}
    if len(sys.argv) != 2 or sys.argv[1] not in checks:
        sys.exit("usage: healthcheck.py web|worker")
    try:
        healthy = checks[sys.argv[1]]()
    except Exception as exc:  # any failure is "unhealthy", with the reason
        print(f"unhealthy: {exc}", file=sys.stderr)
        healthy = False
    sys.exit(0 if healthy else 1)
