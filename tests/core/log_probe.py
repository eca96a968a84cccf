"""Run by the observability tests as `python -m tests.core.log_probe [requests]` under
the real settings (core.settings, not the test settings): requests to the real URL map
plus tests/core/log_probe_urls.py's two views, then (without `requests`) failing Jobs.
The log lines go to stderr, a JSON summary to stdout. `probe_run` starts it."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

from tests.deploy.helpers import run_python

# What the probe's environment names as the Alpha Vantage key; no line may show it.
SECRET = "PROBEKEY7Q2W9E4R"
API_TOKEN = "sdk_" + "t" * 43
SAFE_INCOMING_ID = "caller-id.1_A"
# A quote and braces: a caller trying to close the JSON line and open its own.
UNSAFE_INCOMING_ID = 'bad id"} {"level": "x'


@dataclass(frozen=True)
class ProbeRun:
    summary: dict[str, Any]
    stderr: str

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]

    def request_id(self, request: str) -> str:
        return self.summary["responses"][request]["request_id"]


def probe_run(folder: Path, *, jobs: bool = True, **env: str) -> ProbeRun:
    """The probe in a clean process: no .env value decides anything asserted on."""
    static = folder / "static"
    static.mkdir(parents=True, exist_ok=True)
    environment = {
        "DJANGO_SETTINGS_MODULE": "core.settings",
        "SECRET_KEY": "probe-only-secret-key-" + "x" * 40,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{folder / 'probe.sqlite3'}",
        "STATIC_ROOT": str(static),
        "MEDIA_ROOT": str(folder / "media"),
        "ALPHA_VANTAGE_API_KEY": SECRET,
        "ALPHA_VANTAGE_BASE_URL": "http://127.0.0.1:9/query",
        "PRICE_PROVIDER": "sample",
        "CACHE_BACKEND": "locmem",
        "REDIS_URL": "",
        "AXES_ENABLED": "false",
        "DJANGO_Q_HEARTBEAT_FILE": "",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "SENTRY_DSN": "",
        "SENTRY_ENVIRONMENT": "",
        "SENTRY_RELEASE": "",
        "SENTRY_TRACES_SAMPLE_RATE": "",
        **env,
    }
    args = ["-m", "tests.core.log_probe"] + ([] if jobs else ["requests"])
    result = run_python(*args, env=environment, timeout=180)
    assert result.returncode == 0, result.stderr[-5000:]
    return ProbeRun(summary=json.loads(result.stdout), stderr=result.stderr)


def _wsgi_get(
    application: Any, url: str, headers: dict[str, str]
) -> tuple[int, dict[str, str]]:
    """GET url from the WSGI application as gunicorn would call it, and close the
    answer after reading it (Django's request_finished comes from that close)."""
    path, _, query = url.partition("?")
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ.update(
        {"PATH_INFO": path, "QUERY_STRING": query, "HTTP_HOST": "testserver"}
    )
    environ.update(headers)
    answered: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
        answered["status"] = int(status.split()[0])
        answered["headers"] = dict(response_headers)

    body = application(environ, start_response)
    try:
        b"".join(body)
    finally:
        body.close()
    return answered["status"], answered["headers"]


def _requests() -> dict[str, dict[str, Any]]:
    from django.core.wsgi import get_wsgi_application
    from django.test.utils import override_settings

    application = get_wsgi_application()
    asked = {
        "kept": ("/probe/log/", {"HTTP_X_REQUEST_ID": SAFE_INCOMING_ID}),
        "unsafe": ("/probe/log/", {"HTTP_X_REQUEST_ID": UNSAFE_INCOMING_ID}),
        "too_long": ("/probe/log/", {"HTTP_X_REQUEST_ID": "a" * 65}),
        "none": ("/probe/log/", {}),
        "fail": (
            f"/probe/fail/?apikey={SECRET}&token={API_TOKEN}",
            {"HTTP_AUTHORIZATION": f"Bearer {API_TOKEN}"},
        ),
        "healthz": ("/healthz", {}),
        "missing": ("/no-such-page/", {}),
    }
    answers = {}
    with override_settings(ROOT_URLCONF="tests.core.log_probe_urls"):
        for name, (url, headers) in asked.items():
            status, response_headers = _wsgi_get(application, url, headers)
            answers[name] = {
                "status": status,
                "request_id": response_headers.get("X-Request-ID"),
            }
    return answers


def _jobs() -> dict[str, int]:
    from django.core.management import call_command
    from django.utils import timezone

    from core.errors import NotFound
    from core.models import Job
    from core.services import jobs_sweep_stuck
    from core.tasks import JobOutcome, run_job

    call_command("migrate", verbosity=0)

    def known_failure(job: Job) -> JobOutcome:
        raise NotFound("No such thing.", code="unknown_symbol")

    def unexpected_failure(job: Job) -> JobOutcome:
        raise RuntimeError(f"the worker saw {SECRET}")

    known = Job.objects.create(kind=Job.Kind.FETCH, ticker="ACME")
    run_job(known.pk, known_failure)
    unexpected = Job.objects.create(kind=Job.Kind.BACKTEST, ticker="ACME")
    run_job(unexpected.pk, unexpected_failure)
    stuck = Job.objects.create(
        kind=Job.Kind.REPORT,
        ticker="ACME",
        status=Job.Status.RUNNING,
        started_at=timezone.now() - timedelta(days=2),
    )
    jobs_sweep_stuck(running_for=timedelta(hours=1), queued_for=timedelta(days=1))
    return {"known": known.pk, "unexpected": unexpected.pk, "stuck": stuck.pk}


def main(modes: list[str]) -> None:
    import django

    django.setup()
    summary: dict[str, Any] = {"sentry_loaded": "sentry_sdk" in sys.modules}
    summary["responses"] = _requests()
    if "requests" not in modes:
        summary["jobs"] = _jobs()
    if summary["sentry_loaded"]:
        import sentry_sdk

        summary["sentry_initialised"] = sentry_sdk.is_initialized()
        sentry_sdk.flush(timeout=10)
    print(json.dumps(summary))


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    main(sys.argv[1:])
