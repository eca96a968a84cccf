"""Outside the admin, even Django's own error paths answer the JSON error shape."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from core import views


def test_a_request_for_an_unknown_host_gets_a_json_400():
    response = Client(HTTP_HOST="evil.example").get("/healthz")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


def test_the_500_handler_answers_json_without_details():
    response = views.handler_500(RequestFactory().get("/fetch/IBM/"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.content == (
        b'{"error": {"code": "internal_error", "message": "Something went wrong on '
        b'our side; it is logged.", "details": {}}}'
    )


@pytest.mark.django_db
def test_the_admin_keeps_its_html_404(admin_client):
    response = admin_client.get("/admin/core/symbol/999999/change/", follow=True)
    assert (
        response.status_code == 200
    )  # the admin redirects to its index with a message
    assert "text/html" in response["Content-Type"]
