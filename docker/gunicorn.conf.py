"""Gunicorn settings for the StockDesk web container, all from the environment.

GUNICORN_WORKERS   processes (default 2; about 2 per vCPU, each holds pandas + matplotlib)
GUNICORN_THREADS   threads per process (default 1: the chart code uses pyplot, which is
                   not thread-safe; raise it once chart rendering is serialised)
GUNICORN_TIMEOUT   seconds before a stuck request's worker is restarted (default 60)
GUNICORN_BIND      address (default 0.0.0.0:$PORT, PORT defaulting to 8000)
"""

import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# All interfaces inside the container; only the load balancer reaches the port.
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 1)
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
# Longer than the ALB's 60 s idle timeout, so the balancer closes idle connections first.
keepalive = _int("GUNICORN_KEEPALIVE", 75)
# Recycle workers now and then: pandas and matplotlib grow a process's memory.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = max_requests // 10
# Logs to stdout/stderr (CloudWatch through the awslogs driver).
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The load balancer is the only client; Django itself trusts X-Forwarded-Proto only
# when USE_X_FORWARDED_PROTO=true.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "*")
# No gunicornc control socket: nothing uses it, and it would be written under $HOME
# (read-only /app in the image; shared between servers on one machine).
control_socket_disable = True
