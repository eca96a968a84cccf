"""Log lines as CloudWatch gets them: one JSON object each, the request id on every one,
a traceback inside its line, no secret, and the job_failed event the alarm counts."""

from __future__ import annotations

import json
import re
import runpy
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from core.log_config import request_id_get
from core.models import Job
from core.services import job_fail, jobs_sweep_stuck
from tests.core.log_probe import (
    API_TOKEN,
    SAFE_INCOMING_ID,
    SECRET,
    UNSAFE_INCOMING_ID,
    ProbeRun,
    probe_run,
)
from tests.deploy.helpers import ROOT, run_python

GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> ProbeRun:
    """One run of the probe (requests, then failing Jobs) with LOG_FORMAT=json."""
    return probe_run(tmp_path_factory.mktemp("json-probe"))


@pytest.fixture(scope="module")
def records(probe: ProbeRun) -> list[dict[str, Any]]:
    return [json.loads(line) for line in probe.lines]


def lines_of(records: list[dict[str, Any]], **fields: Any) -> list[dict[str, Any]]:
    return [r for r in records if all(r.get(k) == v for k, v in fields.items())]


# --- The lines -----------------------------------------------------------------------


def test_every_line_is_one_json_object_with_the_common_fields(probe: ProbeRun):
    assert len(probe.lines) > 10
    for line in probe.lines:
        record = json.loads(line)  # raises on any line that is not JSON
        assert isinstance(record, dict), line
        assert list(record)[:5] == ["time", "level", "logger", "message", "request_id"]
        assert record["request_id"], line


def test_a_views_line_and_the_access_line_carry_the_answered_request_id(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    for request in ("kept", "unsafe", "too_long", "none"):
        request_id = probe.request_id(request)
        (view_line,) = lines_of(records, request_id=request_id, logger="probe.views")
        assert view_line["message"] == "probe view ran"
        (access,) = lines_of(records, request_id=request_id, logger="core.access")
        assert access["level"] == "INFO"
        assert (access["method"], access["path"], access["status"]) == (
            "GET",
            "/probe/log/",
            200,
        )
        assert isinstance(access["duration_ms"], float) and access["duration_ms"] >= 0


def test_a_sane_incoming_request_id_is_kept_and_an_unsafe_one_replaced(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    assert probe.request_id("kept") == SAFE_INCOMING_ID
    made_up = [probe.request_id(r) for r in ("unsafe", "too_long", "none")]
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in made_up)
    assert len(set(made_up)) == 3
    assert not any(UNSAFE_INCOMING_ID in line for line in probe.lines)
    assert not lines_of(records, request_id="a" * 65)


def test_django_warnings_after_the_view_still_carry_the_request_id(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    # Django logs "Not Found" once the middleware has returned the answer.
    request_id = probe.request_id("missing")
    (warning,) = lines_of(records, logger="django.request", level="WARNING")
    assert warning["message"] == "Not Found: /no-such-page/"
    assert warning["request_id"] == request_id
    assert "request" not in warning  # the request object, query string and all


def test_a_traceback_is_one_field_of_one_line_with_the_key_redacted(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    request_id = probe.request_id("fail")
    assert probe.summary["responses"]["fail"]["status"] == 500
    (error,) = lines_of(records, logger="django.request", level="ERROR")
    assert error["request_id"] == request_id
    assert error["message"] == "Internal Server Error: /probe/fail/"
    traceback = error["exc_info"]
    assert traceback.startswith("Traceback (most recent call last):")
    assert "RuntimeError: provider refused" in traceback
    assert "apikey=[REDACTED] for key [REDACTED]" in traceback
    # The only lines holding a traceback: this one and the failed Job's.
    assert sum("Traceback (most recent call last)" in line for line in probe.lines) == 2


def test_the_access_line_of_a_failed_request_has_the_path_without_its_query(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    (access,) = lines_of(records, logger="core.access", path="/probe/fail/")
    assert access["status"] == 500
    assert access["request_id"] == probe.request_id("fail")
    assert "?" not in access["message"]
    assert API_TOKEN not in probe.stderr
    assert "token=" not in probe.stderr


def test_the_alpha_vantage_key_appears_in_no_line(probe: ProbeRun):
    assert SECRET not in probe.stderr
    assert "[REDACTED]" in probe.stderr  # it was there to leak, in several places


def test_load_balancer_health_checks_write_no_access_line(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    assert probe.summary["responses"]["healthz"]["status"] == 200
    assert GENERATED_ID.fullmatch(probe.request_id("healthz"))
    assert not lines_of(records, path="/healthz")
    assert not lines_of(records, request_id=probe.request_id("healthz"))


def test_a_failed_job_logs_the_job_failed_event_with_its_fields(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    jobs = probe.summary["jobs"]
    events = lines_of(records, event="job_failed")
    assert sorted(event["job_id"] for event in events) == sorted(jobs.values())
    by_job = {event["job_id"]: event for event in events}
    expected = {
        "known": ("fetch", "unknown_symbol", f"job-{jobs['known']}"),
        "unexpected": ("backtest", "internal_error", f"job-{jobs['unexpected']}"),
        # The sweeper runs outside any Job or request.
        "stuck": ("report", "stuck", "-"),
    }
    for name, (kind, error_code, request_id) in expected.items():
        event = by_job[jobs[name]]
        assert event["level"] == "WARNING"
        assert (event["kind"], event["error_code"]) == (kind, error_code)
        assert event["request_id"] == request_id


def test_a_jobs_unexpected_error_is_logged_under_the_jobs_id(
    probe: ProbeRun, records: list[dict[str, Any]]
):
    job_id = probe.summary["jobs"]["unexpected"]
    (error,) = lines_of(records, logger="core.tasks", level="ERROR")
    assert error["request_id"] == f"job-{job_id}"
    assert error["exc_info"].endswith("RuntimeError: the worker saw [REDACTED]")


def test_plain_format_is_text_with_the_request_id_and_the_key_redacted(tmp_path):
    run = probe_run(tmp_path, jobs=False, LOG_FORMAT="plain")
    view_line, access = (line for line in run.lines if SAFE_INCOMING_ID in line)
    assert view_line.endswith(f" INFO probe.views [{SAFE_INCOMING_ID}]: probe view ran")
    assert re.search(
        rf" INFO core\.access \[{re.escape(SAFE_INCOMING_ID)}\]: GET /probe/log/ 200 [0-9.]+ ms$",
        access,
    )
    assert "Traceback (most recent call last):" in run.lines  # over several lines
    assert SECRET not in run.stderr


def test_an_unknown_log_format_is_refused_at_start():
    result = run_python(
        "-c",
        "import django; django.setup()",
        env={
            "DJANGO_SETTINGS_MODULE": "core.settings",
            "SECRET_KEY": "x" * 50,
            "LOG_FORMAT": "xml",
        },
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be json or plain" in result.stderr


# --- gunicorn ------------------------------------------------------------------------


def test_gunicorn_logs_its_own_lines_as_json_and_leaves_access_lines_to_the_app():
    """gunicorn's own Logger, set up from docker/gunicorn.conf.py as gunicorn does."""
    program = f"""
import logging, runpy
from gunicorn.config import Config
from gunicorn.glogging import Logger
settings = runpy.run_path({str(ROOT / "docker/gunicorn.conf.py")!r})
config = Config()
for name in ("accesslog", "errorlog", "loglevel", "logconfig_dict"):
    config.set(name, settings[name])
log = Logger(config)
log.info("Booting worker with pid: %s", 4242)
try:
    raise RuntimeError("worker failed with {SECRET}")
except RuntimeError:
    log.exception("Exception in worker process")
print(logging.getLogger("gunicorn.access").isEnabledFor(logging.INFO))
"""
    result = run_python(
        "-c", program, env={"ALPHA_VANTAGE_API_KEY": SECRET, "LOG_FORMAT": "json"}
    )
    assert result.returncode == 0, result.stderr
    booting, failed = (json.loads(line) for line in result.stderr.splitlines())
    assert (booting["logger"], booting["level"]) == ("gunicorn.error", "INFO")
    assert booting["message"] == "Booting worker with pid: 4242"
    assert booting["request_id"] == "-"
    assert failed["exc_info"].endswith("RuntimeError: worker failed with [REDACTED]")
    assert SECRET not in result.stderr
    assert result.stdout.strip() == "False"
    assert runpy.run_path(str(ROOT / "docker/gunicorn.conf.py"))["accesslog"] is None


# --- In this process: the middleware and the job_failed event -----------------------


@pytest.mark.django_db
def test_every_answer_names_its_request_and_the_id_is_forgotten_after_it(
    client: Client,
):
    answers = [
        client.get("/jobs/1/"),  # 401 from the API's own error shape
        client.get("/no-such-page/"),
        client.get("/healthz", HTTP_X_REQUEST_ID="lb-check.7"),
    ]
    assert [a.status_code for a in answers] == [401, 404, 200]
    assert all(GENERATED_ID.fullmatch(a["X-Request-ID"]) for a in answers[:2])
    assert answers[2]["X-Request-ID"] == "lb-check.7"
    assert request_id_get() == "-"


def job_failed_records(caplog: pytest.LogCaptureFixture) -> list[Any]:
    return [r for r in caplog.records if getattr(r, "event", None) == "job_failed"]


@pytest.mark.django_db
def test_job_fail_logs_the_event_with_its_fields(caplog):
    job = Job.objects.create(kind=Job.Kind.PREDICT, ticker="ACME")
    job_fail(job=job, message="No model.", code="no_active_model")
    (record,) = job_failed_records(caplog)
    assert (record.levelname, record.job_id, record.kind, record.error_code) == (
        "WARNING",
        job.pk,
        "predict",
        "no_active_model",
    )
    assert record.getMessage() == f"Job {job.pk} (predict) failed: no_active_model"


@pytest.mark.django_db
def test_the_sweeper_logs_one_event_for_each_job_it_fails(caplog):
    long_ago = timezone.now() - timedelta(days=3)
    stuck_running = Job.objects.create(
        kind=Job.Kind.TRAIN, status=Job.Status.RUNNING, started_at=long_ago
    )
    never_picked = Job.objects.create(kind=Job.Kind.FETCH, ticker="IBM")
    Job.objects.filter(pk=never_picked.pk).update(created_at=long_ago)
    Job.objects.create(
        kind=Job.Kind.FETCH,
        ticker="MSFT",
        status=Job.Status.RUNNING,
        started_at=timezone.now(),
    )
    failed = jobs_sweep_stuck(
        running_for=timedelta(hours=1), queued_for=timedelta(days=1)
    )
    assert failed == 2
    events = {(r.job_id, r.kind, r.error_code) for r in job_failed_records(caplog)}
    assert events == {
        (stuck_running.pk, "train", "stuck"),
        (never_picked.pk, "fetch", "stuck"),
    }
    assert len(job_failed_records(caplog)) == 2
