"""Shared by the deployment tests: paths, the task definitions, clean subprocesses."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TASKS = {
    "web": ROOT / "deploy/ecs-task-web.json",
    "worker": ROOT / "deploy/ecs-task-worker.json",
}
# PYTHONDONTWRITEBYTECODE: the child writes no bytecode into the checkout either.
KEEP = {"PATH", "HOME", "LANG", "SYSTEMROOT", "TMPDIR", "PYTHONDONTWRITEBYTECODE"}


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def task_definition(kind: str) -> dict[str, Any]:
    return json.loads(TASKS[kind].read_text())


def container(kind: str) -> dict[str, Any]:
    (only,) = task_definition(kind)["containerDefinitions"]
    return only


def production_environment(kind: str = "web") -> dict[str, str]:
    """The task definition's variables, with stand-ins for its secrets."""
    definition = container(kind)
    env = {item["name"]: item["value"] for item in definition["environment"]}
    stand_ins = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": "postgres://stockdesk:pw@db.invalid:5432/stockdesk",
        "ALPHA_VANTAGE_API_KEY": "NOT-A-REAL-KEY",
        "REDIS_URL": "redis://cache.invalid:6379/0",
    }
    for item in definition["secrets"]:
        env[item["name"]] = stand_ins[item["name"]]
    return env


def run_python(
    *args: str, env: dict[str, str], timeout: int = 120
) -> subprocess.CompletedProcess:
    """`python ARGS` from the project root with only the given variables (no .env leaks:
    every variable the assertions depend on is set, real variables win over .env)."""
    clean = {k: v for k, v in os.environ.items() if k in KEEP}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
