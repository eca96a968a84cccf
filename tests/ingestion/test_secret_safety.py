"""The Alpha Vantage key never leaves the process: not in logs, errors, jobs or bodies."""

from __future__ import annotations

import logging

import pytest

from core.models import Job
from tests.fakes.alphavantage import FakeResponse

pytestmark = pytest.mark.django_db

SCENARIOS = [
    [FakeResponse.sample("information_rate_limit_daily_key_echo.json")],
    [FakeResponse.sample("error_invalid_apikey.json")],
    [FakeResponse(status=500, body="boom", content_type="text/html")] * 3,
    [
        FakeResponse(status=500, body="boom"),
        FakeResponse.sample("information_burst_limit.json"),
    ],
    [FakeResponse(body="not json at all")],
    [],  # success
]


@pytest.mark.parametrize("responses", SCENARIOS)
def test_the_key_is_in_no_log_response_or_job(
    responses,
    provider_settings,
    token_client,
    fake_av,
    av_key,
    caplog,
    django_capture_on_commit_callbacks,
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    caplog.set_level(logging.DEBUG)
    fake_av.script(*responses)

    direct = token_client.get("/fetch/IBM/")
    fake_av.script(*responses)
    with django_capture_on_commit_callbacks(execute=True):
        queued = token_client.get("/fetch/IBM/?async=1")
    job_state = token_client.get(queued.json()["url"])

    texts = [
        direct.content.decode(),
        queued.content.decode(),
        job_state.content.decode(),
    ]
    texts += [str(direct.headers), str(job_state.headers)]
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
        if record.exc_text:
            texts.append(record.exc_text)
    for job in Job.objects.all():
        texts += [job.error, str(job.result), str(job.parameters)]
    assert len(fake_av.requests) > 0
    assert all(av_key in request.get("apikey", "") for request in fake_av.requests)
    leaks = [text for text in texts if av_key in text]
    assert leaks == []
