"""`manage.py test` (e.g. `docker compose exec web python manage.py test`) runs pytest."""

from __future__ import annotations

import os
import subprocess

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.core.management.commands import test as django_test_command

from core.test_labels import UnusableTestArgument, pytest_target, registered_markers
from core.test_runner import PYPROJECT, PytestRunner
from tests.deploy.helpers import ROOT, production_environment, run_python

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


def test_the_environment_passes_pytest_addopts_on(monkeypatch):
    # The documented way to hand pytest its own options, since "--" cannot.
    monkeypatch.setenv("PYTEST_ADDOPTS", "--lf -x")
    assert PytestRunner().child_environment()["PYTEST_ADDOPTS"] == "--lf -x"


@pytest.mark.parametrize(
    ("verbosity", "flag", "absent"),
    [(0, "-q", "-v"), (1, None, "-v"), (2, "-v", "-vv"), (3, "-vv", "-q")],
)
def test_verbosity_maps_to_pytests_quiet_and_verbose(verbosity, flag, absent):
    command = PytestRunner(verbosity=verbosity).pytest_command([])
    assert absent not in command
    if flag is None:
        assert not {"-q", "-v", "-vv"} & set(command)
    else:
        assert flag in command


class TestDottedLabels:
    """Django's dotted labels become the path or node id pytest takes."""

    def test_a_package_becomes_its_directory(self):
        assert pytest_target("tests.backtesting", ROOT) == "tests/backtesting"

    def test_a_module_becomes_its_file(self):
        target = pytest_target("tests.backtesting.test_engine", ROOT)
        assert target == "tests/backtesting/test_engine.py"

    def test_a_class_and_a_method_become_node_ids(self):
        label = "tests.deploy.test_test_runner.TestDottedLabels"
        node = "tests/deploy/test_test_runner.py::TestDottedLabels"
        assert pytest_target(label, ROOT) == node
        method = "test_a_package_becomes_its_directory"
        assert pytest_target(f"{label}.{method}", ROOT) == f"{node}::{method}"

    def test_a_function_becomes_a_node_id(self):
        label = "tests.core.test_indicators.test_trailing_mean_uses_the_window_up_to_each_day"
        assert pytest_target(label, ROOT) == (
            "tests/core/test_indicators.py::"
            "test_trailing_mean_uses_the_window_up_to_each_day"
        )

    def test_a_path_or_node_id_is_passed_on_as_it_is(self):
        for label in ["tests", "tests/core", f"{TARGET}[x]", "tests/nope.py::test_x"]:
            assert pytest_target(label, ROOT) == label

    def test_labels_are_resolved_against_the_given_root(self, tmp_path):
        (tmp_path / "pkg").mkdir()
        (tmp_path / "pkg" / "test_mod.py").write_text(
            "from elsewhere import Base\n\nclass TestThing(Base):\n    pass\n"
        )
        # An imported name counts too: pytest collects it in this module.
        assert pytest_target("pkg.test_mod.Base.test_x", tmp_path) == (
            "pkg/test_mod.py::Base::test_x"
        )
        assert pytest_target("pkg.test_mod.TestThing", tmp_path) == (
            "pkg/test_mod.py::TestThing"
        )
        with pytest.raises(UnusableTestArgument, match=r"pkg\.test_mod\.TestOther"):
            pytest_target("pkg.test_mod.TestOther", tmp_path)

    @pytest.mark.parametrize(
        "label",
        ["tests.nope", "tests.core.test_models.NoSuchCase", "tests.core-x", "nope"],
    )
    def test_an_unknown_label_is_named_with_what_is_accepted(self, label):
        with pytest.raises(UnusableTestArgument) as refused:
            pytest_target(label, ROOT)
        message = str(refused.value)
        assert repr(label) in message
        assert "dotted name" in message and "node id" in message
        assert "\n" not in message


def manage_py_test(*args: str) -> subprocess.CompletedProcess:
    env = production_environment("web")
    env["DATABASE_URL"] = os.environ.get("DATABASE_URL", "")
    return run_python("manage.py", "test", *args, env=env, timeout=300)


def node_lines(output: str) -> list[str]:
    """The -v lines naming one test each: "path::name PASSED [ 50%]"."""
    return [line for line in output.splitlines() if "::" in line and "[" in line]


def test_manage_py_test_runs_a_dotted_module():
    result = manage_py_test("-v", "2", "tests.core.test_indicators")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    ran = node_lines(result.stdout)
    assert len(ran) == 2
    assert all(line.startswith("tests/core/test_indicators.py::") for line in ran)


def test_a_dotted_class_and_method_label_runs_exactly_that_test():
    label = (
        "tests.deploy.test_test_runner.TestDottedLabels"
        ".test_a_package_becomes_its_directory"
    )
    node = (
        "tests/deploy/test_test_runner.py::TestDottedLabels"
        "::test_a_package_becomes_its_directory"
    )
    # Checked here first: a label resolved to the whole file would run this test
    # again in the child, and that child would start another.
    assert pytest_target(label, ROOT) == node
    result = manage_py_test("-v", "2", label)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    (ran,) = node_lines(result.stdout)
    assert ran.startswith(f"{node} PASSED")


def test_an_unknown_label_is_one_line_and_exit_2_before_pytest_starts():
    result = manage_py_test("tests.backtesting.no_such_module")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "test session starts" not in result.stdout
    mentions = [
        line
        for line in result.stderr.splitlines()
        if "tests.backtesting.no_such_module" in line
    ]
    assert mentions == [result.stderr.strip().splitlines()[-1]]
    (line,) = mentions
    assert line.startswith("CommandError: Unknown test label")
    assert "dotted name" in line and "node id" in line


def test_k_and_exclude_tag_expressions_select_in_pytest():
    # Two -k patterns (any of them) and an excluded marker, as pytest reads them.
    result = manage_py_test(
        "-v",
        "2",
        "tests.core.test_indicators",
        "-k",
        "all_nan",
        "-k",
        "no_such_test_name",
        "--exclude-tag",
        "postgres",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 1 deselected" in result.stdout
    (ran,) = node_lines(result.stdout)
    assert "test_trailing_mean_is_all_nan" in ran


@pytest.fixture
def pytest_calls(monkeypatch):
    """`manage.py test` through Django's own parser, pytest's command line kept."""
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, returncode=0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    return calls


def test_djangos_options_map_to_pytests(pytest_calls):
    call_command(
        "test",
        "tests.backtesting",
        "-k",
        "engine",
        "-k",
        "metrics",
        "--tag",
        "postgres",
        "--tag",
        "cluster",
        "--exclude-tag",
        "e2e",
        "--failfast",
        "--keepdb",
        "--pdb",
        "--durations",
        "5",
        "--no-color",
        "-v",
        "3",
    )
    (command,) = pytest_calls
    arguments = command[3:]
    assert arguments[arguments.index("-k") + 1] == "(engine) or (metrics)"
    assert arguments[arguments.index("-m") + 1] == "(postgres or cluster) and not e2e"
    expected = {"-vv", "--exitfirst", "--reuse-db", "--pdb", "--durations=5"}
    assert expected | {"--color=no"} <= set(arguments)
    assert arguments[-1] == "tests/backtesting"


def test_an_unknown_tag_or_a_wildcard_pattern_is_refused(pytest_calls):
    with pytest.raises(CommandError, match=r"Unknown tag 'slow'.*postgres") as refused:
        call_command("test", "--tag", "slow")
    assert refused.value.returncode == 2
    with pytest.raises(CommandError, match=r"-k 'test_\*'.*wildcards"):
        call_command("test", "-k", "test_*")
    assert pytest_calls == []


@pytest.mark.parametrize("option", ["--shuffle", "--reverse", "-r"])
def test_shuffle_and_reverse_are_refused(pytest_calls, option):
    with pytest.raises(CommandError, match="is not supported") as refused:
        call_command("test", option)
    assert refused.value.returncode == 2
    assert pytest_calls == []


def test_parallel_says_it_is_not_supported_and_runs_in_one_process(
    pytest_calls, capsys
):
    call_command("test", "--parallel", "4", "tests/core")
    (note,) = capsys.readouterr().err.strip().splitlines()
    assert "--parallel is not supported" in note
    (command,) = pytest_calls
    assert command[-1] == "tests/core"


def test_pytest_options_after_double_dash_point_to_pytest_addopts(pytest_calls):
    with pytest.raises(CommandError, match="PYTEST_ADDOPTS") as refused:
        call_command("test", "--", "--lf")
    assert refused.value.returncode == 2
    assert pytest_calls == []


def test_help_describes_labels_options_and_pytest_addopts():
    parser = django_test_command.Command().create_parser("manage.py", "test")
    text = parser.format_help()
    for said in [
        "tests.x.test_mod.TestCase.test_method    file::TestCase::test_method",
        "a path or pytest node id, as it is",
        "--failfast -> --exitfirst",
        "--keepdb -> --reuse-db",
        "--tag / --exclude-tag -> -m",
        f"tags are the pytest markers: {', '.join(registered_markers(PYPROJECT))}",
        "--shuffle, --reverse: not supported",
        'PYTEST_ADDOPTS="--lf -x" python manage.py test',
    ]:
        assert said in text
    assert registered_markers(PYPROJECT) == ["cluster", "postgres", "e2e", "fuzz"]
