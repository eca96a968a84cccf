"""The production stack on this machine, started fresh and always stopped again.

What scripts/prod-smoke.sh starts, for a Python script: a new PostgreSQL database
(dropped at the end), which is also the Django-Q2 queue (the ORM broker); a private
Redis as the shared cache; collectstatic into a temporary folder, migrate; the fake
Alpha Vantage (premium key, generated prices); gunicorn through docker/gunicorn.conf.py
with production settings (DEBUG=false, SSL redirect behind a proxy: requests carry
X-Forwarded-Proto: https) and a Django-Q2 cluster. Everything binds to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# As behind the load balancer: Django trusts this header (USE_X_FORWARDED_PROTO) and
# would otherwise redirect every request to https.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}
API_KEY = "PREMIUM-LOAD-KEY"  # the fake's premium key prefix; not a secret
COMMAND_TIMEOUT_S = 300  # one manage.py command (migrate, train_model ...)
START_TIMEOUT_S = 60  # one server until it answers
STOP_TIMEOUT_S = 15  # SIGTERM, then SIGKILL


class StackError(RuntimeError):
    """A part of the stack did not start, or a command failed."""


@dataclass(frozen=True)
class StackOptions:
    """What differs from run to run; the rest mirrors scripts/prod-smoke.sh."""

    tickers: Sequence[str]  # the fake provider knows these (generated prices)
    days: int = 540  # generated bars per ticker; PRICE_HISTORY_YEARS=2 keeps ~2 years
    postgres_url: str = DEFAULT_POSTGRES_URL  # a login allowed to create databases
    gunicorn_workers: int = 2
    gunicorn_threads: int = 1
    q_workers: int = 2
    env: dict[str, str] = field(default_factory=dict)  # added last, wins


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url(server_url: str, name: str) -> str:
    return urlsplit(server_url)._replace(path="/" + name).geturl()


class Stack:
    """Start with `with Stack(options) as stack:`; leaving the block stops it all.

    A failure while starting stops what already started. Each server runs in its own
    session (so a Ctrl-C reaches only this process, which then stops them in order)
    and is stopped through its own process group: the server and its children.
    """

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.folder = Path(tempfile.mkdtemp(prefix="stockdesk-load-"))
        self.db_name = f"stockdesk_load_{os.getpid()}"
        self.port = free_port()
        self.av_port = free_port()
        self.redis_port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.db_url = database_url(options.postgres_url, self.db_name)
        self.env = self._environment()
        self._cleanup = contextlib.ExitStack()
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def _environment(self) -> dict[str, str]:
        o = self.options
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "core.settings",
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DEBUG": "false",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{self.port}",
                "USE_X_FORWARDED_PROTO": "true",
                "SECURE_SSL_REDIRECT": "true",
                "SECURE_HSTS_SECONDS": "31536000",
                "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
                "SECURE_HSTS_PRELOAD": "true",
                "SESSION_COOKIE_SECURE": "true",
                "CSRF_COOKIE_SECURE": "true",
                "DATABASE_URL": self.db_url,
                # The database is the task queue; Redis is the cache every process
                # shares (rate-limit counters), a private one on its own port.
                "DJANGO_Q_BROKER": "orm",
                "CACHE_BACKEND": "redis",
                "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "DJANGO_Q_NAME": f"stockdesk-load-{os.getpid()}",
                "DJANGO_Q_SYNC": "false",
                "DJANGO_Q_WORKERS": str(o.q_workers),
                "DJANGO_Q_POLL": "0.2",
                "DJANGO_Q_HEARTBEAT_FILE": str(self.folder / "qcluster.heartbeat"),
                "PRICE_PROVIDER": "alpha_vantage",
                "ALPHA_VANTAGE_PLAN": "auto",
                "ALPHA_VANTAGE_API_KEY": API_KEY,
                "ALPHA_VANTAGE_BASE_URL": f"http://127.0.0.1:{self.av_port}/query",
                "ALPHA_VANTAGE_MIN_INTERVAL": "0",
                # The free plan's 25 calls a day would stop a 50-symbol bulk fetch.
                "ALPHA_VANTAGE_DAILY_LIMIT": "10000",
                "PRICE_HISTORY_YEARS": "2",
                "STATIC_ROOT": str(self.folder / "static"),
                "MEDIA_ROOT": str(self.folder / "media"),
                "MPLCONFIGDIR": str(self.folder / "matplotlib"),
                "WHITENOISE_USE_FINDERS": "false",
                "AXES_ENABLED": "true",
                "LOG_LEVEL": "INFO",
                "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                "GUNICORN_WORKERS": str(o.gunicorn_workers),
                "GUNICORN_THREADS": str(o.gunicorn_threads),
            }
        )
        env.update(o.env)
        return env

    # --- lifecycle ------------------------------------------------------------------

    def __enter__(self) -> Stack:
        self._cleanup.callback(shutil.rmtree, self.folder, ignore_errors=True)
        try:
            self._start()
        except BaseException:
            self.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        # A second Ctrl-C must not leave a database or a server behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if exc_type is not None and exc_type is not KeyboardInterrupt:
                self.print_log_tails()
            self._cleanup.close()
        finally:
            signal.signal(signal.SIGINT, previous)

    def _start(self) -> None:
        self._step("database created", self._create_database)
        self._step("redis up (the cache)", self._start_redis)
        self._step(
            "collectstatic", self.manage, "collectstatic", "--noinput", "-v", "0"
        )
        self._step("migrate", self.manage, "migrate", "--noinput", "-v", "0")
        self._step("fake Alpha Vantage up", self._start_fake_provider)
        self._step("gunicorn up", self._start_gunicorn)
        self._step("Django-Q2 cluster up", self._start_cluster)

    def _step(self, name: str, fn: Callable[..., object], *args: str) -> None:
        started = time.perf_counter()
        fn(*args)
        print(f"  {name} ({time.perf_counter() - started:.1f} s)", flush=True)

    def _create_database(self) -> None:
        with psycopg.connect(
            self.options.postgres_url, autocommit=True, connect_timeout=10
        ) as conn:
            conn.execute(f'CREATE DATABASE "{self.db_name}"')
        self._cleanup.callback(self._drop_database)

    def _drop_database(self) -> None:
        try:
            with psycopg.connect(
                self.options.postgres_url, autocommit=True, connect_timeout=10
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')
        except psycopg.Error as exc:
            print(f"could not drop database {self.db_name}: {exc}", file=sys.stderr)

    def _start_redis(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise StackError(
                "redis-server is not installed (apt-get install redis-server)"
            )
        process = self._spawn(
            "redis",
            [server, "--bind", "127.0.0.1", "--port", str(self.redis_port),
             "--save", "", "--appendonly", "no"],
        )  # fmt: skip
        client = redis.Redis(port=self.redis_port, socket_timeout=2)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(f"redis-server exited with {process.returncode}")
            with contextlib.suppress(redis.RedisError):
                if client.ping():
                    return
            time.sleep(0.1)
        raise StackError(f"redis did not answer within {START_TIMEOUT_S} s")

    def _start_fake_provider(self) -> None:
        generate = [
            arg for ticker in self.options.tickers for arg in ("--generate", ticker)
        ]
        process = self._spawn(
            "fake-av",
            [PYTHON, "-m", "tests.fakes.alphavantage", "--port", str(self.av_port),
             *generate, "--days", str(self.options.days), "--quiet"],
        )  # fmt: skip
        self._wait_for(
            f"http://127.0.0.1:{self.av_port}/query", process, any_status=True
        )

    def _start_gunicorn(self) -> None:
        process = self._spawn(
            "gunicorn",
            [GUNICORN, "--config", "docker/gunicorn.conf.py", "core.wsgi:application"],
        )
        self._wait_for(f"{self.base_url}/healthz", process)

    def _start_cluster(self) -> None:
        process = self._spawn("qcluster", [PYTHON, "manage.py", "qcluster"])
        log = self.log_path("qcluster")
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if "running" in log.read_text(errors="replace"):
                return
            if process.poll() is not None:
                raise StackError(f"qcluster exited with {process.returncode}")
            time.sleep(0.2)
        raise StackError(
            f"the cluster did not report running within {START_TIMEOUT_S} s"
        )

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        with self.log_path(name).open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - fixed commands, no shell
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes[name] = process
        self._cleanup.callback(stop_process, process)
        return process

    def _wait_for(
        self, url: str, process: subprocess.Popen[bytes], *, any_status: bool = False
    ) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise StackError(f"{url}: the process exited with {process.returncode}")
            try:
                response = requests.get(url, timeout=2)
            except requests.RequestException:
                pass
            else:
                if any_status or response.ok:
                    return
            time.sleep(0.2)
        raise StackError(f"no answer from {url} within {START_TIMEOUT_S} s")

    # --- using it ---------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = COMMAND_TIMEOUT_S) -> str:
        """Run manage.py with the stack's environment; its stdout, or StackError."""
        extra = {}
        if args and args[0] == "createsuperuser":
            extra["DJANGO_SUPERUSER_PASSWORD"] = secrets.token_urlsafe(24)
        try:
            done = subprocess.run(  # noqa: S603 - fixed commands, no shell
                [PYTHON, "manage.py", *args],
                cwd=ROOT,
                env=self.env | extra,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise StackError(f"manage.py {args[0]}: no end within {timeout} s") from exc
        if done.returncode != 0:
            raise StackError(
                f"manage.py {' '.join(args)} exited with {done.returncode}:\n"
                + (done.stderr or done.stdout)[-2000:]
            )
        return done.stdout

    def database(self) -> psycopg.Connection:
        """A connection to the stack's database (autocommit), for reading state."""
        return psycopg.connect(self.db_url, autocommit=True, connect_timeout=10)

    def server_names(self) -> list[str]:
        return list(self._processes)

    def log_path(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def check_running(self) -> None:
        """StackError if a server has exited (a crash would read as client errors)."""
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode}")

    def cpu_ticks(self) -> dict[tuple[int, int], tuple[str, int]]:
        """CPU ticks used so far by every process of the stack, now alive.

        Keyed by (pid, start time), valued (server, ticks): a server's process group
        (the workers it forked) and PostgreSQL's backends for this database.
        """
        leaders = {p.pid: name for name, p in self._processes.items()}
        marker = f" {self.db_name} ".encode()
        ticks = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue  # gone meanwhile
            fields = stat.rsplit(")", 1)[1].split()
            group = int(fields[2])
            if group in leaders:
                name = leaders[group]
            elif cmdline.startswith(b"postgres: ") and marker in cmdline:
                name = "postgresql"
            else:
                continue
            # utime + stime; field 22 of stat (start time) tells a reused pid apart.
            key = (int(entry.name), int(fields[19]))
            ticks[key] = (name, int(fields[11]) + int(fields[12]))
        return ticks

    def print_log_tails(self, lines: int = 15) -> None:
        for name in ("gunicorn", "qcluster", "fake-av", "redis"):
            path = self.log_path(name)
            if path.exists() and path.stat().st_size:
                print(f"--- last lines of {name}.log", file=sys.stderr)
                for line in path.read_text(errors="replace").splitlines()[-lines:]:
                    print(f"    {line}", file=sys.stderr)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's own group, SIGKILL after STOP_TIMEOUT_S."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_S)
    # Children that outlived their parent (a Django-Q2 worker) are in the same group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM ends the script like Ctrl-C, so its cleanup runs."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
