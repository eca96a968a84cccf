"""/report/ JSON carries the symbol's data-quality block, as the admin page shows it,
and as docs/openapi.yaml documents it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.data_quality import symbol_data_quality
from core.models import PriceBar, Symbol
from core.services import suspected_split_confirm
from core.sessions import sessions_between
from tests.api.conftest import OPENAPI_PATH, OpenApiDocument
from tests.factories import make_symbol

pytestmark = pytest.mark.django_db

DAYS = sessions_between(date(2024, 1, 2), date(2024, 3, 28))
SPLIT_DAY = DAYS[30]


@pytest.fixture
def jumped() -> Symbol:
    """Sixty-odd sessions with a 4-for-1 jump and no split recorded, one bar imported."""
    symbol = make_symbol("JUMPR", name="Jump Report")
    PriceBar.objects.bulk_create(
        PriceBar(
            symbol=symbol,
            date=day,
            open=price,
            high=price,
            low=price,
            close=price,
            volume=100,
            source="import" if i == 0 else "alpha_vantage",
        )
        for i, day in enumerate(DAYS)
        for price in [Decimal(100) if day >= SPLIT_DAY else Decimal(400)]
    )
    return symbol


def test_the_report_carries_the_data_quality_block(token_client, jumped):
    body = token_client.get("/report/JUMPR/").json()

    block = body["data_quality"]
    generated = datetime.fromisoformat(body["generated_at"])
    assert block == symbol_data_quality(jumped, now=generated).as_dict()
    assert block["ok"] is False
    assert [p["code"] for p in block["problems"]] == [
        "suspected_splits",
        "stale",
        "mixed_sources",
    ]
    (suspect,) = block["suspected_splits"]
    assert (suspect["date"], suspect["factor"]) == (SPLIT_DAY.isoformat(), "4")
    assert block["sessions_expected"] == block["sessions_covered"] == len(DAYS)


def test_after_confirming_the_report_has_no_suspect_and_names_the_action(
    token_client, jumped
):
    suspected_split_confirm(symbol=jumped, day=SPLIT_DAY)

    block = token_client.get("/report/JUMPR/").json()["data_quality"]

    assert block["suspected_splits"] == []
    assert block["actions_recorded"] == 1
    assert block["latest_action"] == {
        "kind": "split",
        "date": SPLIT_DAY.isoformat(),
        "value": "4",
        "source": "confirmed",
    }


def test_the_block_matches_its_documented_schema_field_for_field(token_client, jumped):
    openapi = OpenApiDocument(OPENAPI_PATH)
    schema = {"$ref": "urn:stockdesk:openapi#/components/schemas/DataQuality"}
    report_schema = openapi.deref(
        {"$ref": "urn:stockdesk:openapi#/components/schemas/Report"}
    )
    suspected_split_confirm(symbol=jumped, day=SPLIT_DAY)  # a latest_action too
    PriceBar.objects.filter(symbol=jumped, date=DAYS[5]).delete()

    block = token_client.get("/report/JUMPR/").json()["data_quality"]

    assert "data_quality" in report_schema["required"]
    openapi.validator(schema).validate(block)
    assert openapi.undocumented_fields(block, [schema]) == []
