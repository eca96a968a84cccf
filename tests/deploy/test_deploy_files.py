"""The deployment files say what docs/deploy.md promises (no Docker engine needed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.helpers import ROOT, compose, container, dockerfile, task_definition

# --- Dockerfile ----------------------------------------------------------------------


def test_the_image_is_multi_stage_slim_and_ends_on_the_runtime_stage():
    stages = re.findall(r"^FROM (\S+) AS (\S+)$", dockerfile(), flags=re.MULTILINE)
    assert stages[0][1] == "base"
    assert (
        stages[0][0].startswith("python:3.12.")
        and "-slim-bookworm@sha256:" in stages[0][0]
    )
    assert len(stages) >= 3
    assert stages[-1][1] == "runtime"


def test_the_image_has_weasyprint_libraries_a_user_static_files_and_a_health_check():
    text = dockerfile()
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fonts-dejavu-core",
    ):
        assert package in text
    assert "pip install --no-cache-dir -r /build/requirements.txt" in text
    assert "manage.py collectstatic --noinput" in text
    users = re.findall(r"^USER (\S+)$", text, flags=re.MULTILINE)
    assert users[-1] == "10001:10001"
    assert "HEALTHCHECK" in text and '"/app/docker/healthcheck.py", "web"' in text
    assert 'CMD ["gunicorn", "--config", "/app/docker/gunicorn.conf.py"' in text


def test_secrets_and_local_state_stay_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git", "db.sqlite3", "node_modules"} <= set(ignored)
    assert "!.env.example" in ignored


# --- docker-compose.yml (resolved by Compose itself) ---------------------------------


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", work)
    shutil.copy(ROOT / ".env.example", work / ".env")
    result = compose(work, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_compose_runs_web_worker_postgres_redis_and_a_one_shot_migrate(compose_config):
    services = compose_config["services"]
    assert set(services) == {"web", "worker", "db", "redis", "migrate"}
    assert services["db"]["image"] == "postgres:16"
    assert any(
        v["target"] == "/var/lib/postgresql/data" and v["type"] == "volume"
        for v in services["db"]["volumes"]
    )
    assert services["worker"]["command"] == ["python", "manage.py", "qcluster"]
    command = services["migrate"]["command"]
    assert command[:2] == ["sh", "-c"]
    assert (
        command[2]
        == "python manage.py migrate --noinput && python manage.py setup_schedules"
    )
    assert services["web"].get("command") is None  # the image's gunicorn
    for name in ("db", "redis", "worker"):
        assert services[name]["healthcheck"]["test"], name


def test_web_and_worker_start_after_the_migrations_and_healthy_services(
    compose_config,
):
    services = compose_config["services"]
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        environment = services[name]["environment"]
        # The queue is PostgreSQL (the ORM broker); Redis is the shared cache only.
        assert environment["DJANGO_Q_BROKER"] == "orm"
        assert environment["CACHE_BACKEND"] == "redis"
        assert environment["DATABASE_HOST"] == "db"
        # .env reached the container (SECRET_KEY from .env.example in this copy).
        assert environment["SECRET_KEY"] == "change-me"


# --- ECS task definitions ------------------------------------------------------------


# From deploy/stack.yaml (parameters at their defaults or example values); the stack's
# other resources: tests/deploy/test_stack.py.
@pytest.mark.parametrize("kind", ["web", "worker"])
def test_task_definitions_run_one_container_of_the_release_image_on_fargate(kind):
    task = task_definition(kind)
    definition = container(kind)
    assert definition["name"] == kind  # the container the deploy script looks for
    assert definition["essential"] is True
    assert task["family"] == f"stockdesk-{kind}"
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert (task["cpu"], task["memory"]) == ("1024", "2048")
    release = "docker.io/acme/stockdesk:0123abc"
    assert container(kind, ImageUri=release)["image"] == release


@pytest.mark.parametrize("kind", ["web", "worker"])
def test_task_definitions_log_to_cloudwatch_and_check_health(kind):
    definition = container(kind)
    assert definition["logConfiguration"]["logDriver"] == "awslogs"
    options = definition["logConfiguration"]["options"]
    assert options["awslogs-stream-prefix"] == kind
    assert options["awslogs-region"] == "eu-west-1"  # the stack's own region
    assert definition["healthCheck"]["command"] == [
        "CMD",
        "python",
        "/app/docker/healthcheck.py",
        kind,
    ]


def test_web_serves_port_8000_and_worker_runs_the_cluster():
    assert container("web")["portMappings"][0]["containerPort"] == 8000
    assert "command" not in container("web")
    assert container("worker")["command"] == ["python", "manage.py", "qcluster"]
    assert "portMappings" not in container("worker")
    # SIGKILL after: gunicorn's graceful 30 s, and the worker's running tasks.
    assert container("web")["stopTimeout"] == 40
    assert container("worker")["stopTimeout"] == 120


def test_the_stack_is_the_only_task_definition_source():
    # deploy/stack.yaml replaced the JSON task definitions; two copies would drift.
    assert not list((ROOT / "deploy").glob("ecs-task-*.json"))


# The workflow and the compose stack under the brief's .env: tests/deploy/test_pipeline.py.


# --- the linters fail on broken files (scripts/lint-deploy.sh relies on it) ----------


def test_hadolint_fails_on_a_warning(tmp_path):
    hadolint = Path(sys.executable).with_name("hadolint")
    broken = tmp_path / "Dockerfile"
    broken.write_text(dockerfile().replace("USER 10001:10001", "USER stockdesk"))
    result = subprocess.run(
        [str(hadolint), "--no-color", "--failure-threshold", "style", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "DL3066" in result.stdout


def test_compose_config_fails_on_an_undefined_dependency(tmp_path):
    text = (ROOT / "docker-compose.yml").read_text()
    (tmp_path / "docker-compose.yml").write_text(
        text.replace("      migrate:\n", "      migrations:\n", 1)
    )
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = compose(tmp_path, "config", "-q")
    assert result.returncode != 0
    assert "migrations" in result.stderr
