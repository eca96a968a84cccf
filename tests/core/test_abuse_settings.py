"""The shared cache, rate and proxy settings come from the environment, checked at start."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PROBE = (
    "import json; from core import settings as s; "
    "print(json.dumps({'cache': s.CACHES['default'], 'rate': s.RATELIMIT_WORK, "
    "'order': s.AXES_IPWARE_META_PRECEDENCE_ORDER, "
    "'count': s.AXES_IPWARE_PROXY_COUNT, 'strict': s.IPWARE_STRICT, "
    "'import_max': s.PRICE_IMPORT_MAX_BYTES}))"
)
KEEP = {"PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT", "PYTHONDONTWRITEBYTECODE"}
# Set (even to "") so a local .env cannot decide the outcome: real variables win.
BASE = {
    "SECRET_KEY": "x" * 50,
    "REDIS_URL": "",
    "CACHE_BACKEND": "",
    "RATELIMIT_WORK": "",
    "AXES_PROXY_COUNT": "",
    "PRICE_IMPORT_MAX_BYTES": "",
}


def load(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**clean, **BASE, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def loaded(**env: str) -> dict:
    result = load(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_defaults_serve_the_local_demo():
    config = loaded()
    assert config["cache"]["BACKEND"].endswith("LocMemCache")
    assert config["rate"] == "30/m"
    assert config["order"] == ["REMOTE_ADDR"] and config["count"] is None
    assert config["import_max"] == 64 * 1024


def test_with_redis_url_the_cache_is_shared_in_redis():
    config = loaded(REDIS_URL="rediss://:token@cache.example:6379/3")
    assert config["cache"]["BACKEND"] == "core.redis_cache.OneTripIncrRedisCache"
    assert config["cache"]["LOCATION"] == "rediss://:token@cache.example:6379/3"
    assert loaded(REDIS_URL="redis://x:6379/0", CACHE_BACKEND="locmem")["cache"][
        "BACKEND"
    ].endswith("LocMemCache")


@pytest.mark.parametrize(
    ("name", "value"),
    [("RATELIMIT_WORK", "thirty"), ("RATELIMIT_WORK", "0/m"), ("CACHE_BACKEND", "db")],
)
def test_a_bad_value_stops_start_up(name, value):
    result = load(**{name: value})
    assert result.returncode != 0
    assert name in result.stderr


def test_behind_the_load_balancer_the_forwarded_address_counts():
    config = loaded(AXES_PROXY_COUNT="1")
    assert config["order"] == ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    # django-ipware counts the proxies inside the header: the ALB is not in it.
    assert config["count"] == 0
    assert config["strict"] is False
    assert loaded(AXES_PROXY_COUNT="2")["count"] == 1
