"""/fetch/<symbol>/ as a program and as staff see it: auth, validation, errors, jobs."""

from __future__ import annotations

import pytest
from django.test import Client

from core.models import Job, PriceBar, Symbol
from core.services import api_token_create, api_token_revoke
from tests.fakes.alphavantage import FakeResponse

pytestmark = pytest.mark.django_db


def assert_error_shape(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def test_a_token_holder_fetches_with_get(provider_settings, token_client):
    response = token_client.get("/fetch/IBM/")

    assert response.status_code == 200
    body = response.json()
    assert body["symbol"] == "IBM"
    assert body["source"] == "alpha_vantage"
    assert (body["received"], body["inserted"], body["updated"]) == (5, 5, 0)
    assert (body["first_date"], body["last_date"]) == ("2024-06-03", "2024-06-07")
    assert PriceBar.objects.filter(symbol__ticker="IBM").count() == 5


def test_lower_case_symbols_are_normalised(provider_settings, token_client):
    response = token_client.get("/fetch/ibm/")
    assert response.status_code == 200
    assert response.json()["symbol"] == "IBM"
    assert Symbol.objects.filter(ticker="IBM").exists()


def test_anonymous_callers_get_401_json():
    response = Client().get("/fetch/IBM/")
    assert_error_shape(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", ["Bearer nope", "Token abc", "Bearer "])
def test_bad_credentials_get_401(header, provider_settings, fake_av):
    response = Client(HTTP_AUTHORIZATION=header).get("/fetch/IBM/")
    assert_error_shape(response, 401, "unauthorized")
    assert fake_av.requests == []


def test_a_revoked_token_is_refused(staff_user, provider_settings, fake_av):
    new = api_token_create(user=staff_user, name="old")
    api_token_revoke(token=new.token)
    response = Client(HTTP_AUTHORIZATION=f"Bearer {new.raw_key}").get("/fetch/IBM/")
    assert_error_shape(response, 401)
    assert fake_av.requests == []


def test_staff_sessions_must_post_with_csrf(provider_settings, staff_client, fake_av):
    assert_error_shape(staff_client.get("/fetch/IBM/"), 405, "method_not_allowed")
    assert_error_shape(staff_client.post("/fetch/IBM/"), 403, "csrf_failed")
    assert fake_av.requests == []

    staff_client.get("/admin/")  # sets the CSRF cookie, as any admin page load does
    token = staff_client.cookies["csrftoken"].value
    response = staff_client.post("/fetch/IBM/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 200
    assert response.json()["inserted"] == 5


def test_a_non_staff_session_is_refused(django_user_model, provider_settings, fake_av):
    user = django_user_model.objects.create_user(
        username="visitor", password="x-pass-123"
    )
    client = Client()
    client.force_login(user)
    assert_error_shape(client.post("/fetch/IBM/"), 401)
    assert fake_av.requests == []


@pytest.mark.parametrize(
    "path",
    [
        "/fetch/AAPL;DROP/",
        "/fetch/../x/",
        "/fetch/%2E%2E%2Fx/",
        "/fetch/ABCDEFGHIJKL/",
        "/fetch//",
        "/fetch/A B/",
        "/fetch/%00/",
    ],
)
def test_invalid_symbols_get_400_and_touch_nothing(
    path, provider_settings, token_client, fake_av
):
    error = assert_error_shape(token_client.get(path), 400, "invalid_symbol")
    assert "symbol" in error["message"]
    assert fake_av.requests == []
    assert not Symbol.objects.exists()


def test_a_bad_async_flag_is_a_400(provider_settings, token_client):
    assert_error_shape(
        token_client.get("/fetch/IBM/?async=maybe"), 400, "invalid_parameter"
    )


PROVIDER_ERRORS = [
    ("error_invalid_symbol.json", 404, "unknown_symbol"),
    ("information_rate_limit_daily.json", 429, "rate_limited"),
    ("information_rate_limit_daily_key_echo.json", 429, "rate_limited"),
    ("information_burst_limit.json", 429, "rate_limited"),
    ("note_rate_limit_legacy.json", 429, "rate_limited"),
    ("error_invalid_apikey.json", 503, "provider_configuration"),
    ("information_demo_key.json", 503, "provider_configuration"),
    ("empty_object.json", 404, "no_data"),
]


@pytest.mark.parametrize(("sample", "status", "code"), PROVIDER_ERRORS)
def test_provider_errors_map_to_statuses(
    sample, status, code, provider_settings, token_client, av_key, fake_av
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(FakeResponse.sample(sample))

    response = token_client.get("/fetch/IBM/")

    assert_error_shape(response, status, code)
    if status == 429:
        assert int(response["Retry-After"]) > 0
    assert av_key not in response.content.decode()
    assert not PriceBar.objects.exists()


def test_provider_outage_is_a_503_after_retries(
    provider_settings, token_client, fake_av
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(
        *[FakeResponse(status=500, body="<h1>Error</h1>", content_type="text/html")] * 3
    )
    assert_error_shape(token_client.get("/fetch/IBM/"), 503, "provider_unavailable")
    assert len(fake_av.requests) == 3


def test_malformed_provider_answer_is_a_502(provider_settings, token_client, fake_av):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(FakeResponse(body='{"Time Series (Daily)": {'))
    assert_error_shape(token_client.get("/fetch/IBM/"), 502, "provider_bad_response")


def test_async_fetch_answers_202_with_the_job_url(
    provider_settings, token_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = token_client.get("/fetch/IBM/?async=1")

    assert response.status_code == 202
    body = response.json()
    job = Job.objects.get()
    assert body["url"] == f"/jobs/{job.pk}/" == response["Location"]
    assert job.kind == Job.Kind.FETCH and job.ticker == "IBM"
    # The test settings run Django-Q2 in sync mode, so the job is already done.
    state = token_client.get(body["url"]).json()
    assert state["status"] == "succeeded"
    assert state["result"]["inserted"] == 5
    assert PriceBar.objects.filter(symbol__ticker="IBM").count() == 5


def test_async_fetch_that_fails_ends_failed_with_a_message(
    provider_settings, token_client, fake_av, av_key, django_capture_on_commit_callbacks
):
    provider_settings.ALPHA_VANTAGE_PLAN = "free"
    fake_av.script(FakeResponse.sample("information_rate_limit_daily_key_echo.json"))

    with django_capture_on_commit_callbacks(execute=True):
        url = token_client.get("/fetch/ZZZZ/?async=1").json()["url"]

    state = token_client.get(url).json()
    assert state["status"] == "failed"
    assert state["error"]["code"] == "rate_limited"
    assert "25 requests per day" in state["error"]["message"]
    job = Job.objects.get()
    assert av_key not in job.error
    assert not Symbol.objects.filter(ticker="ZZZZ").exists()


def test_unknown_job_is_a_404_json(token_client):
    assert_error_shape(token_client.get("/jobs/999999/"), 404, "unknown_job")


def test_unknown_paths_answer_json_404(token_client):
    assert_error_shape(token_client.get("/nothing/here/"), 404, "not_found")
    assert_error_shape(Client().get("/backtest"), 404, "not_found")


def test_an_unexpected_error_is_a_json_500_without_traceback(
    provider_settings, token_client, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("secret internals /srv/app/file.py line 3")

    monkeypatch.setattr("ingestion.views.prices_fetch", broken)
    response = token_client.get("/fetch/IBM/")
    assert_error_shape(response, 500, "internal_error")
    assert b"Traceback" not in response.content
    assert b"secret internals" not in response.content


def test_healthz_reports_the_database():
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
