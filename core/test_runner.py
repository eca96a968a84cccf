"""`manage.py test` runs the project's pytest suite (settings.TEST_RUNNER points here).

So `docker compose exec web python manage.py test` and `make test` run the same tests.
pytest runs in a child process with a clean configuration: the suite's settings module
(`core.settings_test`, from pyproject.toml) is imported fresh, and the container's
production variables (SECURE_SSL_REDIRECT, the Redis cache, the Alpha Vantage key...)
stay out of it; only where the database is and the process basics are passed on.
Django's test labels and options are said in pytest's terms (`core.test_labels`).
"""

from __future__ import annotations

import os
import subprocess
import sys
from argparse import ArgumentParser, RawDescriptionHelpFormatter
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, DjangoHelpFormatter

from core.test_labels import (
    UnusableTestArgument,
    keyword_expression,
    marker_expression,
    pytest_targets,
    registered_markers,
)

BASE_DIR = Path(__file__).resolve().parent.parent
PYPROJECT = BASE_DIR / "pyproject.toml"

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
    # The one way to hand pytest its own options (see HELP): "--" cannot.
    "PYTEST_ADDOPTS",
    # Where the suite's Redis checks find a Redis (compose: the redis service).
    "TEST_REDIS_URL",
}

DESCRIPTION = """\
Run the project's pytest suite: pytest in a child process on core.settings_test,
without the production environment variables. Exits 0 when pytest passes, 1 when
it does not, 2 for a label or option this runner cannot hand to pytest.
"""
HELP = """\
test labels (none: the whole suite, testpaths in pyproject.toml):
  tests.backtesting                        a package: its directory
  tests.backtesting.test_engine            a module: its file
  tests.x.test_mod.TestCase                file::TestCase
  tests.x.test_mod.TestCase.test_method    file::TestCase::test_method
  tests.x.test_mod.test_function           file::test_function
  tests/x, tests/x/test_mod.py::test_y     a path or pytest node id, as it is

Django's options as pytest's:
  -v 0 / 2 / 3 -> -q / -v / -vv        --failfast -> --exitfirst
  --keepdb -> --reuse-db               -k PATTERN -> -k (several: any of them)
  --tag / --exclude-tag -> -m          --pdb -> --pdb, --durations N -> --durations=N
  --no-color / --force-color -> --color=no / --color=yes
  tags are the pytest markers: {markers}
  --parallel: pytest-xdist is not installed, tests run in one process.
  --shuffle, --reverse: not supported (refused).

Other pytest options cannot follow "--": Django's parser drops the "--", and
refuses it after an option. Set them in PYTEST_ADDOPTS, which is passed on:
  PYTEST_ADDOPTS="--lf -x" python manage.py test tests.backtesting
"""


def processes(value: str) -> int | str:
    """--parallel's value as Django takes it: a number or "auto"."""
    return value if value == "auto" else int(value)


class _HelpFormatter(RawDescriptionHelpFormatter, DjangoHelpFormatter):
    """Django's option order, with the label table's lines kept as written."""


class PytestRunner:
    """A Django test runner that hands the labels to pytest."""

    def __init__(
        self,
        verbosity: int = 1,
        failfast: bool = False,
        keepdb: bool = False,
        test_name_patterns: list[str] | None = None,
        tags: list[str] | None = None,
        exclude_tags: list[str] | None = None,
        pdb: bool = False,
        durations: int | None = None,
        parallel: int | str | None = None,
        shuffle: str | None = None,
        reverse: bool = False,
        no_color: bool = False,
        force_color: bool = False,
        **kwargs: Any,
    ) -> None:
        self.verbosity = verbosity
        self.failfast = failfast
        self.keepdb = keepdb
        self.test_name_patterns = test_name_patterns or []
        self.tags = tags or []
        self.exclude_tags = exclude_tags or []
        self.pdb = pdb
        self.durations = durations
        self.parallel = parallel
        self.shuffle = shuffle
        self.reverse = reverse
        self.no_color = no_color
        self.force_color = force_color

    @classmethod
    def add_arguments(cls, parser: ArgumentParser) -> None:
        parser.description = DESCRIPTION
        parser.epilog = HELP.format(markers=", ".join(registered_markers(PYPROJECT)))
        parser.formatter_class = _HelpFormatter
        parser.add_argument(
            "--failfast",
            action="store_true",
            help="Stop after the first failure (pytest --exitfirst).",
        )
        parser.add_argument(
            "--keepdb",
            action="store_true",
            help="Keep the test database between runs (pytest --reuse-db).",
        )
        parser.add_argument(
            "-k",
            action="append",
            dest="test_name_patterns",
            metavar="PATTERN",
            help="Only tests whose name, class or module contains PATTERN "
            "(pytest -k; and/or/not allowed). Can be used multiple times.",
        )
        parser.add_argument(
            "--tag",
            action="append",
            dest="tags",
            metavar="TAG",
            help="Only tests with this pytest marker (pytest -m). "
            "Can be used multiple times.",
        )
        parser.add_argument(
            "--exclude-tag",
            action="append",
            dest="exclude_tags",
            metavar="TAG",
            help="No test with this pytest marker (pytest -m 'not ...'). "
            "Can be used multiple times.",
        )
        parser.add_argument(
            "--pdb",
            action="store_true",
            help="Open pdb on an error or failure (pytest --pdb).",
        )
        parser.add_argument(
            "--durations",
            type=int,
            metavar="N",
            help="Show the N slowest tests, 0 for all (pytest --durations).",
        )
        parser.add_argument(
            "--parallel",
            nargs="?",
            const="auto",
            type=processes,
            metavar="N",
            help="Not supported: pytest-xdist is not installed; tests run in one "
            "process.",
        )
        parser.add_argument(
            "--shuffle",
            nargs="?",
            const="random",
            metavar="SEED",
            help="Not supported: refused.",
        )
        parser.add_argument(
            "-r",
            "--reverse",
            action="store_true",
            help="Not supported: refused.",
        )

    def pytest_command(self, test_labels: list[str]) -> list[str]:
        """The child's command line; UnusableTestArgument for what pytest cannot do."""
        for asked, option in (
            (self.shuffle is not None, "--shuffle"),
            (self.reverse, "--reverse"),
        ):
            if asked:
                raise UnusableTestArgument(
                    f"{option} is not supported: pytest runs the tests in the "
                    "order of their files (no ordering plugin is installed)"
                )
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
        if self.verbosity == 0:
            command.append("-q")
        elif self.verbosity == 2:
            command.append("-v")
        elif self.verbosity >= 3:
            command.append("-vv")
        if self.failfast:
            command.append("--exitfirst")
        if self.keepdb:
            command.append("--reuse-db")
        if self.test_name_patterns:
            command += ["-k", keyword_expression(self.test_name_patterns)]
        if self.tags or self.exclude_tags:
            markers = registered_markers(PYPROJECT)
            command += ["-m", marker_expression(self.tags, self.exclude_tags, markers)]
        if self.pdb:
            command.append("--pdb")
        if self.durations is not None:
            command.append(f"--durations={self.durations}")
        if self.no_color:
            command.append("--color=no")
        elif self.force_color:
            command.append("--color=yes")
        return command + pytest_targets(test_labels, BASE_DIR)

    def child_environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k in PASSED_ON}

    def run_tests(self, test_labels: list[str], **kwargs: Any) -> int:
        """Run pytest; Django's test command exits 1 when this is not 0."""
        try:
            command = self.pytest_command(list(test_labels))
        except UnusableTestArgument as refused:
            # Django prints "CommandError: <one line>" on stderr and exits with 2.
            raise CommandError(str(refused), returncode=2) from refused
        if self.parallel not in (None, 0, 1):
            print(
                "--parallel is not supported (pytest-xdist is not installed): "
                "the tests run in one process.",
                file=sys.stderr,
            )
        completed = subprocess.run(  # noqa: S603 - our own interpreter and fixed args
            command,
            cwd=BASE_DIR,
            env=self.child_environment(),
            check=False,
        )
        return completed.returncode
