"""What each role may do through the endpoints: sessions and tokens (DESIGN §11)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group, User
from django.http import HttpResponse
from django.test import Client

from backtesting.models import BacktestRun
from core.models import Job, PriceBar
from core.services import api_token_create, job_enqueue
from ml.models import PredictionRun, TrainedModel
from ml.services import model_train
from reporting.models import Report

pytestmark = pytest.mark.django_db


@dataclass
class Caller:
    """Someone calling the endpoints, the way they would: a browser session posts
    to /fetch/ with its CSRF token and opens the rest as links; a token GETs."""

    client: Client
    csrf_token: str | None = None

    def work(self, path: str) -> HttpResponse:
        if self.csrf_token is not None and path.startswith("/fetch/"):
            return self.client.post(path, HTTP_X_CSRFTOKEN=self.csrf_token)
        return self.client.get(path)


def session_of(user: User) -> Caller:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/admin/")  # sets the CSRF cookie, as any admin page load does
    return Caller(client, csrf_token=client.cookies["csrftoken"].value)


def token_of(user: User) -> Caller:
    key = api_token_create(user=user, name="tests").raw_key
    return Caller(Client(HTTP_AUTHORIZATION=f"Bearer {key}"))


def member_of(group: str | None, *, username: str, is_staff: bool = True) -> User:
    user = User.objects.create_user(username=username, is_staff=is_staff)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


CALLERS: dict[str, Callable[[User], Caller]] = {
    "superuser session": lambda analyst: session_of(
        User.objects.create_superuser(username="root", password="root-pass-123")
    ),
    "Analyst session": session_of,
    "Viewer session": lambda analyst: session_of(member_of("Viewer", username="v")),
    "staff session without a role": lambda analyst: session_of(
        member_of(None, username="bare")
    ),
    "Analyst token": token_of,
    "Viewer token": lambda analyst: token_of(member_of("Viewer", username="v")),
    # In the Analyst group and still refused: work needs staff status too.
    "non-staff token": lambda analyst: token_of(
        member_of("Analyst", username="robot", is_staff=False)
    ),
}
MAY_WORK = {"superuser session", "Analyst session", "Analyst token"}

# path, the permission it needs, the status of a success
ENDPOINTS = {
    "fetch": ("/fetch/IBM/", "core.run_fetch", 200),
    "queued fetch": ("/fetch/IBM/?async=1", "core.run_fetch", 202),
    "backtest": ("/backtest/ACME/10000/", "backtesting.run_backtest", 200),
    "predict": ("/predict/ACME/", "ml.run_forecast", 200),
    "report": ("/report/ACME/", "reporting.generate_report", 200),
}


def stored() -> dict[str, int]:
    """What work leaves behind, counted."""
    models = [Job, PriceBar, BacktestRun, PredictionRun, Report, TrainedModel]
    return {model.__name__: model.objects.count() for model in models}


def assert_error(response: HttpResponse, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code and error["message"]
    return error


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("who", CALLERS)
def test_only_superusers_and_analysts_may_start_work(
    who, endpoint, staff_user, acme, provider_settings, fake_av
):
    path, permission, success = ENDPOINTS[endpoint]
    provider_settings.ALPHA_VANTAGE_PLAN = "free"  # one call per fetch
    if endpoint in ("predict", "report"):
        model_train(ticker="ACME")
    caller = CALLERS[who](staff_user)
    before = stored()

    response = caller.work(path)

    if who in MAY_WORK:
        assert response.status_code == success, response.content
        assert stored() != before
        assert len(fake_av.price_requests) == (1 if endpoint == "fetch" else 0)
    else:
        error = assert_error(response, 403, "forbidden")
        assert error["details"] == {"permission": permission}
        assert permission in error["message"]
        assert stored() == before
        assert fake_av.requests == []


def test_an_inactive_owners_token_is_refused(staff_user, provider_settings, fake_av):
    caller = token_of(staff_user)
    staff_user.is_active = False
    staff_user.save()
    assert_error(caller.work("/fetch/IBM/"), 401, "unauthorized")
    assert fake_av.requests == []


# --- /jobs/<id>/: who sees which job ---------------------------------------------


@pytest.fixture
def analysts_job(staff_user) -> Job:
    return job_enqueue(kind=Job.Kind.FETCH, symbol="IBM", user=staff_user)


@pytest.mark.parametrize(
    "who",
    [
        "Analyst token",
        "Viewer token",
        "Viewer session",
        "staff session without a role",
        "superuser session",
    ],
)
def test_staff_read_anyones_jobs(who, staff_user, analysts_job):
    other = User.objects.create_user(username="other", is_staff=True)
    someone_elses = job_enqueue(kind=Job.Kind.BACKTEST, symbol="IBM", user=other)
    caller = CALLERS[who](staff_user)

    for job in (analysts_job, someone_elses):
        response = caller.client.get(f"/jobs/{job.pk}/")
        assert response.status_code == 200
        assert response.json()["id"] == job.pk
        assert response.json()["status"] == "queued"


def test_a_non_staff_token_reads_its_owners_jobs_only(staff_user, analysts_job):
    robot = member_of("Analyst", username="robot", is_staff=False)
    own = job_enqueue(kind=Job.Kind.BACKTEST, symbol="IBM", user=robot)
    caller = token_of(robot)

    response = caller.client.get(f"/jobs/{own.pk}/")
    assert response.status_code == 200
    assert response.json()["id"] == own.pk

    hidden = caller.client.get(f"/jobs/{analysts_job.pk}/")
    missing = caller.client.get("/jobs/999999/")
    assert assert_error(hidden, 404, "unknown_job")["message"] == (
        f"There is no job {analysts_job.pk}."
    )
    assert_error(missing, 404, "unknown_job")


# --- methods: anything an endpoint does not list is a JSON 405 with Allow ------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("HEAD", "/fetch/IBM/", "GET, POST"),
        ("OPTIONS", "/fetch/IBM/", "GET, POST"),
        ("HEAD", "/backtest/ACME/10000/", "GET, POST"),
        ("OPTIONS", "/predict/ACME/", "GET, POST"),
        ("PUT", "/report/ACME/", "GET"),
        ("HEAD", "/jobs/1/", "GET"),
        ("OPTIONS", "/jobs/1/", "GET"),
    ],
)
def test_unlisted_methods_get_405_json_with_allow_and_do_nothing(
    method, path, allow, staff_user, acme, provider_settings, fake_av
):
    caller = token_of(staff_user)
    before = stored()

    response = caller.client.generic(method, path)

    assert response.status_code == 405
    assert response["Allow"] == allow
    assert response["Content-Type"] == "application/json"
    if method == "HEAD":
        assert response.content == b""  # a HEAD answer has no body
    else:
        assert_error(response, 405, "method_not_allowed")
    assert stored() == before
    assert fake_av.requests == []


def test_a_session_is_told_to_post_to_fetch(staff_user, provider_settings, fake_av):
    response = session_of(staff_user).client.options("/fetch/IBM/")
    assert_error(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"
    assert fake_av.requests == []


def test_unlisted_methods_need_credentials_first():
    assert_error(Client().options("/fetch/IBM/"), 401, "unauthorized")


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "POST", "DELETE"])
def test_healthz_refuses_other_methods_as_json(method):
    response = Client().generic(method, "/healthz")

    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response["Content-Type"] == "application/json"
    if method != "HEAD":
        assert_error(response, 405, "method_not_allowed")
