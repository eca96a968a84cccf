"""The interactive charts' data: candles as stored (adjusted), the SMAs of
core.indicators, one marker per trade entry and exit with its P&L, the forecast band."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from admin_ui.chart_data import (
    CHART_YEARS,
    equity_chart_data,
    forecast_chart_data,
    pnl_text,
    price_chart_data,
)
from backtesting.params import BacktestParams
from backtesting.selectors import equity_points
from backtesting.services import backtest_run_create
from core.indicators import trailing_mean
from core.models import CorporateAction, PriceBar
from core.selectors import bars_adjusted
from ml.services import forecast_create, model_train
from tests.factories import (
    ACME_BARS,
    ACME_START,
    make_bars,
    make_symbol,
    price_closes,
)

pytestmark = pytest.mark.django_db


def lines_by_name(data: dict) -> dict[str, dict]:
    return {line["name"]: line for line in data["lines"]}


def run_on(ticker: str, fast: int = 10, slow: int = 30):
    return backtest_run_create(
        ticker=ticker,
        params=BacktestParams(initial_investment=Decimal(10_000), fast=fast, slow=slow),
    )


def test_candles_and_volume_are_the_split_adjusted_bars(acme):
    split_day = PriceBar.objects.filter(symbol=acme).order_by("date")[300].date
    CorporateAction.objects.create(
        symbol=acme,
        kind="split",
        date=split_day,
        split_factor=Decimal(4),
        source=CorporateAction.Source.CONFIRMED,
    )

    data = price_chart_data(acme)

    bars = bars_adjusted(acme, adjust="splits").frame
    assert [c["time"] for c in data["candles"]] == [d.isoformat() for d in bars["date"]]
    for candle, (_, bar) in zip(data["candles"], bars.iterrows(), strict=True):
        for key in ("open", "high", "low", "close"):
            assert candle[key] == pytest.approx(float(bar[key]), abs=1e-4)
    first_stored = PriceBar.objects.filter(symbol=acme).order_by("date").first()
    # Before the 4-for-1 split the chart shows a quarter of the traded price.
    assert data["candles"][0]["close"] == pytest.approx(
        float(first_stored.close) / 4, abs=1e-4
    )
    assert [v["value"] for v in data["volume"]] == [int(v) for v in bars["volume"]]
    assert data["initial_bars"] == 250


def test_the_sma_lines_are_core_indicators_trailing_means(acme):
    data = price_chart_data(acme)
    closes = [c["close"] for c in data["candles"]]
    lines = lines_by_name(data)
    assert set(lines) == {"SMA 50", "SMA 200"}
    for window in (50, 200):
        expected = trailing_mean(closes, window)
        points = lines[f"SMA {window}"]["points"]
        # Every bar from the window's last one on has a value, and no bar before.
        assert len(points) == len(closes) - window + 1
        assert points[0]["time"] == data["candles"][window - 1]["time"]
        assert [p["value"] for p in points] == pytest.approx(
            list(expected[window - 1 :]), abs=1e-3
        )


def test_the_symbol_chart_is_bounded_to_its_last_years_with_smas_from_the_first_bar():
    symbol = make_symbol("LONG")
    start = date(2015, 1, 5)
    make_bars(symbol, start=start, closes=price_closes(1_800, seed=9))
    last = PriceBar.objects.filter(symbol=symbol).latest("date").date

    data = price_chart_data(symbol)

    first_shown = date.fromisoformat(data["candles"][0]["time"])
    assert last - timedelta(days=round(365.25 * CHART_YEARS)) <= first_shown
    assert first_shown - timedelta(days=7) < last - timedelta(days=365 * CHART_YEARS)
    assert 1_250 <= len(data["candles"]) <= 1_310
    # The warm-up bars before the window give SMA 200 a value on the first bar shown.
    sma_200 = lines_by_name(data)["SMA 200"]["points"]
    assert len(sma_200) == len(data["candles"])


def test_each_trade_gives_an_entry_and_an_exit_marker_with_its_pnl(acme):
    run = run_on("ACME")
    trades = list(run.trades.all())
    assert trades, "the walk must trade for this test to mean anything"

    for data, series in (
        (price_chart_data(acme), "candles"),
        (equity_chart_data(run), "strategy"),
    ):
        markers = data["markers"]
        assert len(markers) == 2 * len(trades)
        assert {m["series"] for m in markers} == {series}
        entries = [m for m in markers if m["shape"] == "arrowUp"]
        exits = [m for m in markers if m["shape"] == "arrowDown"]
        assert [m["time"] for m in entries] == [
            t.entry_date.isoformat() for t in trades
        ]
        assert [m["time"] for m in exits] == [t.exit_date.isoformat() for t in trades]
        for marker, trade in zip(exits, trades, strict=True):
            assert marker["text"].startswith(
                pnl_text(trade.pnl, trade.return_pct, "USD")
            )
            assert re.match(
                r"^[+\u2212]\$[\d,]+ \([+\u2212]\d+\.\d %\)", marker["text"]
            )
    # The run's own SMA windows join the desk's 50 / 200 on the symbol chart.
    assert set(lines_by_name(price_chart_data(acme))) == {
        "SMA 50",
        "SMA 200",
        "SMA 10",
        "SMA 30",
    }


def test_pnl_text_reads_like_money():
    assert pnl_text(Decimal("1234.4"), 5.64, "USD") == "+$1,234 (+5.6 %)"
    assert pnl_text(Decimal("-80.2"), -0.41, "EUR") == "\u2212€80 (\u22120.4 %)"
    assert pnl_text(Decimal("12"), 0.1, "CHF") == "+12 CHF (+0.1 %)"


def test_the_equity_chart_draws_strategy_and_buy_and_hold_as_stored(acme):
    run = run_on("ACME")
    data = equity_chart_data(run)
    lines = lines_by_name(data)
    points = equity_points(run)
    assert [p["value"] for p in lines["Strategy"]["points"]] == pytest.approx(
        [p["equity"] for p in points]
    )
    assert [p["time"] for p in lines["Buy and hold"]["points"]] == [
        p["date"] for p in points
    ]


def test_the_benchmark_line_shows_when_spy_is_stored(acme):
    spy = make_symbol("SPY")
    make_bars(spy, start=ACME_START, closes=price_closes(ACME_BARS, seed=11))
    run = run_on("ACME")

    line = lines_by_name(equity_chart_data(run))["Benchmark SPY"]

    run_days = {p["date"] for p in equity_points(run)}
    assert len(line["points"]) > 400
    assert {p["time"] for p in line["points"]} <= run_days
    # Rebased to the run's initial investment on the first common day.
    assert line["points"][0]["value"] == pytest.approx(10_000, rel=1e-3)
    assert line["dashed"] is True


def test_without_a_benchmark_the_chart_says_why(acme):
    data = equity_chart_data(run_on("ACME"))
    assert not [name for name in lines_by_name(data) if name.startswith("Benchmark")]
    assert len(data["notes"]) == 1
    assert data["notes"][0].startswith("No benchmark line: ")


@pytest.fixture
def forecast(acme):
    model_train(ticker="ACME")
    return forecast_create(ticker="ACME")[0]


def test_the_forecast_chart_has_history_the_prediction_and_its_80_pct_band(forecast):
    data = forecast_chart_data(forecast)
    lines = lines_by_name(data)
    as_of, last_close = forecast.as_of.isoformat(), float(forecast.last_close)
    predictions = list(forecast.predictions.order_by("step"))

    actual = lines["Actual close"]["points"]
    assert actual[-1] == {"time": as_of, "value": pytest.approx(last_close)}
    assert len(actual) == 90
    for name, field in (
        ("Predicted close", "predicted_close"),
        ("Upper (80 % band)", "upper"),
        ("Lower (80 % band)", "lower"),
    ):
        points = lines[name]["points"]
        # Each starts at the as-of close, then one point per predicted day.
        assert points[0] == {"time": as_of, "value": pytest.approx(last_close)}
        assert [p["time"] for p in points[1:]] == [
            p.date.isoformat() for p in predictions
        ]
        assert [p["value"] for p in points[1:]] == pytest.approx(
            [float(getattr(p, field)) for p in predictions], abs=1e-4
        )
    upper, lower = (
        lines["Upper (80 % band)"]["points"],
        lines["Lower (80 % band)"]["points"],
    )
    assert all(u["value"] >= w["value"] for u, w in zip(upper, lower, strict=True))
    assert data["band"] == {"upper": "upper", "lower": "lower"}


def test_actual_closes_join_the_forecast_chart_as_they_arrive(forecast):
    first = forecast.predictions.get(step=1)
    make_bars(forecast.symbol, start=first.date, closes=[123.45])

    actual = lines_by_name(forecast_chart_data(forecast))["Actual close"]["points"]

    assert actual[-1] == {"time": first.date.isoformat(), "value": 123.45}


def test_the_pages_carry_the_chart_data_and_the_vendored_library(
    admin_client, acme, forecast
):
    run = run_on("ACME")
    pages = {
        f"price-chart-{acme.pk}": reverse("admin:core_symbol_change", args=[acme.pk]),
        f"equity-chart-{run.pk}": reverse(
            "admin:backtesting_backtestrun_change", args=[run.pk]
        ),
        f"forecast-chart-{forecast.pk}": reverse(
            "admin:ml_predictionrun_change", args=[forecast.pk]
        ),
    }
    for chart_id, path in pages.items():
        page = admin_client.get(path).content.decode()
        assert f'data-stockdesk-chart="{chart_id}"' in page, path
        found = re.search(
            rf'<script id="{chart_id}" type="application/json">(.*?)</script>',
            page,
            re.S,
        )
        assert found, path
        assert json.loads(found.group(1))["symbol"] == "ACME"
        assert (
            "/static/admin_ui/vendor/lightweight-charts/"
            "lightweight-charts.standalone.production.js" in page
        )
        assert "/static/admin_ui/charts.js" in page
        assert "TradingView Lightweight Charts" in page  # the licence's attribution


def test_a_symbol_without_bars_says_how_to_get_them(admin_client):
    symbol = make_symbol("EMPTY")
    page = admin_client.get(
        reverse("admin:core_symbol_change", args=[symbol.pk])
    ).content.decode()
    assert "No bars yet: use Fetch prices above." in page
    assert "data-stockdesk-chart" not in page
