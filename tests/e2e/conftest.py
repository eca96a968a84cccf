"""Browser tests: headless Debian Chromium against a live server and a real Django-Q2 worker.

The live server runs in this process (settings changed here apply to it); the worker
is a `manage.py qcluster` subprocess on the same test database, the ORM broker and the
fake Alpha Vantage server. One worker serves the whole module; every test starts from
an emptied database (transactional tests), which the worker reads like any client.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from django_q.conf import Conf
from playwright.sync_api import Page, expect

from tests.cluster import running_cluster
from tests.fakes.alphavantage import FakeAlphaVantage

# Playwright's sync API runs an event loop in the test thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Debian's build, or a browser already on the machine (STOCKDESK_CHROMIUM names it);
# never `playwright install`. scripts/system-deps.sh looks for the same names.
CHROMIUM = os.environ.get("STOCKDESK_CHROMIUM") or next(
    filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))),
    "/usr/bin/chromium",
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A PREMIUM-prefixed key gets full history from the fake; 600 weekdays up to the
# end date, of which the fetch keeps the last PRICE_HISTORY_YEARS (2): ~520 bars.
# Tests that need bars without a fetch take the `acme` fixture (tests/conftest.py).
PREMIUM_KEY = "PREMIUM0123456789"
TICKER = "ACME"
SERIES_DAYS = 600
SERIES_END = date(2024, 6, 7)
USERNAME = "e2e-admin"
PASSWORD = "e2e-pass-4821"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """Keep each phase's report on the item, for the screenshot fixture."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- the browser ------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {
        **browser_context_args,
        "viewport": {"width": 1440, "height": 900},
        "accept_downloads": True,
    }


@pytest.fixture(autouse=True)
def screenshot_on_failure(
    request: pytest.FixtureRequest, page: Page, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A full-page screenshot in the run's temporary folder when the test fails.

    Not in the checkout, which a test run leaves as it found it; the path is printed.
    """
    page.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        screenshots = tmp_path_factory.getbasetemp() / "e2e-screenshots"
        screenshots.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        path = screenshots / f"e2e-{name}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot: {path} (page {page.url})")
        except Exception as exc:  # a crashed page must not hide the failure
            print(f"no screenshot: {exc}")


# --- the fake provider, settings and the worker -------------------------------------


@pytest.fixture(scope="module")
def e2e_fake_av() -> Iterator[FakeAlphaVantage]:
    with FakeAlphaVantage() as fake:
        fake.generate_series(TICKER, days=SERIES_DAYS, end=SERIES_END, seed=3)
        yield fake


@pytest.fixture(scope="module")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One media folder for the module: the live server writes, the worker reads."""
    return tmp_path_factory.mktemp("e2e-media")


@pytest.fixture(autouse=True)
def e2e_settings(settings, monkeypatch, live_server, e2e_fake_av) -> Iterator[None]:
    """The live server (this process) sees what the worker sees; jobs go to the queue.

    MEDIA_ROOT is the module's media_root already (tests/conftest.py).
    """
    settings.PRICE_PROVIDER = "alpha_vantage"
    settings.ALPHA_VANTAGE_BASE_URL = e2e_fake_av.base_url
    settings.ALPHA_VANTAGE_API_KEY = PREMIUM_KEY
    settings.ALPHA_VANTAGE_PLAN = "premium"
    settings.ALPHA_VANTAGE_MIN_INTERVAL = 0.0
    settings.ALPHA_VANTAGE_DAILY_LIMIT = 25
    # settings_test runs tasks inline; here the worker must run them.
    monkeypatch.setattr(Conf, "SYNC", False)
    e2e_fake_av.requests.clear()
    yield


@pytest.fixture(scope="module")
def cluster(
    django_db_setup, e2e_fake_av, media_root, tmp_path_factory
) -> Iterator[subprocess.Popen]:
    """One worker for the module, seeing the same provider and files as the server."""
    provider = {
        "MEDIA_ROOT": str(media_root),
        "PRICE_PROVIDER": "alpha_vantage",
        "ALPHA_VANTAGE_API_KEY": PREMIUM_KEY,
        "ALPHA_VANTAGE_BASE_URL": e2e_fake_av.base_url,
        "ALPHA_VANTAGE_PLAN": "premium",
        "ALPHA_VANTAGE_MIN_INTERVAL": "0",
    }
    log = tmp_path_factory.mktemp("qcluster") / "qcluster.log"
    with running_cluster(provider, log) as process:
        yield process


# --- data and pages -----------------------------------------------------------------


@pytest.fixture
def admin_account(django_user_model):
    return django_user_model.objects.create_superuser(
        username=USERNAME, password=PASSWORD, email="e2e@example.com"
    )


def log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("log in", re.IGNORECASE)).click()
    page.wait_for_url(f"{base_url}/admin/")


@pytest.fixture
def admin_page(page: Page, live_server, admin_account) -> Page:
    """A page logged in as a superuser through the login form."""
    log_in(page, live_server.url)
    return page


@pytest.fixture
def url(live_server) -> Callable[[str], str]:
    return lambda path: f"{live_server.url}{path}"
