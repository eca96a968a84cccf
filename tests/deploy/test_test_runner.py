"""`manage.py test` (e.g. `docker compose exec web python manage.py test`) runs pytest."""

from __future__ import annotations

import os
import subprocess

from django.conf import settings

from core.test_runner import PytestRunner
from tests.deploy.helpers import production_environment, run_python

TARGET = "tests/deploy/test_test_runner.py::test_the_suite_runs_on_its_own_settings"


def test_the_suite_runs_on_its_own_settings():
    # Also the target of the next test, run there under a production environment.
    # The module Django loaded (settings.SETTINGS_MODULE reads None inside a settings
    # override, and tests/conftest.py overrides MEDIA_ROOT for every test).
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "core.settings_test"
    assert settings.SECURE_SSL_REDIRECT is False
    assert settings.Q_CLUSTER["sync"] is True
    assert "orm" in settings.Q_CLUSTER


def test_manage_py_test_runs_pytest_without_the_production_variables():
    env = production_environment("web")  # as in the container: SSL redirect, Redis...
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
    result = run_python("manage.py", "test", TARGET, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_a_pytest_failure_is_the_runners_result(monkeypatch):
    # Django's test command exits 1 whenever run_tests returns non-zero.
    seen = {}

    def fake_run(command, **kwargs):
        seen.update(command=command, **kwargs)
        return subprocess.CompletedProcess(command, returncode=1)

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert PytestRunner().run_tests(["tests/deploy"]) == 1
    assert seen["command"][-1] == "tests/deploy"
    assert seen["cwd"] == settings.BASE_DIR


def test_the_runner_maps_django_options_and_filters_the_environment(monkeypatch):
    monkeypatch.setenv("SECURE_SSL_REDIRECT", "true")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "core.settings")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@h/db")
    runner = PytestRunner(verbosity=2, failfast=True, keepdb=True, interactive=False)
    command = runner.pytest_command(["tests/core"])
    assert command[1:3] == ["-m", "pytest"]
    assert {"-v", "--exitfirst", "--reuse-db"} <= set(command)
    assert command[-1] == "tests/core"
    env = runner.child_environment()
    assert env["DATABASE_URL"] == "postgres://u@h/db"
    assert "SECURE_SSL_REDIRECT" not in env
    assert "DJANGO_SETTINGS_MODULE" not in env
