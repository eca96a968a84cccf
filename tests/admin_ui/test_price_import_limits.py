"""The price import refuses files over PRICE_IMPORT_MAX_BYTES and leaves no file behind."""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import pytest
from django.core.cache import cache
from django.urls import reverse

from admin_ui.prices import PriceImportStorage
from core.models import PriceBar
from tests.admin_ui.test_price_import import GOOD, confirm, upload
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db


def page_text(response) -> str:
    return html.unescape(response.content.decode()).replace("\xa0", " ")


@pytest.fixture
def temp_dir(settings, monkeypatch, tmp_path: Path) -> Path:
    """Where Python's and Django's temporary files go in this test. Every upload is
    streamed to a temporary file, as Django does with large ones."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    settings.FILE_UPLOAD_TEMP_DIR = str(folder)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    return folder


def left_behind(temp_dir: Path, media_root: Path) -> list[Path]:
    return [path for folder in (temp_dir, media_root) for path in folder.rglob("*")]


def stored_upload_name(preview) -> str:
    match = re.search(
        r'name="import_file_name"[^>]*value="([^"]+)"', preview.content.decode()
    )
    assert match, "no confirm form on the preview page"
    return match.group(1)


def test_a_file_over_the_limit_is_refused_with_a_clear_message(
    admin_client, settings, temp_dir, media_root
):
    make_symbol("IBM")
    settings.PRICE_IMPORT_MAX_BYTES = 1000
    content = (GOOD * 10).encode()
    assert len(content) > 1000

    refused = upload(admin_client, content, "bars.csv", 0)

    text = page_text(refused)
    assert refused.status_code == 200
    assert (
        f"bars.csv is {len(content) / 1024:.1f} KB; a price import takes files of "
        "at most 1000 bytes." in text
    )
    assert "Confirm import" not in text
    assert PriceBar.objects.count() == 0
    assert left_behind(temp_dir, media_root) == []


def test_a_file_at_the_limit_is_previewed(admin_client, settings):
    make_symbol("IBM")
    settings.PRICE_IMPORT_MAX_BYTES = len(GOOD.encode())
    assert "Confirm import" in page_text(
        upload(admin_client, GOOD.encode(), "b.csv", 0)
    )


def test_the_import_page_states_the_limit(admin_client, settings):
    settings.PRICE_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    page = admin_client.get(reverse("admin:core_pricebar_import"))
    assert "CSV or XLSX, at most 2.0 MB." in page_text(page)


def test_preview_and_confirm_leave_no_file(admin_client, temp_dir, media_root):
    make_symbol("IBM")
    preview = upload(admin_client, GOOD.encode(), "bars.csv", 0)
    name = stored_upload_name(preview)
    assert cache.get(PriceImportStorage.CACHE_PREFIX + name) is not None

    confirm(admin_client, preview)

    assert PriceBar.objects.count() == 2
    assert cache.get(PriceImportStorage.CACHE_PREFIX + name) is None
    assert left_behind(temp_dir, media_root) == []


def test_an_abandoned_preview_leaves_no_file_and_expires(
    admin_client, temp_dir, media_root
):
    make_symbol("IBM")

    preview = upload(admin_client, GOOD.encode(), "bars.csv", 0)

    assert "Confirm import" in page_text(preview)
    assert left_behind(temp_dir, media_root) == []
    assert PriceImportStorage.CACHE_LIFETIME == 3600
    assert cache.get(PriceImportStorage.CACHE_PREFIX + stored_upload_name(preview))


def test_a_preview_with_a_bad_row_leaves_no_file(admin_client, temp_dir, media_root):
    make_symbol("IBM")
    bad = GOOD + "IBM,2024-13-40,1,2,1,1,10\r\n"

    preview = upload(admin_client, bad.encode(), "bars.csv", 0)

    assert "Confirm import" not in page_text(preview)
    assert left_behind(temp_dir, media_root) == []
