"""`manage.py test` runs the project's pytest suite (settings.TEST_RUNNER points here).

So `docker compose exec web python manage.py test` and `make test` run the same tests.
pytest runs in a child process with a clean configuration: the suite's settings module
(`core.settings_test`, from pyproject.toml) is imported fresh, and the container's
production variables (SECURE_SSL_REDIRECT, the Redis cache, the Alpha Vantage key...)
stay out of it; only where the database is and the process basics are passed on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent

# What the child process inherits; every other variable is left behind.
PASSED_ON = {
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "TZ",
    "VIRTUAL_ENV",
    "DATABASE_URL",
    # Tests leave the checkout as they found it: no bytecode written into it.
    "PYTHONDONTWRITEBYTECODE",
    "DATABASE_NAME",
    "DATABASE_USER",
    "DATABASE_PASSWORD",
    "DATABASE_HOST",
    "DATABASE_PORT",
}


class PytestRunner:
    """A Django test runner that hands the labels to pytest."""

    def __init__(
        self,
        verbosity: int = 1,
        failfast: bool = False,
        keepdb: bool = False,
        **kwargs: Any,
    ) -> None:
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb

    @classmethod
    def add_arguments(cls, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--keepdb",
            action="store_true",
            help="Keep the test database between runs (pytest --reuse-db).",
        )

    def pytest_command(self, test_labels: list[str]) -> list[str]:
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
        if self.verbosity == 0:
            command.append("-q")
        elif self.verbosity >= 2:
            command.append("-v")
        if self.failfast:
            command.append("--exitfirst")
        if self.keepdb:
            command.append("--reuse-db")
        return command + list(test_labels)

    def child_environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k in PASSED_ON}

    def run_tests(self, test_labels: list[str], **kwargs: Any) -> int:
        """Run pytest; Django's test command exits 1 when this is not 0."""
        completed = subprocess.run(  # noqa: S603 - our own interpreter and fixed args
            self.pytest_command(test_labels),
            cwd=BASE_DIR,
            env=self.child_environment(),
            check=False,
        )
        return completed.returncode
