"""Sentry: on only with SENTRY_DSN, and what it sends holds neither the key nor a token."""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import brotli
import pytest
import sentry_sdk

from core.error_reporting import EventSecretScrubber, error_reporting_init
from core.log_config import request_id_bound
from tests.core.log_probe import API_TOKEN, SECRET, probe_run


class FakeSentry:
    """A Sentry ingest endpoint on loopback: keeps every envelope posted to it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "br":
                    body = brotli.decompress(body)
                if self.path == "/api/1/envelope/":
                    received.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.dsn = f"http://public@127.0.0.1:{self.server.server_port}/1"

    def events(self) -> list[dict[str, Any]]:
        """The event items of every envelope (header line, then item header and
        payload lines in pairs)."""
        found = []
        for body in self.bodies:
            lines = body.split(b"\n")
            for header, payload in zip(lines[1::2], lines[2::2], strict=False):
                if json.loads(header).get("type") == "event":
                    found.append(json.loads(payload))
        return found


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    fake = FakeSentry()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def exception_text(event: dict[str, Any]) -> str:
    return " ".join(
        f"{value['type']}: {value.get('value', '')}"
        for value in event.get("exception", {}).get("values", [])
    )


def test_with_a_dsn_an_unhandled_view_error_reaches_sentry_without_the_key(
    tmp_path, fake_sentry: FakeSentry
):
    run = probe_run(
        tmp_path,
        SENTRY_DSN=fake_sentry.dsn,
        SENTRY_ENVIRONMENT="probe-env",
        SENTRY_RELEASE="probe-release-1",
    )
    assert run.summary["sentry_initialised"] is True
    raw = b"".join(fake_sentry.bodies)
    assert raw, "no envelope reached the loopback Sentry"
    assert SECRET.encode() not in raw
    assert API_TOKEN.encode() not in raw

    events = fake_sentry.events()
    view_errors = [
        e for e in events if "RuntimeError: provider refused" in exception_text(e)
    ]
    assert view_errors, [exception_text(e) for e in events]
    event = view_errors[0]
    assert "apikey=[REDACTED] for key [REDACTED]" in exception_text(event)
    assert event["environment"] == "probe-env"
    assert event["release"] == "probe-release-1"
    assert event["request"]["url"].endswith("/probe/fail/")
    assert "[REDACTED]" in event["request"]["query_string"]
    # The event leads to the request's log lines.
    assert event["tags"]["request_id"] == run.request_id("fail")
    # send_default_pii off: no user and no client address.
    assert "user" not in event or not event["user"].get("ip_address")

    job_id = run.summary["jobs"]["unexpected"]
    job_errors = [
        e for e in events if e.get("tags", {}).get("request_id") == f"job-{job_id}"
    ]
    assert job_errors, "the Job's unexpected error (logged at ERROR) was not reported"
    assert all(e.get("type") != "transaction" for e in events)


def test_without_a_dsn_sentry_is_not_even_loaded(tmp_path, fake_sentry: FakeSentry):
    run = probe_run(tmp_path, jobs=False, SENTRY_DSN="", SENTRY_ENVIRONMENT="probe-env")
    assert run.summary["responses"]["fail"]["status"] == 500
    assert run.summary["sentry_loaded"] is False
    assert fake_sentry.bodies == []


def test_error_reporting_stays_off_without_a_dsn():
    assert error_reporting_init(dsn="", environment="production") is False
    assert sentry_sdk.is_initialized() is False


# --- The scrubber (before_send) ------------------------------------------------------


def an_event() -> dict[str, Any]:
    """An event shaped as the SDK hands it to before_send (already serialised)."""
    return {
        "level": "error",
        "message": f"provider said: the API key as {SECRET} is invalid",
        "exception": {
            "values": [
                {
                    "type": "RuntimeError",
                    "value": f"GET https://provider.invalid/query?apikey={SECRET}",
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "fetch",
                                "vars": {
                                    "api_key": "[Filtered]",
                                    "url_params": f"{{'apikey': '{SECRET}'}}",
                                    "authorization": f"Bearer {API_TOKEN}",
                                    "symbol": "'IBM'",
                                },
                            }
                        ]
                    },
                }
            ]
        },
        "request": {
            "url": "http://testserver/fetch/IBM/",
            "query_string": f"apikey={SECRET}&token={API_TOKEN}",
            "headers": {
                "Authorization": f"Bearer {API_TOKEN}",
                "Cookie": "sessionid=abc",
                "X-Request-ID": "caller-1",
                "User-Agent": "curl/8",
            },
        },
        "breadcrumbs": {
            "values": [{"category": "ingestion", "message": f"calling with {SECRET}"}]
        },
        "tags": {"kind": "fetch"},
    }


def test_the_scrubber_removes_the_key_tokens_and_credential_headers():
    scrubbed = EventSecretScrubber([SECRET])(an_event(), {})
    text = json.dumps(scrubbed)
    assert SECRET not in text
    assert API_TOKEN not in text
    assert scrubbed["request"]["headers"] == {
        "Authorization": "[REDACTED]",
        "Cookie": "[REDACTED]",
        "X-Request-ID": "caller-1",
        "User-Agent": "curl/8",
    }
    frame = scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert frame["vars"]["authorization"] == "[REDACTED]"
    assert frame["vars"]["symbol"] == "'IBM'"
    assert scrubbed["exception"]["values"][0]["value"] == (
        "GET https://provider.invalid/query?apikey=[REDACTED]"
    )
    assert scrubbed["request"]["query_string"] == ("apikey=[REDACTED]&token=[REDACTED]")
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "calling with [REDACTED]"


def test_the_scrubber_tags_the_event_with_the_current_request_id():
    scrubber = EventSecretScrubber([SECRET])
    assert "request_id" not in scrubber(an_event(), {})["tags"]
    with request_id_bound("job-42"):
        tagged = scrubber(an_event(), {})
    assert tagged["tags"] == {"kind": "fetch", "request_id": "job-42"}
