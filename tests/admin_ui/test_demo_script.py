"""scripts/demo.sh and `make demo`: the port is checked before any setup work, and the
login is printed once the site answers.

Every run happens in a copy of the project in a temporary folder, so whatever the
demo writes (.env, db.sqlite3, .demo/, media/) never lands in the checkout.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# What a demo writes into its folder, and what is never the project's source.
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    "node_modules",
    "__pycache__",
    ".env",
    "db.sqlite3*",
    ".demo",
    "media",
    "staticfiles",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
    "test-artifacts",
    "tests",
)
SETUP_TRACES = (".env", "db.sqlite3", ".demo", "media", "setup-ran")


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a newcomer's shell: none of the test run's settings
    (core.settings_test puts its folders into os.environ) and no database URL."""
    env = {
        "PATH": os.environ["PATH"],
        "LANG": "C.UTF-8",
        "HOME": extra.pop("HOME"),
    }
    env.update(extra)
    return env


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something listens on."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def scripts_only(tmp_path: Path) -> Path:
    """The Makefile and demo.sh, with setup steps that only leave a trace if run."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "Makefile", tmp_path / "Makefile")
    shutil.copy2(ROOT / "scripts" / "demo.sh", tmp_path / "scripts" / "demo.sh")
    for step in ("system-deps.sh", "bootstrap.sh"):
        stub = tmp_path / "scripts" / step
        stub.write_text("#!/usr/bin/env bash\ntouch setup-ran\n")
        stub.chmod(0o755)
    (tmp_path / "home").mkdir()
    return tmp_path


def _traces(folder: Path) -> list[str]:
    return [name for name in SETUP_TRACES if (folder / name).exists()]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")
def test_make_demo_on_a_busy_port_says_so_before_any_setup(scripts_only, busy_port):
    done = subprocess.run(
        ["make", "demo", f"PORT={busy_port}"],
        cwd=scripts_only,
        env=_clean_env(HOME=str(scripts_only / "home")),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    message = re.search(
        rf"Port {busy_port} is in use \(127\.0\.0\.1:{busy_port}: [^)]+\); "
        r"run `make demo PORT=(\d+)`\.",
        done.stderr,
    )
    assert message, done.stderr
    suggested = int(message.group(1))
    assert suggested != busy_port
    # The port it suggests is free.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", suggested))
    assert _traces(scripts_only) == []


@pytest.mark.parametrize("arguments", [[], ["check-port"]])
def test_demo_script_on_a_busy_port_exits_2_and_writes_nothing(
    scripts_only, busy_port, arguments
):
    done = subprocess.run(
        ["bash", "scripts/demo.sh", *arguments],
        cwd=scripts_only,
        env=_clean_env(HOME=str(scripts_only / "home"), PORT=str(busy_port)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert f"Port {busy_port} is in use" in done.stderr
    assert "run `make demo PORT=" in done.stderr
    assert done.stdout == ""
    assert _traces(scripts_only) == []


def test_the_old_demo_port_variable_still_counts(scripts_only, busy_port):
    done = subprocess.run(
        ["bash", "scripts/demo.sh", "check-port"],
        cwd=scripts_only,
        env=_clean_env(HOME=str(scripts_only / "home"), DEMO_PORT=str(busy_port)),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert f"Port {busy_port} is in use" in done.stderr


@pytest.mark.parametrize("port", ["80x", "0", "70000"])
def test_a_port_that_is_no_port_is_refused(scripts_only, port):
    done = subprocess.run(
        ["bash", "scripts/demo.sh", "check-port"],
        cwd=scripts_only,
        env=_clean_env(HOME=str(scripts_only / "home"), PORT=port),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 2
    assert f"PORT must be a number from 1 to 65535; got '{port}'." in done.stderr


def test_a_free_port_passes_the_check_and_nothing_is_set_up(scripts_only):
    done = subprocess.run(
        ["bash", "scripts/demo.sh", "check-port"],
        cwd=scripts_only,
        env=_clean_env(HOME=str(scripts_only / "home"), PORT=str(_free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert _traces(scripts_only) == []


def _processes_in(folder: Path) -> list[int]:
    """Processes whose working directory is `folder` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if Path(os.readlink(entry / "cwd")) == folder:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _lines(stream, into: queue.Queue[str | None]) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


def _read_until(lines: queue.Queue[str | None], pattern: str, seen: list[str]) -> str:
    """The first line matching pattern; what the demo printed on the way is kept."""
    while True:
        try:
            line = lines.get(timeout=600)
        except queue.Empty:
            pytest.fail("the demo printed nothing for 10 minutes:\n" + "".join(seen))
        if line is None:
            pytest.fail(f"the demo ended before {pattern!r}:\n" + "".join(seen))
        seen.append(line)
        if re.search(pattern, line):
            return line


@pytest.mark.cluster
@pytest.mark.skipif(not Path("/proc/self/cwd").exists(), reason="needs Linux /proc")
def test_the_demo_prints_a_login_that_works_once_the_site_answers(tmp_path):
    project = (tmp_path / "project").resolve()
    shutil.copytree(ROOT, project, ignore=NOT_COPIED, symlinks=True)
    # The interpreter running the tests, with the pinned packages, is the demo's venv.
    (project / ".venv").symlink_to(Path(sys.prefix))
    (tmp_path / "home").mkdir()
    port = _free_port()
    demo = subprocess.Popen(
        ["bash", "scripts/demo.sh"],
        cwd=project,
        env=_clean_env(HOME=str(tmp_path / "home"), PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group: the SIGINT below is the terminal's Ctrl-C.
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_lines, args=(demo.stdout, lines), daemon=True).start()
    seen: list[str] = []
    base = f"http://127.0.0.1:{port}"
    try:
        _read_until(lines, re.escape(f"Waiting for {base}/healthz"), seen)
        admin = _read_until(lines, r"^StockDesk admin: ", seen)
        user = _read_until(lines, r"^  user: ", seen).split()[-1]
        password = _read_until(lines, r"^  password: ", seen).split()[-1]
        api = _read_until(lines, r"^  API: ", seen)

        # The site answers the moment the login is printed.
        assert requests.get(f"{base}/healthz", timeout=10).json()["status"] == "ok"
        assert admin.strip() == f"StockDesk admin: {base}/admin/"
        token = re.search(r"Bearer (\S+)\"", api).group(1)
        assert api.rstrip().endswith(f"{base}/fetch/AAPL/")
        jobs = requests.get(
            f"{base}/jobs/1/", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert jobs.status_code == 200, jobs.text  # the demo's sweep job
        browser = requests.Session()
        login_page = browser.get(f"{base}/admin/login/", timeout=30)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text)
        symbols = browser.post(
            f"{base}/admin/login/",
            data={
                "csrfmiddlewaretoken": csrf.group(1),
                "username": user,
                "password": password,
                "next": "/admin/core/symbol/",
            },
            headers={"Referer": f"{base}/admin/login/"},
            timeout=30,
        )
        assert symbols.url == f"{base}/admin/core/symbol/"
        assert "AAPL" in symbols.text and "NFLX" in symbols.text

        os.killpg(demo.pid, signal.SIGINT)
        assert demo.wait(timeout=120) == 0
        # The web server and the worker stopped with it: the port is free again.
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))
        assert _processes_in(project) == []
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
        for pid in _processes_in(project):
            os.kill(pid, signal.SIGKILL)
