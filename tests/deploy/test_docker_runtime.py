"""The image's runtime: gunicorn settings, the health checks and the entry point."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.deploy.helpers import ROOT, container, dockerfile

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
    assert "DJANGO_Q_HEARTBEAT_FILE=stockdesk-qcluster.heartbeat" in dockerfile()
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
