"""The CI/CD pipeline runs where it can pass: the workflow, the image's pinned base, the
compose stack under the original brief's .env, and the tools that lint them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.helpers import ROOT, compose, dockerfile, run_python

WORKFLOW = ROOT / ".github/workflows/ci-cd.yml"
BRIEF_ENV = ROOT / "tests/deploy/brief.env"
ACTIONLINT = Path(sys.executable).with_name("actionlint")


def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps_text(job: str) -> str:
    return "\n".join(
        step.get("run", "") + step.get("uses", "") + step.get("name", "")
        for step in workflow()["jobs"][job]["steps"]
    )


def compose_config(tmp_path: Path, env_file: Path, *extra: str) -> dict:
    """What Compose itself makes of docker-compose.yml (+ extra files) with env_file as .env."""
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    for name in extra:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copy(env_file, tmp_path / ".env")
    files = ":".join(["docker-compose.yml", *extra])
    result = compose(tmp_path, "config", "--format", "json", files=files)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def brief_variables() -> dict[str, str]:
    lines = BRIEF_ENV.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip())


# --- one Debian release and one Python patch version everywhere ----------------------


def test_image_ci_and_local_setup_run_the_same_debian_and_python_patch_version():
    pinned = (ROOT / ".python-version").read_text().strip()
    assert re.fullmatch(r"3\.12\.\d+", pinned)
    (base,) = re.findall(r"^FROM (\S+) AS base$", dockerfile(), flags=re.MULTILINE)
    container = workflow()["jobs"]["test"]["container"]["image"]
    # The same image, by digest, in the Dockerfile and in the job that runs make test.
    assert base == container
    assert re.fullmatch(
        rf"python:{re.escape(pinned)}-slim-bookworm@sha256:[0-9a-f]{{64}}", base
    )
    # The README points at the same version; make's bootstrap takes it first.
    assert pinned in (ROOT / "README.md").read_text()
    assert ".python-version" in (ROOT / "scripts/bootstrap.sh").read_text()


# --- the workflow --------------------------------------------------------------------


def test_make_test_runs_in_the_image_base_with_postgresql_and_redis_services():
    job = workflow()["jobs"]["test"]
    assert set(job["services"]) == {"postgres", "redis"}
    assert job["services"]["postgres"]["image"] == "postgres:16"
    assert job["services"]["redis"]["image"] == "redis:7"
    assert job["strategy"]["matrix"]["database"] == ["postgres", "sqlite"]
    # Services are reached by name from inside the job container.
    assert "@postgres:5432/" in job["env"]["DATABASE_URL"]
    assert job["env"]["TEST_REDIS_URL"].startswith("redis://redis:6379/")
    runs = [step.get("run", "") for step in job["steps"]]
    assert "make test" in runs and "scripts/prod-smoke.sh" in runs
    # git and make come first: the slim image has neither.
    assert "git make" in runs[0]


def test_every_pull_request_builds_the_image_and_runs_the_brief_steps_in_compose():
    doc = workflow()
    assert "pull_request" in doc[True]  # PyYAML reads the key `on` as True
    job = doc["jobs"]["compose"]
    assert "if" not in job  # on every pull request and push
    text = steps_text("compose")
    order = [
        "cp tests/deploy/brief.env .env",
        "docker compose up -d --build",
        "docker compose exec -T web python manage.py migrate",
        "docker compose exec -T web python manage.py test",
        "http://127.0.0.1:8000/healthz",
        "python manage.py create_api_token ci",
        "http://127.0.0.1:8000/fetch/AAPL/",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert job["env"]["COMPOSE_FILE"] == (
        "docker-compose.yml:tests/deploy/compose.fake-av.yml"
    )


def test_push_and_deploy_run_on_main_in_the_environment_that_holds_their_secrets():
    jobs = workflow()["jobs"]
    push, deploy = jobs["push"], jobs["deploy"]
    assert push["environment"] == "production" == deploy["environment"]
    assert set(push["needs"]) == {"test", "compose"} and deploy["needs"] == "push"
    assert "refs/heads/main" in push["if"]
    push_text = steps_text("push")
    assert "${{ secrets.DOCKERHUB_TOKEN }}" in WORKFLOW.read_text()
    assert '--tag "$IMAGE:$GITHUB_SHA" --tag "$IMAGE:latest"' in push_text
    assert "--password-stdin" in push_text
    assert deploy["permissions"]["id-token"] == "write"
    assert 'scripts/ecs-deploy.sh "$IMAGE:$GITHUB_SHA"' in steps_text("deploy")
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert not re.search(
        r"AKIA[0-9A-Z]{16}|aws-secret-access-key", WORKFLOW.read_text()
    )


# --- actionlint: a current release, which knows today's actions ----------------------


def _actionlint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_actionlint_is_a_release_from_1_7_on():
    result = subprocess.run(
        [str(ACTIONLINT), "-version"], capture_output=True, text=True, check=True
    )
    major, minor = map(int, re.search(r"(\d+)\.(\d+)\.\d+", result.stdout).groups())
    assert (major, minor) >= (1, 7), result.stdout


def test_actionlint_fails_on_a_job_that_does_not_exist(tmp_path):
    broken = tmp_path / "ci-cd.yml"
    broken.write_text(WORKFLOW.read_text().replace("needs: push", "needs: no-such-job"))
    result = _actionlint(broken)
    assert result.returncode == 1 and "no-such-job" in result.stdout


def test_actionlint_catches_a_misspelt_input_and_an_action_on_node_20(tmp_path):
    text = WORKFLOW.read_text()
    assert _actionlint(WORKFLOW).returncode == 0
    misspelt = tmp_path / "misspelt.yml"
    misspelt.write_text(text.replace("role-to-assume:", "role-to-asume:"))
    result = _actionlint(misspelt)
    assert result.returncode == 1 and '"role-to-asume" is not defined' in result.stdout
    old = tmp_path / "old.yml"
    old.write_text(text.replace("actions/checkout@v6", "actions/checkout@v4"))
    result = _actionlint(old)
    assert result.returncode == 1 and "node20" in result.stdout


# --- the brief's .env, verbatim, drives the compose stack ----------------------------


def test_the_brief_env_is_the_one_the_docs_show_and_the_brief_gives():
    shown = re.search(
        r"```env\n(.*?)```", (ROOT / "docs/deploy.md").read_text(), flags=re.DOTALL
    )
    assert shown and shown.group(1) == BRIEF_ENV.read_text()
    brief = ROOT.parent / "shared/ORIGINAL_BRIEF.md"
    if brief.exists():  # beside the checkout on the project's machines and in CI
        block = re.search(r"```env\n(.*?)```", brief.read_text(), flags=re.DOTALL)
        lines = [line.strip() for line in block.group(1).splitlines() if line.strip()]
        assert lines == BRIEF_ENV.read_text().splitlines()


def test_compose_creates_and_uses_the_database_the_brief_env_names(tmp_path):
    config = compose_config(tmp_path, BRIEF_ENV)
    brief = brief_variables()
    db = config["services"]["db"]["environment"]
    assert db == {
        "POSTGRES_DB": brief["DATABASE_NAME"],
        "POSTGRES_USER": brief["DATABASE_USER"],
        "POSTGRES_PASSWORD": brief["DATABASE_PASSWORD"],
    }
    for service in ("web", "worker", "migrate"):
        env = config["services"][service]["environment"]
        assert env["DATABASE_URL"] == ""
        assert env["DATABASE_HOST"] == "db"
        for name in ("DATABASE_NAME", "DATABASE_USER", "DATABASE_PASSWORD"):
            assert env[name] == brief[name]
    # And Django connects there with exactly that environment.
    env = config["services"]["web"]["environment"]
    result = run_python(
        "-c",
        "import django, json; django.setup(); from django.conf import settings; "
        "db = settings.DATABASES['default']; "
        "print(json.dumps([db['ENGINE'], db['NAME'], db['USER'], db['HOST']]))",
        env={**env, "DJANGO_SETTINGS_MODULE": "core.settings"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "core.postgresql",
        "django_db",
        "django_user",
        "db",
    ]


def test_compose_refuses_to_start_without_a_database_password(tmp_path):
    env = tmp_path / "no-password.env"
    env.write_text(
        re.sub(r"^DATABASE_PASSWORD=.*$", "", BRIEF_ENV.read_text(), flags=re.M)
    )
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(env, tmp_path / ".env")
    result = compose(tmp_path, "config", "-q")
    assert result.returncode != 0
    assert "set DATABASE_PASSWORD in .env" in result.stderr


def test_ci_adds_the_fake_provider_and_points_web_and_worker_at_it(tmp_path):
    config = compose_config(tmp_path, BRIEF_ENV, "tests/deploy/compose.fake-av.yml")
    fake = config["services"]["fake-av"]
    assert fake["command"][:3] == ["python", "-m", "tests.fakes.alphavantage"]
    assert "AAPL" in fake["command"]
    assert fake["build"]["target"] == "dev"  # built with the stack, never pulled
    for service in ("web", "worker"):
        env = config["services"][service]["environment"]
        assert env["ALPHA_VANTAGE_BASE_URL"] == "http://fake-av:8765/query"
        assert "fake-av" in config["services"][service]["depends_on"]


# --- system packages: a browser already there is enough ------------------------------


@pytest.fixture
def fake_system(tmp_path):
    """A PATH where dpkg says every package but chromium is installed and apt-get only
    records what it was asked."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    (bin_dir / "dpkg-query").write_text(
        '#!/bin/sh\n[ "$3" = chromium ] && exit 1\necho "install ok installed"\n'
    )
    (bin_dir / "apt-get").write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    (bin_dir / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    # The few real tools the script uses, and nothing else of this machine's PATH
    # (which may well hold a chromium).
    for tool in ("grep", "id"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    return bin_dir, log


def _system_deps(bin_dir: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [shutil.which("bash"), str(ROOT / "scripts/system-deps.sh"), "test"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": str(bin_dir), "HOME": str(bin_dir), **extra},
    )


def test_system_deps_takes_a_browser_already_there(fake_system):
    bin_dir, log = fake_system
    browser = bin_dir / "google-chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    result = _system_deps(bin_dir)
    assert result.returncode == 0, result.stderr
    assert not log.exists()  # nothing to install


def test_system_deps_installs_debian_chromium_when_there_is_no_browser(fake_system):
    bin_dir, log = fake_system
    result = _system_deps(bin_dir)
    assert result.returncode == 0, result.stderr
    assert "install -y -qq --no-install-recommends chromium" in log.read_text()


def test_system_deps_takes_the_browser_stockdesk_chromium_names(fake_system, tmp_path):
    bin_dir, log = fake_system
    browser = tmp_path / "my-chrome"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    result = _system_deps(bin_dir, STOCKDESK_CHROMIUM=str(browser))
    assert result.returncode == 0, result.stderr
    assert not log.exists()
