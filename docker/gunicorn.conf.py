"""Gunicorn settings for the StockDesk web container, all from the environment.

GUNICORN_WORKERS       processes (default 2; about 2 per vCPU)
GUNICORN_THREADS       threads per process (default 4, at least 2): the gthread worker
GUNICORN_TIMEOUT       seconds before a stuck worker is restarted (default 60)
GUNICORN_MAX_REQUESTS  requests before a process is replaced (default 1000), plus a
                       random 0..GUNICORN_MAX_REQUESTS_JITTER more (default half of it)
GUNICORN_BIND          address (default 0.0.0.0:$PORT, PORT defaulting to 8000)

The application is loaded once, in the master, before the workers fork (preload_app),
and a process that is replaced skips the interpreter's shutdown (worker_exit), so its
successor serves within a second instead of after importing pandas, scikit-learn and
matplotlib again (6-14 s). Used by the image's command (Dockerfile), hence ECS and
compose, and by scripts/prod-smoke.sh.
"""

import gc
import os
from typing import Any

# gunicorn puts its working directory (the project) first on sys.path before it
# reads this file.
from core.log_config import logging_config


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# All interfaces inside the container; only the load balancer reaches the port.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = _int("GUNICORN_WORKERS", 2)
# Threads share a process's memory; the report charts are thread-safe
# (reporting/charts.py) and PDF renders are capped below the thread count
# (reporting/pdf.py), so a slow report never takes the thread /healthz needs.
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Longer than the ALB's 60 s idle timeout, so the balancer closes idle connections first.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
preload_app = True
# Replace processes now and then: pandas and matplotlib grow a process's memory. The
# wide jitter spreads the processes' ends apart, and with the app preloaded a
# replacement serves again within a second, so the processes are never all gone.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", max_requests // 2)
# Logs to stderr (CloudWatch through the awslogs driver), one line per event in the
# app's format (LOG_FORMAT, json by default) through the app's handler: gunicorn's
# own lines too, from its first one on, before Django loads. No access log here: the
# app writes one line per request, with its request id (core/request_id.py).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logconfig_dict = logging_config(
    log_format=os.environ.get("LOG_FORMAT", "").strip().lower() or "json",
    level=os.environ.get("LOG_LEVEL", "").strip().upper() or "INFO",
    secrets=[os.environ.get("ALPHA_VANTAGE_API_KEY")],
)
# The load balancer is the only client; Django itself trusts X-Forwarded-Proto only
# when USE_X_FORWARDED_PROTO=true.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
# No gunicornc control socket: nothing uses it, and it would be written under $HOME
# (read-only /app in the image; shared between servers on one machine).
control_socket_disable = True


def on_starting(server: Any) -> None:
    """In the master, with the app preloaded: check the thread budget, then import
    every view (Django loads the URLconf lazily, on a process's first request) so the
    forked workers inherit it all, and fork with no database connection open."""
    from django.conf import settings
    from django.db import connections
    from django.urls import get_resolver

    from backtesting.sweeps import warm_up

    threads = server.cfg.threads
    pdf = settings.REPORT_PDF_MAX_RENDERS + settings.REPORT_PDF_MAX_WAITING
    if threads < 2 or pdf >= threads:
        raise RuntimeError(
            f"GUNICORN_THREADS={threads} leaves no thread for /healthz: PDF reports "
            f"may hold {pdf} (REPORT_PDF_MAX_RENDERS + REPORT_PDF_MAX_WAITING); "
            "give gunicorn at least 2 threads and more than those"
        )
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf and every view
    # The engine's kernels, compiled or loaded from numba's cache once here, are
    # inherited by every worker, so none loads them on its first backtest (nor does
    # each replacement that max_requests starts).
    warm_up()
    connections.close_all()
    # What the master holds now (about 400,000 objects: Django, pandas, scikit-learn,
    # matplotlib) is never garbage: frozen, a worker's full collections walk only
    # what it made itself (0.3-0.5 s a walk otherwise), and leave those pages shared.
    gc.collect()
    gc.freeze()


def worker_exit(server: Any, worker: Any) -> None:
    """In a worker that has stopped serving: leave at once, with the same exit status.

    A normal interpreter shutdown walks every object the process holds (hundreds of
    MB of pandas, scikit-learn and matplotlib, shared with the master until touched)
    and took 3-16 s here; the master starts the replacement only once the old
    process is gone. The requests are finished by now: close the database
    connections, flush the logs, and skip the rest.
    """
    import logging
    import sys

    from django.db import connections

    stopping = sys.exc_info()[1]
    if not isinstance(stopping, SystemExit) or not isinstance(
        stopping.code, int | None
    ):
        return
    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(stopping.code or 0)
