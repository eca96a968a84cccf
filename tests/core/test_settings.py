"""Configuration comes only from the environment; the brief's variables keep working."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = (
    "import json, django.conf as c; from core import settings as s; "
    "db = s.DATABASES['default']; "
    "print(json.dumps({'engine': db['ENGINE'], 'name': str(db['NAME']), "
    "'host': db.get('HOST'), 'user': db.get('USER'), 'port': str(db.get('PORT')), "
    "'prepare': db.get('OPTIONS', {}).get('prepare_threshold', 'unset'), 'debug': s.DEBUG, 'hosts': s.ALLOWED_HOSTS, 'q': s.Q_CLUSTER, 'plan': s.ALPHA_VANTAGE_PLAN}))"
)

# PYTHONDONTWRITEBYTECODE: the child writes no bytecode into the checkout either.
KEEP = {"PATH", "HOME", "LANG", "PYTHONPATH", "SYSTEMROOT", "PYTHONDONTWRITEBYTECODE"}


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import core.settings in a clean process with only the given variables set."""
    # A local .env may exist; real variables win over it, so each test sets (even
    # to "") every variable its assertions depend on.
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_original_brief_variables_configure_postgresql():
    result = load_settings(
        SECRET_KEY="x" * 50,
        DATABASE_URL="",
        DATABASE_NAME="django_db",
        DATABASE_USER="django_user",
        DATABASE_PASSWORD="pw",
        DATABASE_HOST="db",
        DATABASE_PORT="5433",
        DEBUG="True",
        ALLOWED_HOSTS="*",
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["engine"] == "core.postgresql"
    assert (config["name"], config["user"], config["host"], config["port"]) == (
        "django_db",
        "django_user",
        "db",
        "5433",
    )
    assert config["debug"] is True
    assert config["hosts"] == ["*"]


def test_database_url_wins_and_the_default_is_sqlite():
    url = load_settings(
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://u:p@pg.example:5432/stock",
        DATABASE_NAME="ignored",
        DATABASE_HOST="ignored",
    )
    assert json.loads(url.stdout)["name"] == "stock"
    # Prepared statements (server-bound statements only), off behind a pooler.
    assert json.loads(url.stdout)["prepare"] == 5
    pooled = load_settings(
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://u:p@pg.example:5432/stock",
        DATABASE_PREPARED_STATEMENTS="false",
    )
    assert json.loads(pooled.stdout)["prepare"] == "unset"
    default = load_settings(SECRET_KEY="x" * 50, DATABASE_URL="", DATABASE_NAME="")
    config = json.loads(default.stdout)
    assert config["engine"] == "django.db.backends.sqlite3"
    assert config["q"]["orm"] == "default"


def test_the_queue_is_the_orm_broker_with_retry_above_timeout():
    # R21: the broker acknowledges, re-delivers after retry > timeout, bounded attempts.
    result = load_settings(
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://u:p@pg.example:5432/stock",
        DJANGO_Q_BROKER="orm",
    )
    assert result.returncode == 0, result.stderr
    q = json.loads(result.stdout)["q"]
    assert q["orm"] == "default"
    assert q["broker_class"] == "core.queue_broker.HeartbeatORM"
    assert "redis" not in q
    assert q["retry"] > q["timeout"]
    assert q["max_attempts"] >= 1
    assert q["ack_failures"] is True
    assert q["catch_up"] is False


def test_the_redis_broker_is_refused_because_it_loses_tasks():
    result = load_settings(
        SECRET_KEY="x" * 50, DJANGO_Q_BROKER="redis", REDIS_URL="redis://cache:6379/2"
    )
    assert result.returncode != 0
    assert "DJANGO_Q_BROKER must be orm" in result.stderr


def test_pdf_render_slots_cannot_be_configured_away():
    result = load_settings(SECRET_KEY="x" * 50, REPORT_PDF_MAX_RENDERS="0")
    assert result.returncode != 0
    assert "REPORT_PDF_MAX_RENDERS must be at least 1" in result.stderr


def test_a_missing_secret_key_stops_start_up():
    result = load_settings(SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_bad_plan_is_refused():
    result = load_settings(SECRET_KEY="x" * 50, ALPHA_VANTAGE_PLAN="gold")
    assert result.returncode != 0
    assert "ALPHA_VANTAGE_PLAN" in result.stderr
