"""Answers on adjusted prices, with actions applied and warnings, match docs/openapi.yaml."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ml.services import model_train
from tests.split_series import SPLIT_DAY, record_action, split_symbol

pytestmark = pytest.mark.django_db


@pytest.fixture
def split_with_dividend():
    symbol = split_symbol()
    ex_date = SPLIT_DAY + timedelta(days=28)
    record_action(symbol, kind="dividend", day=ex_date, dividend_amount=Decimal("0.8"))
    model_train(ticker="SPLT")
    return symbol


@pytest.mark.parametrize(
    "url",
    [
        "/backtest/SPLT/10000/?adjust=total",
        "/backtest/SPLT/10000/?adjust=none",
        "/predict/SPLT/?adjust=total",
        "/predict/SPLT/?adjust=none",
        "/report/SPLT/?adjust=total",
        "/report/SPLT/?adjust=none",
    ],
)
def test_adjusted_answers_match_the_document(
    openapi, token_client, split_with_dividend, url
):
    response = token_client.get(url)

    body = openapi.check_response(response)
    assert response.status_code == 200
    mode = url.rsplit("=", 1)[1]
    assert body["adjustment"]["mode"] == mode
    assert len(body["adjustment"]["actions"]) == (2 if mode == "total" else 0)
    as_traded = [w for w in body["warnings"] if w.startswith("Prices are as traded")]
    assert bool(as_traded) == (mode == "none")


@pytest.mark.parametrize(
    "url",
    ["/backtest/SPLT/1/?adjust=x", "/predict/SPLT/?adjust=x", "/report/SPLT/?adjust=x"],
)
def test_a_bad_adjust_answers_the_documented_400(openapi, token_client, url):
    split_symbol()

    response = token_client.get(url)

    body = openapi.check_response(response)
    assert (response.status_code, body["error"]["code"]) == (400, "invalid_parameter")
