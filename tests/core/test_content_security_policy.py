"""Every page answers with a Content-Security-Policy: the admin's, or one allowing nothing."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from tests.factories import make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

NOTHING = "default-src 'none'"


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in parts}


def assert_admin_policy(response) -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    # No inline script: what runs is unfold's and Django's files (Alpine needs eval).
    assert policy["script-src"] == ["'self'", "'unsafe-eval'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]


def assert_allows_nothing(response) -> None:
    policy = directives(response)
    assert policy == {
        "default-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'none'"],
    }


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/core/symbol/",
        "/admin/core/pricebar/import/",
        "/admin/core/symbol/999999/change/",
    ],
)
def test_admin_pages_get_the_admin_policy(admin_client, path):
    response = admin_client.get(path, follow=True)
    assert response.status_code == 200
    assert_admin_policy(response)


def test_the_login_page_and_the_admin_404_get_the_admin_policy(admin_client):
    assert_admin_policy(Client().get("/admin/login/"))
    missing = admin_client.get("/admin/nothing-here/")
    assert missing.status_code == 404
    assert_admin_policy(missing)


def test_json_endpoints_allow_nothing(token_client):
    symbol = make_symbol("WAVE")
    make_bars(symbol, start=date(2023, 1, 2), closes=price_closes(300, wave=20))
    for path in ("/backtest/WAVE/10000/?fast=20&slow=50", "/report/WAVE/", "/healthz"):
        response = token_client.get(path)
        assert response.status_code == 200, path
        assert_allows_nothing(response)
    pdf = token_client.get("/report/WAVE/?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert_allows_nothing(pdf)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/no/such/page/", 404), ("/backtest/WAVE/10000/", 401), ("/jobs/1/", 401)],
)
def test_json_error_pages_allow_nothing(path, status):
    response = Client().get(path)
    assert response.status_code == status
    assert response.json()["error"]
    assert_allows_nothing(response)


def test_a_refused_csrf_check_allows_nothing(staff_client):
    response = staff_client.post("/fetch/WAVE/")
    assert response.status_code == 403
    assert_allows_nothing(response)


def test_the_policy_is_the_only_one_and_not_report_only(admin_client):
    response = admin_client.get("/admin/")
    assert "Content-Security-Policy-Report-Only" not in response
    assert NOTHING not in response["Content-Security-Policy"]
