"""Container health checks, with nothing but Python (no curl in the image).

python docker/healthcheck.py web     GET /healthz on this container: 200 = healthy
python docker/healthcheck.py worker  a Django-Q2 cluster on this host reported to the
                                     Redis broker within the last seconds
Exit 0 when healthy, 1 otherwise (Docker and ECS read the exit code).
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request


def _host() -> str:
    """A name from ALLOWED_HOSTS, so Django's host check lets the probe in."""
    for entry in os.environ.get("ALLOWED_HOSTS", "").split(","):
        name = entry.strip().lstrip(".")
        if name and name != "*":
            return name
    return "localhost"


def web() -> bool:
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
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import django

    django.setup()
    from django.conf import settings

    if "redis" not in settings.Q_CLUSTER:
        # The ORM broker keeps cluster stats in a per-process cache: only the
        # database can be checked from outside.
        from django.db import connection

        connection.ensure_connection()
        return True
    from django_q.status import Stat

    me = socket.gethostname()
    return any(stat.host == me for stat in Stat.get_all())


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
