"""The vendored chart library is the pinned file, and every static-files mode serves it."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core.management import call_command

import admin_ui

VENDOR = "admin_ui/vendor/lightweight-charts"
LIBRARY = f"{VENDOR}/lightweight-charts.standalone.production.js"
MANIFEST = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
VENDOR_DIR = Path(admin_ui.__file__).parent / "static" / VENDOR


def note(key: str) -> str:
    """A `- key: value` line of the vendor README (scripts/vendor-charts.sh writes it)."""
    found = re.search(
        rf"^- {key}: (\S+)$", (VENDOR_DIR / "README.md").read_text(), re.M
    )
    assert found, f"{key} missing from {VENDOR}/README.md"
    return found.group(1)


def test_the_vendored_file_matches_the_sha256_in_its_note():
    digest = hashlib.sha256((VENDOR_DIR / note("file")).read_bytes()).hexdigest()
    assert digest == note("sha256")


def test_the_note_pins_the_npm_tarball_and_the_licence_files_ship():
    version = note("version")
    assert note("tarball") == (
        "https://registry.npmjs.org/lightweight-charts/-/"
        f"lightweight-charts-{version}.tgz"
    )
    assert note("integrity").startswith("sha512-")
    assert "Apache License" in (VENDOR_DIR / "LICENSE").read_text()
    assert "TradingView, Inc." in (VENDOR_DIR / "NOTICE").read_text()
    assert f"v{version}" in (VENDOR_DIR / note("file")).read_text()[:400]


def test_the_app_finders_serve_the_library_and_the_chart_script():
    """What runserver and WhiteNoise (WHITENOISE_USE_FINDERS) serve without collectstatic."""
    assert finders.find(LIBRARY)
    assert finders.find("admin_ui/charts.js")


def test_collectstatic_with_the_manifest_storage_hashes_both(settings, tmp_path):
    """Production (DEBUG off) serves hashed names from the manifest collectstatic
    writes in the image; a file missing there would be a 500 on every chart page.
    Django's manifest storage is what WhiteNoise's compressed one builds on."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": MANIFEST},
    }
    call_command("collectstatic", interactive=False, verbosity=0)

    storage = ManifestStaticFilesStorage(location=tmp_path)  # reads the manifest
    for name in (LIBRARY, "admin_ui/charts.js"):
        hashed = storage.stored_name(name)
        assert hashed != name and (tmp_path / hashed).is_file()
