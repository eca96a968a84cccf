"""Any text in any path part or query parameter of /backtest/ and /fetch/: never a 500,
always the JSON error shape, and anything not ASCII is a 400 (when the URL routes)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text that looks like what the parameters take, so ASCII near-misses and
# look-alikes come up as often as random Unicode.
LOOK_ALIKES = st.sampled_from(
    ["\u0131bm", "\u017f", "\u0661\u0662", "\uff11", "\u00a0", "\u0430", "1e-3", "NaN"]
)
# A range with no bars: valid input then stops at "no data" instead of running a
# backtest, and the examples stay about validation.
NO_BARS = {"fast": "5", "slow": "20", "start": "1990-01-01", "end": "1990-01-31"}
TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("0123456789.-eE+ ACMEibm")),
    st.lists(st.one_of(LOOK_ALIKES, st.text(max_size=3)), max_size=4).map("".join),
)


@pytest.fixture(autouse=True)
def no_rate_limit(settings):
    """Hundreds of calls from one token in a test: the per-user limit is not the subject."""
    settings.RATELIMIT_ENABLE = False
    settings.RATELIMIT_WORK = "100000/m"


def routes(path: str) -> bool:
    try:
        resolve(path)
    except Resolver404:
        return False
    return True


def check(response, text: str, path_info: str) -> None:
    assert response.status_code < 500, response.content
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) <= {"error"} or response.status_code in (200, 202)
    if not text.isascii():
        expected = 400 if routes(path_info) else 404
        assert response.status_code == expected, (text, response.content)
        if expected == 400:
            assert response.json()["error"]["code"] in (
                "invalid_symbol",
                "invalid_parameter",
            )


@given(text=TEXT, where=st.sampled_from(["symbol", "investment"]))
@example(text="\u0131bm", where="symbol")  # upper() makes it IBM
@example(text="acme\u00a0", where="symbol")  # strip() drops the space
@example(text="\u0661\u0660\u0660\u0660\u0660", where="investment")
@example(text="10000\u3000", where="investment")
@EXAMPLES
def test_backtest_path_parts(token_client, acme, text, where):
    symbol, investment = ("ACME", "10000")
    if where == "symbol":
        symbol = text
    else:
        investment = text
    path_info = f"/backtest/{symbol}/{investment}/"
    url = f"/backtest/{quote(symbol, safe='')}/{quote(investment, safe='')}/"

    check(token_client.get(url, NO_BARS), text, path_info)


@given(
    text=TEXT,
    name=st.sampled_from(["fast", "slow", "start", "end", "commission"]),
)
@example(text="\u0665", name="fast")  # int() reads it as 5
@example(text="\uff13\uff10", name="slow")
@example(text="30\u00a0", name="slow")
@example(text="0.0\u0661", name="commission")
@example(text="1990-01-0\u0662", name="start")
@EXAMPLES
def test_backtest_query_parameters(token_client, acme, text, name):
    query = {**NO_BARS, name: text}
    response = token_client.get("/backtest/ACME/10000/", query)
    check(response, text, "/backtest/ACME/10000/")


@given(text=TEXT)
@example(text="\u0131bm")
@example(text="\uff29\uff22\uff2d")
@EXAMPLES
def test_fetch_symbol(token_client, provider_settings, text):
    path_info = f"/fetch/{text}/"
    check(token_client.get(f"/fetch/{quote(text, safe='')}/"), text, path_info)


@given(text=TEXT)
@example(text="1\u00a0")  # strip() would make it "1"
@example(text="\uff11")
@EXAMPLES
def test_fetch_async_flag(token_client, provider_settings, text):
    response = token_client.get("/fetch/IBM/", {"async": text})
    check(response, text, "/fetch/IBM/")
