"""PDF renders per process are capped below gunicorn's threads: the rest wait a
little, then get 503 with Retry-After, so /healthz and JSON always find a thread.
While a render runs the garbage collector waits, and collects once at its end."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest
from django.test import Client

from core.services import api_token_create
from reporting import services
from reporting.pdf import CollectorPause, RendererBusy, RenderSlots, pdf_render_slot


def hold(slots: RenderSlots, release: threading.Event, **limits) -> threading.Thread:
    """A thread holding one of the slots until release is set."""
    holding = threading.Event()

    def run() -> None:
        with slots.slot(**limits):
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert holding.wait(5)
    return thread


def test_past_the_renders_one_request_waits_and_the_next_is_refused_at_once():
    slots, release = RenderSlots(), threading.Event()
    limits = {"renders": 1, "waiting": 1, "wait_seconds": 5.0}
    holder = hold(slots, release, **limits)
    waited: list[float] = []

    def wait_for_turn() -> None:
        started = time.monotonic()
        with slots.slot(**limits):
            waited.append(time.monotonic() - started)

    waiter = threading.Thread(target=wait_for_turn, daemon=True)
    waiter.start()
    time.sleep(0.2)  # the waiter is queued now

    started = time.monotonic()
    with pytest.raises(RendererBusy) as refused, slots.slot(**limits):
        pass
    assert time.monotonic() - started < 0.1
    assert (refused.value.status, refused.value.code) == (503, "renderer_busy")
    assert refused.value.retry_after == 5

    release.set()
    holder.join(5)
    waiter.join(5)
    assert len(waited) == 1 and waited[0] >= 0.2
    with slots.slot(**limits):  # every slot is free again
        pass


def test_a_request_that_waits_too_long_is_refused():
    slots, release = RenderSlots(), threading.Event()
    limits = {"renders": 1, "waiting": 1, "wait_seconds": 0.3}
    holder = hold(slots, release, **limits)

    started = time.monotonic()
    with pytest.raises(RendererBusy) as refused, slots.slot(**limits):
        pass
    assert 0.3 <= time.monotonic() - started < 2
    assert refused.value.retry_after == 1
    release.set()
    holder.join(5)


@pytest.fixture
def superuser_client(django_user_model) -> Client:
    admin = django_user_model.objects.create_superuser("boss", password="pw-123456")
    key = api_token_create(user=admin, name="tests").raw_key
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.mark.django_db
def test_a_pdf_request_finding_every_slot_taken_gets_503_json(
    settings, superuser_client, acme
):
    settings.REPORT_PDF_MAX_RENDERS = 1
    settings.REPORT_PDF_MAX_WAITING = 0
    settings.REPORT_PDF_WAIT_SECONDS = 4.0
    with pdf_render_slot():  # another request of this process is rendering
        busy = superuser_client.get("/report/ACME/?format=pdf")
        json_report = superuser_client.get("/report/ACME/")

    assert busy.status_code == 503
    assert busy["Retry-After"] == "4"
    assert busy.json()["error"]["code"] == "renderer_busy"
    assert json_report.status_code == 200  # JSON reports need no render slot
    after = superuser_client.get("/report/ACME/?format=pdf")
    assert after.status_code == 200
    assert after.content.startswith(b"%PDF")


class Cycle:
    """Garbage only the cyclic collector frees."""

    def __init__(self) -> None:
        self.itself = self


def test_the_collector_waits_for_the_last_render_then_collects_its_garbage():
    pause, inside, release = CollectorPause(), threading.Event(), threading.Event()

    def other_render() -> None:
        with pause.held():
            inside.set()
            release.wait(10)

    thread = threading.Thread(target=other_render, daemon=True)
    thread.start()
    assert inside.wait(5)
    with pause.held():
        assert not gc.isenabled()
        garbage = Cycle()
        collected = weakref.ref(garbage)
        del garbage
    assert not gc.isenabled()  # the other render is still running
    assert collected() is not None

    release.set()
    thread.join(5)
    assert gc.isenabled()
    assert collected() is None  # one collection when the last render ended


def test_a_failed_render_turns_the_collector_back_on():
    with pytest.raises(ValueError), CollectorPause().held():
        raise ValueError("layout failed")
    assert gc.isenabled()


def test_a_collector_switched_off_elsewhere_stays_off():
    gc.disable()
    try:
        with CollectorPause().held():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


@pytest.mark.django_db
def test_a_pdf_request_renders_with_the_collector_paused_and_leaves_it_on(
    monkeypatch, superuser_client, acme
):
    during: list[bool] = []
    render = services.render_pdf

    def recording(html: str) -> bytes:
        during.append(gc.isenabled())
        return render(html)

    monkeypatch.setattr(services, "render_pdf", recording)
    response = superuser_client.get("/report/ACME/?format=pdf")

    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert during == [False]
    assert gc.isenabled()
