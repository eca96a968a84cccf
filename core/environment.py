"""Reading settings from the environment: typed values, the database, request rates.

Each helper reads os.environ when called, so core/settings.py loads `.env` first.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env_str(name)
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {value!r}"
        ) from exc


def env_float(name: str, default: float) -> float:
    value = env_str(name)
    try:
        return float(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from exc


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """A django-ratelimit rate, checked at start-up rather than on the first call."""
    value = env_str(name) or default
    if not re.fullmatch(r"[1-9]\d*/([1-9]\d*)?[smhd]", value):
        raise ImproperlyConfigured(
            f"{name} must look like 30/m (calls per s, m, h or d), not {value!r}"
        )
    return value


POSTGRESQL_ENGINE = "core.postgresql"
# psycopg's own default: a server-bound statement is prepared after five runs.
PREPARE_THRESHOLD = 5


def database_from_env(*, sqlite_path: Path) -> dict[str, Any]:
    """DATABASE_URL first, then the original brief's DATABASE_* variables, else SQLite."""
    url = env_str("DATABASE_URL")
    if url:
        config = dj_database_url.parse(
            url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60)
        )
    elif env_str("DATABASE_NAME") and env_str("DATABASE_HOST"):
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env_str("DATABASE_NAME"),
            "USER": env_str("DATABASE_USER"),
            "PASSWORD": env_str("DATABASE_PASSWORD"),
            "HOST": env_str("DATABASE_HOST"),
            "PORT": env_str("DATABASE_PORT", "5432"),
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", 60),
        }
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": sqlite_path,
        }
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The web process and the Django-Q2 worker share the file: WAL lets readers
        # run beside a writer, IMMEDIATE takes the write lock up front so two
        # writers queue on the busy timeout instead of failing with "locked".
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["CONN_MAX_AGE"] = 0
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, checking a reused connection after an idle spell only.
        config["ENGINE"] = POSTGRESQL_ENGINE
        config["CONN_HEALTH_CHECKS"] = True
        # Django turns psycopg's prepared statements off, for poolers in transaction
        # mode; its own cursors bind on the client and never prepare anyway. The few
        # statements bound on the server (backtesting.services.run_rows) are
        # prepared, unless DATABASE_PREPARED_STATEMENTS=false behind such a pooler.
        if env_bool("DATABASE_PREPARED_STATEMENTS", True):
            config.setdefault("OPTIONS", {})["prepare_threshold"] = PREPARE_THRESHOLD
    return config
