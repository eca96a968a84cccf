"""Admin fixtures: staff in each role (DESIGN §11), and a way to confirm a dialog."""

from __future__ import annotations

import re
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, User
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpResponse
from django.test import Client

ROLE_PASSWORD = "role-pass-4821"
# The Run backtest form (bulk action and the symbol page's dialog), filled in.
BACKTEST_FORM = {
    "initial_investment": "5000",
    "fast": "10",
    "slow": "30",
    "commission": "0",
}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def role_user(username: str, role: str, **extra: Any) -> User:
    """A staff member in the Viewer or Analyst group that admin_ui's migration makes."""
    if not Group.objects.filter(name=role).exists():
        # A transactional test before this one emptied the database, groups too.
        import_module("admin_ui.migrations.0003_research_roles").roles_sync(
            django_apps, using=DEFAULT_DB_ALIAS
        )
    user = User.objects.create_user(
        username=username, password=ROLE_PASSWORD, is_staff=True, **extra
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def logged_in(user: User) -> Client:
    """A browser-like client: it must send the CSRF token a page gave it."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def viewer(db) -> User:
    return role_user("desk-viewer", "Viewer")


@pytest.fixture
def analyst(db) -> User:
    return role_user("desk-analyst", "Analyst")


@pytest.fixture
def viewer_client(viewer) -> Client:
    return logged_in(viewer)


@pytest.fixture
def analyst_client(analyst) -> Client:
    return logged_in(analyst)


@pytest.fixture
def superuser_client(admin_user) -> Client:
    return logged_in(admin_user)


def csrf_token(page: HttpResponse) -> str:
    match = CSRF_INPUT.search(page.content.decode())
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def confirm_dialog(
    client: Client, url: str, data: dict[str, str] | None = None
) -> tuple[HttpResponse, HttpResponse]:
    """Open a button's dialog (GET) and submit its form as htmx does (POST).

    Returns both answers: the dialog, and the answer to the confirmation.
    """
    dialog = client.get(url)
    assert dialog.status_code == 200, dialog.status_code
    done = client.post(
        url,
        {
            "csrfmiddlewaretoken": csrf_token(dialog),
            "_form_submitted": "True",
            **(data or {}),
        },
        HTTP_HX_REQUEST="true",
    )
    return dialog, done


def post_action(
    client: Client, changelist_url: str, action: str, ids: list[Any], **extra: Any
) -> HttpResponse:
    """Post a bulk action from the list page, with the token the list page gave."""
    page = client.get(changelist_url)
    return client.post(
        changelist_url,
        {
            "csrfmiddlewaretoken": csrf_token(page),
            "action": action,
            "index": "0",
            "_selected_action": [str(pk) for pk in ids],
            **extra,
        },
    )
