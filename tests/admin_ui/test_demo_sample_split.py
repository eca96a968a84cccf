"""`make demo`'s seeding: sample symbols on sessions only, and NFLX's split at work."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from core.data_quality import symbol_suspected_splits
from core.models import CorporateAction, PriceBar
from core.selectors import bars_adjusted, bars_frame, symbol_coverage, symbol_get
from ingestion.providers.sample import SAMPLE_NAMES

pytestmark = pytest.mark.django_db

SPLIT_DAY = date(2025, 11, 17)


def run(tmp_path) -> str:
    out = io.StringIO()
    call_command("demo_setup", credentials=str(tmp_path / "login.json"), stdout=out)
    return out.getvalue()


def _close_before_and_open_on(frame, day: date) -> tuple[Decimal, Decimal]:
    before = frame[frame["date"] < day].iloc[-1]
    on = frame[frame["date"] == day].iloc[0]
    return before["close"], on["open"]


def test_demo_records_the_sample_split_and_the_adjusted_series_has_no_jump(tmp_path):
    output = run(tmp_path)

    nflx = symbol_get("NFLX")
    action = CorporateAction.objects.get(symbol=nflx)
    assert (action.kind, action.date, action.split_factor, action.source) == (
        "split",
        SPLIT_DAY,
        Decimal(10),
        "sample",
    )
    # As many as stored: the sample's sessions are counted back from today.
    stored = PriceBar.objects.filter(symbol=nflx).count()
    assert stored > 480
    assert f"  NFLX: {stored} sample bars ({stored} new, 0 changed)" in output
    assert "1 corporate action recorded" in output
    assert "NFLX has a sample 10-for-1 split on 2025-11-17" in output
    # The stored bars are as traded: a tenth of the price on the split day.
    close, opened = _close_before_and_open_on(bars_frame(nflx), SPLIT_DAY)
    assert 8 < close / opened < 12
    # The series the work reads runs on, and the jump is explained, not suspected.
    adjusted = bars_adjusted(nflx).frame
    close, opened = _close_before_and_open_on(adjusted, SPLIT_DAY)
    assert Decimal("0.85") < close / opened < Decimal("1.15")
    assert symbol_suspected_splits(nflx) == []

    output = run(tmp_path)

    assert CorporateAction.objects.count() == 1
    assert "recorded" not in output.split("StockDesk admin")[0]


def test_demo_symbols_have_a_bar_on_every_session_and_none_on_holidays(tmp_path):
    run(tmp_path)

    assert not PriceBar.objects.filter(
        date__in=[date(2025, 4, 18), date(2025, 11, 27), date(2025, 12, 25)]
    ).exists()
    for ticker in SAMPLE_NAMES:
        coverage = symbol_coverage(symbol_get(ticker))
        assert coverage.missing_sessions == 0, ticker
        assert coverage.closed_day_bars == 0, ticker
        assert coverage.covered_sessions == coverage.bar_count > 490, ticker
