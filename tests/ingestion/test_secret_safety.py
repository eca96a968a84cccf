"""The Alpha Vantage key never leaves the process: not in logs, errors, jobs or bodies,
not even in part."""

from __future__ import annotations

import logging

import pytest
from django_q.models import Failure, Success, Task

from core.models import Job
from tests.fakes.alphavantage import FakeResponse
from tests.ingestion.kept_texts import ALL, FRAGMENT, KEY, KeptText, leaks, with_key

pytestmark = pytest.mark.django_db

ECHO = "API key as "

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


def offsets_through_the_endpoint(kept: KeptText) -> list[int]:
    """A few offsets per text, to keep this test to seconds; the provider's tests
    (test_alpha_vantage_key_fragments.py) try every offset, or every one around
    the cut. At a cut: all but the key's last character inside, and only its first
    FRAGMENT characters inside (a cut before redaction keeps a piece of either). A
    text kept whole: where the service echoes the key, else the middle."""
    if kept.cut is not None and kept.cut <= len(kept.text) and kept.kept:
        return [kept.cut - len(KEY) + 1, kept.cut - FRAGMENT]
    if kept.cut is not None and kept.kept:
        return [0, len(kept.text)]
    echo = kept.text.find(ECHO)
    return [echo + len(ECHO) if echo >= 0 else len(kept.text) // 2]


def texts_of_records(caplog) -> list[str]:
    texts = []
    for record in caplog.records:
        texts += [record.getMessage(), record.exc_text or "", record.stack_info or ""]
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    return texts


def texts_of_rows() -> list[str]:
    texts = []
    for job in Job.objects.all():
        texts += [job.error, job.error_code, str(job.result), str(job.parameters)]
    for model in (Task, Success, Failure):
        for task in model.objects.all():
            texts += [task.name, task.func, str(task.args), str(task.kwargs)]
            texts += [str(task.result), str(task.group)]
    return texts


@pytest.mark.parametrize("kept", ALL, ids=lambda kept: kept.name)
def test_no_piece_of_the_key_leaves_through_fetch_or_its_job(
    kept,
    provider_settings,
    token_client,
    fake_av,
    caplog,
    django_capture_on_commit_callbacks,
):
    provider_settings.ALPHA_VANTAGE_API_KEY = KEY
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    provider_settings.RATELIMIT_ENABLE = False
    caplog.set_level(logging.DEBUG)
    assert leaks(KEY, [kept.text]) == [], "the text must not hold a piece already"

    found = {}
    offsets = offsets_through_the_endpoint(kept)
    for offset in offsets:
        answer = kept.responses(with_key(kept.text, KEY, offset))
        caplog.clear()
        # A ticker per call: a symbol fetched a moment ago is answered from the
        # database without asking the provider.
        fake_av.script(*answer)
        direct = token_client.get(f"/fetch/S{offset}/")
        fake_av.script(*answer)
        with django_capture_on_commit_callbacks(execute=True):
            queued = token_client.get(f"/fetch/J{offset}/?async=1")
        assert direct.status_code != 500, direct.content
        texts = [
            response_text
            for response in (direct, queued)
            for response_text in (response.content.decode(), str(response.headers))
        ]
        texts += texts_of_records(caplog) + texts_of_rows()
        found[offset] = [text for text in texts if leaks(KEY, [text])]

    # What /jobs/ shows is read from the Job rows checked above; once is enough.
    job_state = token_client.get(queued.json()["url"])
    assert job_state.json()["status"] in ("succeeded", "failed")
    found["jobs"] = leaks(KEY, [job_state.content.decode(), str(job_state.headers)])
    assert {offset: texts for offset, texts in found.items() if texts} == {}
    # The key was sent each time, every scripted answer was used, and the queue
    # recorded its tasks, so there was something to look at.
    assert len(fake_av.price_requests) == 2 * len(offsets) * len(kept.responses(""))
    assert {request["apikey"] for request in fake_av.requests} == {KEY}
    assert Task.objects.count() == len(offsets)
