"""docs/openapi.yaml is valid OpenAPI 3.1, names exactly the URLs served, and real answers match it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from openapi_spec_validator import OpenAPIV31SpecValidator

from core.models import Job
from core.services import api_token_create
from ml.services import model_train
from tests.api.conftest import OpenApiDocument
from tests.factories import (
    ACME_BARS,
    ACME_START,
    make_bars,
    make_symbol,
    price_closes,
    weekdays,
)
from tests.fakes.alphavantage import SAMPLE_KEY, FakeAlphaVantage, FakeResponse

pytestmark = pytest.mark.django_db

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# ACME's last bar (tests/factories.py); the fake serves ACME up to the same day.
ACME_END = weekdays(ACME_BARS, start=ACME_START)[-1]


# --- the document itself -----------------------------------------------------------


def test_the_document_is_valid_openapi_3_1(openapi: OpenApiDocument):
    assert openapi.raw["openapi"].startswith("3.1.")
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in OpenAPIV31SpecValidator(openapi.raw).iter_errors()
    ]
    assert errors == []


def test_every_operation_documents_the_shared_error_shape(openapi: OpenApiDocument):
    """Each 4xx/5xx answer of every operation is the Error schema, as JSON."""
    error_ref = "urn:stockdesk:openapi#/components/schemas/Error"
    for path, item in openapi.paths.items():
        for method in openapi.methods(path):
            for status, response in item[method.lower()]["responses"].items():
                if int(status) < 400 or (path == "/healthz" and status == "503"):
                    continue
                content = openapi.deref(response)["content"]
                assert list(content) == ["application/json"], (method, path, status)
                assert content["application/json"]["schema"] == {"$ref": error_ref}


def test_429_documents_retry_after_and_405_documents_allow(openapi: OpenApiDocument):
    for path, item in openapi.paths.items():
        for method in openapi.methods(path):
            responses = item[method.lower()]["responses"]
            assert "405" in responses, (method, path)
            assert "Allow" in openapi.deref(responses["405"])["headers"]
            if "429" in responses:
                assert "Retry-After" in openapi.deref(responses["429"])["headers"]


# --- the document against the URL map -----------------------------------------------


def _served_patterns(
    patterns: list[URLPattern | URLResolver], prefix: str = ""
) -> Iterator[str]:
    for entry in patterns:
        piece = _as_template(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _served_patterns(entry.url_patterns, prefix + piece)
        else:
            yield prefix + piece


def _as_template(pattern: RoutePattern | RegexPattern) -> str:
    """`jobs/<int:job_id>/` or `^report/(?P<symbol>[^/]*)/?$` as an OpenAPI path."""
    if isinstance(pattern, RoutePattern):
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern))
    template = str(pattern).removeprefix("^").removesuffix("$")
    template = re.sub(r"\(\?P<(\w+)>[^()]*\)", r"{\1}", template)
    # Each view answers with and without the trailing slash; the slash form is named.
    template = template.replace("/?", "/")
    assert not re.search(r"[\\^$()\[\]*+?|]", template), (
        f"cannot read {pattern} as an OpenAPI path; teach _as_template its syntax"
    )
    return template


def test_every_url_served_outside_the_admin_is_documented_and_nothing_else(
    openapi: OpenApiDocument,
):
    served = {
        "/" + template
        for template in _served_patterns(get_resolver().url_patterns)
        if not template.startswith("admin/")
    }
    documented = set(openapi.paths)

    assert served - documented == set(), "served but not in docs/openapi.yaml"
    assert documented - served == set(), "in docs/openapi.yaml but not served"


@pytest.fixture
def served_data(acme, provider_settings, fake_av: FakeAlphaVantage) -> dict[str, str]:
    """Concrete values for each path parameter: ACME has bars and a model, a job exists."""
    fake_av.generate_series("ACME", days=120, end=ACME_END, seed=5)
    job = Job.objects.create(kind=Job.Kind.FETCH, ticker="ACME", symbol=acme)
    return {"symbol": "ACME", "initial_investment": "10000", "job_id": str(job.pk)}


def _url(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: values[match[1]], template)


def test_the_documented_methods_are_served_and_any_other_answers_405_json(
    openapi: OpenApiDocument, token_client: Client, served_data: dict[str, str]
):
    wrong: list[str] = []
    for path in openapi.paths:
        url = _url(path, served_data)
        documented = openapi.methods(path)
        for method in ALL_METHODS:
            response = token_client.generic(method, url)
            if method in documented:
                if response.status_code == 405:
                    wrong.append(f"{method} {url}: 405, but documented")
                continue
            if response.status_code != 405:
                wrong.append(f"{method} {url}: {response.status_code}, not 405")
            elif not response["Content-Type"].startswith("application/json"):
                wrong.append(f"{method} {url}: 405 as {response['Content-Type']}")
            elif method != "HEAD" and set(response.json()) != {"error"}:
                wrong.append(f"{method} {url}: 405 without the error shape")
            elif {
                m.strip() for m in response.get("Allow", "").split(",")
            } != documented:
                wrong.append(f"{method} {url}: Allow {response.get('Allow')!r}")
    assert wrong == []


# --- real answers against the response schemas ---------------------------------------


def test_a_fetch_answers_its_result(openapi, provider_settings, token_client):
    response = token_client.get("/fetch/ibm/")

    body = openapi.check_response(response)
    assert response.status_code == 200
    assert body["symbol"] == "IBM"


def test_a_queued_fetch_answers_202_and_its_job_answers_its_state(
    openapi, provider_settings, token_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client.post("/fetch/IBM/?async=1")

    accepted = openapi.check_response(response)
    assert response.status_code == 202
    assert response["Location"] == accepted["url"] == accepted["job"]["url"]

    job = openapi.check_response(token_client.get(accepted["url"]))
    assert job["status"] == "succeeded"
    assert job["result"]["symbol"] == "IBM"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_backtest_answers_the_stored_run(openapi, acme, token_client, method):
    url = "/backtest/acme/2500.50/?fast=10&slow=30&commission=0.001&include=equity"
    response = token_client.generic(method, url)

    body = openapi.check_response(response)
    assert response.status_code == 200
    assert body["trades"] and len(body["equity"]) == body["data"]["bars"]


def test_a_backtest_without_trades_or_equity_matches_too(openapi, acme, token_client):
    response = token_client.get(
        "/backtest/ACME/100/?fast=300&slow=400&start=2024-01-01"
    )

    body = openapi.check_response(response)
    assert (body["trades"], "equity" in body) == ([], False)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forecast_answers_the_stored_run(openapi, acme, token_client, method):
    model_train(ticker="ACME")
    response = token_client.generic(method, "/predict/ACME/")

    body = openapi.check_response(response)
    assert response.status_code == 200
    assert len(body["predictions"]) == 30


def test_a_report_answers_json_with_both_sections(openapi, acme, token_client):
    model_train(ticker="ACME")
    response = token_client.get("/report/ACME/")

    body = openapi.check_response(response)
    assert response.status_code == 200
    assert body["backtest"]["available"] and body["forecast"]["available"]


def test_a_report_without_backtest_or_forecast_says_so(openapi, token_client):
    short = make_symbol("SHORT", name="Short history")
    make_bars(short, start=ACME_START, closes=price_closes(40, seed=2))

    body = openapi.check_response(token_client.get("/report/SHORT/"))
    assert not body["backtest"]["available"] and not body["forecast"]["available"]


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?format=pdf", {}), ("", {"HTTP_ACCEPT": "application/pdf"})],
    ids=["format", "accept"],
)
def test_a_report_answers_the_pdf(openapi, acme, token_client, query, headers):
    response = token_client.get(f"/report/ACME/{query}", **headers)

    pdf = openapi.check_response(response)
    assert response.status_code == 200
    assert pdf.startswith(b"%PDF-")


@pytest.mark.parametrize(
    "accept", ["text/html", "*/*", "application/pdf;q=0, */*", "application/json"]
)
def test_a_report_for_any_other_accept_is_json(openapi, acme, token_client, accept):
    response = token_client.get("/report/ACME/", HTTP_ACCEPT=accept)

    openapi.check_response(response)
    assert response["Content-Type"] == "application/json"


def test_the_health_check_answers(openapi, client):
    body = openapi.check_response(client.get("/healthz"))
    assert body == {"status": "ok", "database": "ok"}


# --- errors: each documented status, answered for real --------------------------------


def _provider_rate_limit(fake: FakeAlphaVantage, settings: Any) -> None:
    body = "information_rate_limit_daily_key_echo.json"
    fake.script(FakeResponse.sample(body, **{SAMPLE_KEY: "X"}))


def _malformed_answer(fake: FakeAlphaVantage, settings: Any) -> None:
    fake.script(FakeResponse.malformed_json())


def _demo_key(fake: FakeAlphaVantage, settings: Any) -> None:
    settings.ALPHA_VANTAGE_API_KEY = "demo"


def _no_calls_left(fake: FakeAlphaVantage, settings: Any) -> None:
    settings.ALPHA_VANTAGE_DAILY_LIMIT = 0


def _slow_provider(fake: FakeAlphaVantage, settings: Any) -> None:
    settings.FETCH_SYNC_DEADLINE = 0.5
    fake.script(FakeResponse.slow(3.0))


def _no_render_slots(fake: FakeAlphaVantage, settings: Any) -> None:
    settings.REPORT_PDF_MAX_RENDERS = settings.REPORT_PDF_MAX_WAITING = 0


# id: (request, status, code); ACME has bars and no model, the fake knows IBM.
ERROR_CASES: dict[str, tuple[str, int, str]] = {
    "bad-symbol": ("GET /fetch/$$/", 400, "invalid_symbol"),
    "long-symbol": ("GET /predict/ABCDEFGHIJK/", 400, "invalid_symbol"),
    "bad-async": ("GET /fetch/IBM/?async=maybe", 400, "invalid_parameter"),
    "bad-amount": ("GET /backtest/ACME/1e5/", 400, "invalid_parameter"),
    "bad-window": ("GET /backtest/ACME/100/?fast=x", 400, "invalid_parameter"),
    "windows-swapped": ("GET /backtest/ACME/1/?fast=60&slow=50", 400, "invalid_parameter"),
    "bad-commission": ("GET /backtest/ACME/1/?commission=1e-3", 400, "invalid_parameter"),
    "bad-date": ("GET /backtest/ACME/100/?start=June", 400, "invalid_parameter"),
    "bad-format": ("GET /report/ACME/?format=xml", 400, "invalid_parameter"),
    "unknown-symbol": ("GET /backtest/ZZZ/100/", 404, "unknown_symbol"),
    "no-bars-in-range": ("GET /backtest/ACME/1/?start=2030-01-01", 404, "no_data"),
    "provider-unknown": ("GET /fetch/NOPE/", 404, "unknown_symbol"),
    "unknown-job": ("GET /jobs/999999/", 404, "unknown_job"),
    "report-post": ("POST /report/ACME/", 405, "method_not_allowed"),
    "no-model": ("GET /predict/ACME/", 409, "no_active_model"),
    "short-range": ("GET /backtest/ACME/1/?start=2025-01-01&end=2025-03-01", 422, "not_enough_data"),
    "provider-limit": ("GET /fetch/IBM/", 429, "rate_limited"),
    "own-budget": ("GET /fetch/IBM/", 429, "daily_budget_exhausted"),
    "malformed": ("POST /fetch/IBM/", 502, "provider_bad_response"),
    "demo-key": ("GET /fetch/IBM/", 503, "provider_configuration"),
    "renderer-busy": ("GET /report/ACME/?format=pdf", 503, "renderer_busy"),
    "provider-timeout": ("GET /fetch/IBM/", 504, "provider_timeout"),
}  # fmt: skip
SETUPS: dict[str, Callable[[FakeAlphaVantage, Any], None]] = {
    "provider-limit": _provider_rate_limit,
    "own-budget": _no_calls_left,
    "malformed": _malformed_answer,
    "demo-key": _demo_key,
    "renderer-busy": _no_render_slots,
    "provider-timeout": _slow_provider,
}


@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_answer_the_documented_status_and_shape(
    openapi, acme, provider_settings, fake_av, token_client, case
):
    request, status, code = ERROR_CASES[case]
    method, url = request.split(" ")
    SETUPS.get(case, lambda fake, settings: None)(fake_av, provider_settings)
    response = token_client.generic(method, url)

    body = openapi.check_response(response)
    assert (response.status_code, body["error"]["code"]) == (status, code)


@pytest.mark.parametrize(
    "request_line",
    [
        "GET /fetch/IBM/",
        "POST /backtest/ACME/100/",
        "GET /predict/ACME/",
        "GET /report/ACME/",
        "GET /jobs/1/",
    ],
)
def test_anonymous_callers_and_unknown_tokens_get_401(openapi, acme, request_line):
    method, url = request_line.split(" ")
    for client in (Client(), Client(HTTP_AUTHORIZATION="Bearer not-a-token")):
        response = client.generic(method, url)

        body = openapi.check_response(response)
        assert body["error"]["code"] == "unauthorized"


def test_a_caller_over_its_own_rate_gets_429_with_retry_after(
    openapi, acme, settings, token_client
):
    settings.RATELIMIT_WORK = "1/m"
    token_client.get("/backtest/ACME/100/")
    response = token_client.get("/backtest/ACME/100/")

    body = openapi.check_response(response)
    assert body["error"]["code"] == "rate_limited"


def test_a_token_whose_user_may_not_do_the_work_gets_403(
    openapi, acme, django_user_model
):
    reader = django_user_model.objects.create_user(username="reader", password="x")
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=reader, name='t').raw_key}"
    )
    response = client.get("/backtest/ACME/100/")

    body = openapi.check_response(response)
    assert body["error"]["code"] == "forbidden"


def test_a_session_must_post_a_fetch_with_csrf(
    openapi, staff_client, provider_settings
):
    by_get = staff_client.get("/fetch/IBM/")
    assert openapi.check_response(by_get)["error"]["code"] == ("method_not_allowed")
    assert by_get["Allow"] == "POST"

    without_csrf = staff_client.post("/fetch/IBM/")
    assert openapi.check_response(without_csrf)["error"]["code"] == ("csrf_failed")


def test_a_url_that_serves_nothing_answers_the_error_shape(openapi, token_client):
    response = token_client.get("/nothing/here/")

    assert response.status_code == 404
    error_schema = {"$ref": "urn:stockdesk:openapi#/components/schemas/Error"}
    openapi.validator(error_schema).validate(response.json())
