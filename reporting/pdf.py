"""PDF rendering with WeasyPrint that can fetch nothing but data: URLs and our static files."""

from __future__ import annotations

import logging
from urllib.parse import unquote, urlparse

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from django_weasyprint.utils import DjangoURLFetcher, guess_content_type
from weasyprint.urls import URLFetcherResponse

logger = logging.getLogger(__name__)

# Relative URLs in report templates (/static/...) resolve against this.
BASE_URL = "file:///"


class ReportURLFetcher(DjangoURLFetcher):
    """Serves data: URLs and files found by the staticfiles finders; refuses the rest.

    A report can therefore neither read arbitrary local files nor call out.
    """

    def fetch(self, url: str, headers: dict | None = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
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


def render_pdf(html: str) -> bytes:
    document = weasyprint.HTML(
        string=html, base_url=BASE_URL, url_fetcher=ReportURLFetcher()
    )
    return document.write_pdf()
