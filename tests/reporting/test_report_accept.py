"""/report/ picks JSON or PDF from ?format= or Accept, with q-values honoured."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.errors import InvalidInput
from reporting.views import _wants_pdf

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def wants_pdf(accept: str | None = None, query: str = "") -> bool:
    headers = {} if accept is None else {"accept": accept}
    return _wants_pdf(RequestFactory().get(f"/report/ACME/{query}", headers=headers))


@pytest.mark.parametrize(
    "accept",
    [
        "application/pdf",
        "application/pdf;q=0.5",
        "application/json;q=0.5, application/pdf",
        "application/pdf, application/json",
        "application/*;q=0.1, application/pdf;q=0.9, application/json;q=0.2",
        "text/html;q=0.9, application/pdf",
    ],
)
def test_accept_that_prefers_the_pdf_gets_it(accept):
    assert wants_pdf(accept)


@pytest.mark.parametrize(
    "accept",
    [
        None,
        "",
        "*/*",
        BROWSER,
        "application/json",
        "application/*",
        "application/pdf;q=0",
        "application/pdf;q=0.0, */*",
        "application/pdf;q=0, application/*",
        "*/*, application/pdf;q=0",
        # */* ranks the PDF above the explicit JSON, but q=0 on the PDF itself wins.
        "application/pdf;q=0, application/json;q=0.1, */*",
        "application/*;q=0, application/json;q=0.5, */*",
        "application/json, application/pdf",
        "application/json;q=0.9, application/pdf;q=0.5",
        "application/pdf;q=0.5, */*",
        "application/json;q=0",
        "text/html",
        "nonsense",
    ],
)
def test_everything_else_gets_json(accept):
    assert not wants_pdf(accept)


def test_the_format_parameter_overrides_accept():
    assert wants_pdf("application/pdf;q=0", "?format=pdf")
    assert not wants_pdf("application/pdf", "?format=json")


@pytest.mark.parametrize(
    "value", ["xml", "p\u0434f", "\uff50\uff44\uff46", "pdf\u00a0"]
)
def test_an_unknown_or_non_ascii_format_is_a_400(value):
    with pytest.raises(InvalidInput) as info:
        wants_pdf(query=f"?format={value}")
    assert info.value.details == {"parameter": "format"}


@pytest.mark.django_db
def test_a_client_that_refuses_pdf_gets_the_json_report(token_client, acme):
    response = token_client.get(
        "/report/ACME/", headers={"accept": "application/pdf;q=0, */*"}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["symbol"] == "ACME"
