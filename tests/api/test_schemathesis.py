"""Schemathesis fuzzes a live server from docs/openapi.yaml: no 5xx, every answer as documented.

The server is pytest-django's live server (a real HTTP server in this process) on the
test database, with ACME's bars and a trained model, a Bearer token on every request
and the provider pointed at the fake Alpha Vantage on loopback. Generation is
deterministic (an explicit seed, derandomised, no example database) and bounded per
operation, so every run sends the same ~350 requests. The per-user rate limit and the
provider's daily budget are lifted: they would turn most answers into 429s, and
test_openapi_contract checks those answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from backtesting.params import BacktestParams
from core.models import Job
from ml.services import model_train
from tests.api.conftest import OPENAPI_PATH
from tests.factories import ACME_BARS, ACME_START, weekdays

pytestmark = [
    pytest.mark.fuzz,
    pytest.mark.django_db(transaction=True),
]

# Generated requests per operation (valid and invalid input together) in the fuzzing
# phase; with the examples and coverage phases some 350 requests in all.
MAX_EXAMPLES = 30
# The bound in time: each request; Hypothesis' own deadline (per example) is left off,
# since on a busy two-core CI machine a PDF report can take seconds and would flake.
REQUEST_TIMEOUT_SECONDS = 20
# An explicit seed (and no schemathesis.toml discovery) for the same cases every run.
SEED = 20_240_101
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    unsupported_method,
]


# POST runs the same view with the same parameters as GET (test_openapi_contract
# calls each documented POST); fuzzing it too would double the time for nothing new.
# The coverage phase still sends each path the methods it does not list (PUT,
# DELETE, TRACE, ...), which must answer 405 (unsupported_method).
schema = schemathesis.openapi.from_path(
    OPENAPI_PATH, config=schemathesis.Config(seed=SEED)
).include(method="GET")
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
    # The fixture's token is the credential; generated ones would only be 401s.
    with_security_parameters=False,
)


# Random tickers and ids almost never exist, random dates almost never fall in ACME's
# two years and random windows are out of order half the time: without this nearly
# every backtest, forecast and report would be a 400 or 404 that never reaches the
# work. The fixture adds the id of the job it makes.
KNOWN_PATH_VALUES: dict[str, Any] = {"symbol": "ACME", "initial_investment": "10000"}


def _runnable_backtest_query(query: dict[str, Any]) -> dict[str, Any]:
    """The query on all stored bars (no start/end), with fast < slow if both are ints."""
    runnable = {
        key: value for key, value in query.items() if key not in ("start", "end")
    }
    fast = runnable.get("fast", BacktestParams.DEFAULT_FAST)
    slow = runnable.get("slow", BacktestParams.DEFAULT_SLOW)
    if isinstance(fast, int) and isinstance(slow, int) and fast >= slow:
        low, high = sorted((fast, slow))
        if low == high:
            low, high = (
                (low - 1, high) if low > BacktestParams.MIN_WINDOW else (low, high + 1)
            )
        runnable["fast"], runnable["slow"] = low, high
    return runnable


@schema.hook
def flatmap_case(
    context: schemathesis.HookContext, case: schemathesis.Case
) -> st.SearchStrategy[schemathesis.Case]:
    """Each generated case, or (as often) the same one aimed at the stored data."""
    if not case.path_parameters:  # /healthz
        return st.just(case)
    query = case.query
    if case.path.startswith("/backtest/") and isinstance(query, dict):
        query = _runnable_backtest_query(query)
    aimed = case.derive(query=query)
    aimed.path_parameters = {
        name: KNOWN_PATH_VALUES.get(name, value)
        for name, value in case.path_parameters.items()
    }
    return st.sampled_from([case, aimed])


@dataclass(frozen=True)
class LiveApi:
    base_url: str
    headers: dict[str, str]


@pytest.fixture
def live_api(
    live_server, settings, acme, api_key, provider_settings, fake_av
) -> LiveApi:
    """The live server with data behind it: ACME's bars and model, a job, the fake."""
    model_train(ticker="ACME")
    fake_av.generate_series(
        "ACME", days=120, end=weekdays(ACME_BARS, start=ACME_START)[-1], seed=5
    )
    # Every generated request is a call and random tickers each cost a provider call;
    # neither limit is what is tested here (tests/api/test_openapi_contract.py is).
    settings.RATELIMIT_WORK = "100000/m"
    settings.ALPHA_VANTAGE_DAILY_LIMIT = 1_000_000
    job = Job.objects.create(kind=Job.Kind.FETCH, ticker="ACME", symbol=acme)
    KNOWN_PATH_VALUES["job_id"] = job.pk
    return LiveApi(
        base_url=live_server.url, headers={"Authorization": f"Bearer {api_key}"}
    )


@schema.parametrize()
# The data is set up once per operation and meant to be shared by its examples.
@hypothesis.settings(
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
def test_the_live_server_answers_every_generated_request_as_documented(
    case: schemathesis.Case, live_api: LiveApi
):
    case.call_and_validate(
        base_url=live_api.base_url,
        headers=live_api.headers,
        checks=CHECKS,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
