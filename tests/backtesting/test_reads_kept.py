"""What a backtest read of a symbol is kept per data version: a new pair reads no bar
again, and every writer of bars or actions makes the next run read what it wrote."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.adjustment import Action
from core.models import CorporateAction, PriceBar, Symbol
from core.selectors import closes_adjusted
from core.services import corporate_actions_upsert, price_bars_delete, prices_upsert
from tests.factories import ACME_START, make_bars, make_symbol, price_closes

pytestmark = pytest.mark.django_db

SHORT = "?fast=5&slow=20"


@pytest.fixture
def kept(db) -> Symbol:
    symbol = make_symbol("KEPT", name="Kept Inc")
    make_bars(symbol, start=ACME_START, closes=price_closes(120, volatility=0.02))
    return symbol


def backtest(client, ticker: str, query: str = SHORT) -> dict:
    response = client.get(f"/backtest/{ticker}/10000/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def bar_reads(queries: CaptureQueriesContext) -> list[str]:
    """The queries that read bars or corporate actions."""
    tables = ("core_pricebar", "core_corporateaction")
    return [
        q["sql"]
        for q in queries.captured_queries
        if any(table in q["sql"] for table in tables)
    ]


def next_bars(symbol: Symbol, count: int) -> pd.DataFrame:
    last = PriceBar.objects.filter(symbol=symbol).order_by("-date").first()
    assert last is not None
    days = [last.date + timedelta(days=7 * (n + 1)) for n in range(count)]
    price = float(last.close)
    return pd.DataFrame(
        {
            "date": days,
            "open": [price] * count,
            "high": [price + 1] * count,
            "low": [price - 1] * count,
            "close": [price] * count,
            "volume": [1000] * count,
        }
    )


def test_a_second_pair_on_the_same_bars_reads_no_bar_or_action(token_client, kept):
    first = backtest(token_client, "KEPT")

    with CaptureQueriesContext(connection) as queries:
        second = backtest(token_client, "KEPT", "?fast=10&slow=30")

    assert second["id"] != first["id"]
    assert second["data"] == first["data"]
    assert bar_reads(queries) == []


def test_new_bars_from_the_writer_are_in_the_next_run(token_client, kept):
    before = backtest(token_client, "KEPT")

    prices_upsert(symbol=kept, bars=next_bars(kept, 3), source="sample")
    after = backtest(token_client, "KEPT")

    assert after["data"]["bars"] == before["data"]["bars"] + 3
    assert after["data"]["end"] > before["data"]["end"]


def test_deleted_bars_are_gone_from_the_next_run(token_client, kept):
    before = backtest(token_client, "KEPT")

    newest = PriceBar.objects.filter(symbol=kept).order_by("-date")[:5]
    price_bars_delete(
        bars=PriceBar.objects.filter(pk__in=list(newest.values_list("pk", flat=True)))
    )
    after = backtest(token_client, "KEPT")

    assert after["data"]["bars"] == before["data"]["bars"] - 5


def test_a_dividend_recorded_after_a_run_changes_the_total_return_run(
    token_client, kept
):
    before = backtest(token_client, "KEPT", SHORT + "&adjust=total")
    day = PriceBar.objects.filter(symbol=kept).order_by("date")[60].date

    corporate_actions_upsert(
        symbol=kept,
        actions=[Action(kind="dividend", day=day, value=Decimal("1.25"))],
        source=CorporateAction.Source.IMPORT,
    )
    after = backtest(token_client, "KEPT", SHORT + "&adjust=total")

    assert before["adjustment"]["actions"] == []
    assert [a["date"] for a in after["adjustment"]["actions"]] == [day.isoformat()]
    assert after["id"] != before["id"]


def test_every_write_gives_the_symbol_a_new_data_version(kept):
    seen = {Symbol.objects.get(pk=kept.pk).data_version}

    prices_upsert(symbol=kept, bars=next_bars(kept, 1), source="sample")
    seen.add(Symbol.objects.get(pk=kept.pk).data_version)
    day = PriceBar.objects.filter(symbol=kept).order_by("date")[10].date
    corporate_actions_upsert(
        symbol=kept,
        actions=[Action(kind="dividend", day=day, value=Decimal("0.5"))],
        source=CorporateAction.Source.IMPORT,
    )
    seen.add(Symbol.objects.get(pk=kept.pk).data_version)
    price_bars_delete(bars=PriceBar.objects.filter(symbol=kept, date=day))
    seen.add(Symbol.objects.get(pk=kept.pk).data_version)

    assert len(seen) == 4
    # The writer's own object follows, so a later save of it keeps the new version.
    assert kept.data_version in seen


def test_kept_closes_cannot_be_changed_by_a_caller(kept):
    dates, closes = closes_adjusted(Symbol.objects.get(pk=kept.pk))

    with pytest.raises(ValueError, match="read-only"):
        closes[0] = np.float64(0)
    again = closes_adjusted(Symbol.objects.get(pk=kept.pk))[1]
    assert again[0] == float(PriceBar.objects.filter(symbol=kept).first().close)
    assert len(dates) == len(closes)
