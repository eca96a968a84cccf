"""The stored-run look-up read with the symbols (backtesting.run_lookup): used only
when the bars turn out to be the ones remembered, else looked up again."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import PriceBar
from core.services import price_bars_delete, prices_upsert
from tests.backtesting.test_reads_kept import backtest, kept, next_bars

__all__ = ["kept"]  # the fixture, used by name

pytestmark = pytest.mark.django_db


LOOK_UP = 'FROM "backtesting_backtestrun"'  # the look-up of its own
WITH_SYMBOLS = 'JOIN "backtesting_backtestrun" "r"'  # the look-up in the symbols' query


def reads(queries: CaptureQueriesContext, text: str) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if text in q["sql"]]


def test_the_same_request_again_finds_its_run_in_the_symbols_query(token_client, kept):
    first = backtest(token_client, "KEPT")

    with CaptureQueriesContext(connection) as queries:
        again = backtest(token_client, "KEPT")

    assert again["id"] == first["id"]
    assert again["metrics"] == first["metrics"]
    assert len(reads(queries, WITH_SYMBOLS)) == 1
    assert reads(queries, LOOK_UP) == []


def test_another_pair_on_the_same_bars_is_looked_up_with_the_symbols(
    token_client, kept
):
    first = backtest(token_client, "KEPT")

    with CaptureQueriesContext(connection) as queries:
        other = backtest(token_client, "KEPT", "?fast=10&slow=30")

    assert other["id"] != first["id"]
    assert len(reads(queries, WITH_SYMBOLS)) == 1
    assert reads(queries, LOOK_UP) == []


def test_the_run_of_the_remembered_bars_is_not_answered_for_other_bars(
    token_client, kept
):
    short = backtest(token_client, "KEPT")
    prices_upsert(symbol=kept, bars=next_bars(kept, 3), source="sample")
    longer = backtest(token_client, "KEPT")  # remembered: the longer bars
    newest = PriceBar.objects.filter(symbol=kept).order_by("-date")[:3]
    price_bars_delete(
        bars=PriceBar.objects.filter(pk__in=list(newest.values_list("pk", flat=True)))
    )

    # The combined read finds the longer bars' run; the bars are the short ones again.
    with CaptureQueriesContext(connection) as queries:
        again = backtest(token_client, "KEPT")

    assert longer["id"] != short["id"]
    assert longer["data"]["bars"] == short["data"]["bars"] + 3
    assert again["id"] == short["id"]
    assert again["data"] == short["data"]
    assert len(reads(queries, LOOK_UP)) == 1  # looked up again, for these bars
