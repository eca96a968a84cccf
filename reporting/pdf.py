"""PDF rendering with WeasyPrint (data: URLs and our static files only), capped per process."""

from __future__ import annotations

import base64
import binascii
import gc
import logging
import math
import ssl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django_weasyprint.utils import DjangoURLFetcher, guess_content_type
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from core.errors import StockDeskError

logger = logging.getLogger(__name__)

# Relative URLs in report templates (/static/...) resolve against this.
BASE_URL = "file:///"
# WeasyPrint's fetcher builds urllib's HTTPS handler, which without a context of its
# own loads the system's CA certificates: a tenth of a render, every render, for a
# fetcher that never goes out. This context trusts no one and is made once.
_NO_NETWORK = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class ReportURLFetcher(DjangoURLFetcher):
    """Serves data: URLs and files found by the staticfiles finders; refuses the rest.

    A report can therefore neither read arbitrary local files nor call out.
    """

    def __init__(self) -> None:
        super().__init__(ssl_context=_NO_NETWORK)

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return self._data(url, headers)
        parsed = urlparse(url)
        static_prefix = settings.STATIC_URL
        if (
            parsed.scheme == "file"
            and not parsed.netloc
            and parsed.path.startswith(static_prefix)
        ):
            relative = unquote(parsed.path[len(static_prefix) :])
            found = finders.find(relative) if ".." not in relative.split("/") else None
            if found:
                with open(found, "rb") as handle:
                    body = handle.read()
                return URLFetcherResponse(
                    url=url,
                    body=body,
                    headers={"Content-Type": guess_content_type(found)},
                )
        logger.warning("Report rendering refused to fetch %s", url[:200])
        raise ValueError(
            f"Reports fetch only data: URLs and static files, not {url[:80]!r}"
        )

    def _data(self, url: str, headers: dict | None) -> URLFetcherResponse:
        """A base64 data: URL (the charts) decoded here; others as urllib reads them."""
        head, _, body = url.partition(",")
        if not head.endswith(";base64"):
            return super().fetch(url, headers)
        try:
            content = base64.b64decode(body, validate=True)
        except binascii.Error:
            return super().fetch(url, headers)
        media_type = head.removeprefix("data:").removesuffix(";base64")
        return URLFetcherResponse(
            url=url,
            body=content,
            headers={"Content-Type": media_type or "text/plain"},
        )


_fonts = threading.local()


def _font_config() -> FontConfiguration:
    """This thread's fontconfig and Pango font map, made once and kept.

    Without one WeasyPrint makes both for every document: fontconfig loads its
    configuration and font cache again, Pango opens and measures every font from
    scratch, and the whole map is freed by the collector at the end. Pango's font map
    is not thread-safe, hence one per thread (a gunicorn worker has a few)."""
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


def render_pdf(html: str) -> bytes:
    with collector_paused():
        document = weasyprint.HTML(
            string=html, base_url=BASE_URL, url_fetcher=ReportURLFetcher()
        )
        return document.write_pdf(font_config=_font_config())


class CollectorPause:
    """Python's automatic (cyclic) garbage collection off while any holder runs, and
    the young generation collected once when the last one ends.

    A report's render builds some 70,000 objects (the charts' figures, WeasyPrint's
    boxes and styles) that all live to its end, some 55,000 of them in reference
    cycles. With the collector on, those allocations start a full collection every
    second render or so, and a full collection walks every object of a web process
    (Django, pandas, scikit-learn, matplotlib: some 400,000), which costs more CPU
    than the render's own layout. Paused, the render's objects are looked at once, in
    one young-generation collection at the end, and they no longer count towards the
    next full collection. The switch is the process's: other threads of a gunicorn
    worker run without automatic collection meanwhile too (for well under a second)
    and their young garbage goes in the same collection.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._resume = False

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self._holders == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._holders += 1
        try:
            yield
        finally:
            with self._lock:
                self._holders -= 1
                last = self._holders == 0
                if last and self._resume:
                    gc.enable()
            if last:
                gc.collect(0)


_collector_pause = CollectorPause()


def collector_paused() -> AbstractContextManager[None]:
    """Hold the process's CollectorPause (nests; any thread)."""
    return _collector_pause.held()


class RendererBusy(StockDeskError):
    """Every PDF render slot of this web process is taken: come back shortly."""

    status = 503
    code = "renderer_busy"


class RenderSlots:
    """At most `renders` PDF renders at once, and at most `waiting` more waiting (each
    up to `wait_seconds`) for one to end; any request past those is refused at once.

    A gunicorn worker process serves every request on its few threads, and a request
    waiting here holds its thread as surely as one rendering, so both counts stay
    below the thread count (docker/gunicorn.conf.py refuses to start otherwise): a
    thread is always left for /healthz and the admin.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._rendering = 0
        self._waiting = 0

    @contextmanager
    def slot(
        self, *, renders: int, waiting: int, wait_seconds: float
    ) -> Iterator[None]:
        with self._changed:
            if self._rendering >= renders:
                if self._waiting >= waiting:
                    raise self._busy(wait_seconds)
                self._waiting += 1
                try:
                    free = self._changed.wait_for(
                        lambda: self._rendering < renders, timeout=wait_seconds
                    )
                finally:
                    self._waiting -= 1
                if not free:
                    raise self._busy(wait_seconds)
            self._rendering += 1
        try:
            yield
        finally:
            with self._changed:
                self._rendering -= 1
                self._changed.notify()

    @staticmethod
    def _busy(wait_seconds: float) -> RendererBusy:
        return RendererBusy(
            "Every PDF renderer of this server is busy; try again in a few seconds.",
            retry_after=max(1, math.ceil(wait_seconds)),
        )


_slots = RenderSlots()


@contextmanager
def pdf_render_slot() -> Iterator[None]:
    """Hold one of this process's PDF render slots (REPORT_PDF_* settings), or raise
    RendererBusy (503 with Retry-After). The garbage collector is paused while it is
    held (CollectorPause): the report is built in the slot too."""
    with (
        _slots.slot(
            renders=settings.REPORT_PDF_MAX_RENDERS,
            waiting=settings.REPORT_PDF_MAX_WAITING,
            wait_seconds=settings.REPORT_PDF_WAIT_SECONDS,
        ),
        collector_paused(),
    ):
        yield
