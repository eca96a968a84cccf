"""Report charts: SVG text out of plain data, the same every time."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from reporting import charts


def days(n: int) -> list[date]:
    return [date(2024, 1, 1) + timedelta(days=i) for i in range(n)]


def test_price_chart_shows_the_averages_and_the_fills():
    closes = (100 + np.sin(np.arange(120) / 9) * 10).tolist()
    chart = {
        "fast": 5,
        "slow": 20,
        "buys": [(days(120)[30], closes[30])],
        "sells": [(days(120)[60], closes[60])],
    }
    svg = charts.price_chart(days(120), closes, **chart)
    assert svg.startswith("<svg")
    for label in ("SMA 5", "SMA 20", "Buy", "Sell", "Close"):
        assert f">{label}<" in svg
    # Same input, same bytes: the chart carries no date or random id.
    assert svg == charts.price_chart(days(120), closes, **chart)


def test_equity_chart_has_a_drawdown_panel():
    equity = [100, 110, 90, 95, 120]
    svg = charts.equity_chart(days(5), equity, [100, 101, 102, 103, 104])
    assert ">Drawdown %<" in svg and ">Buy and hold<" in svg and ">Strategy<" in svg


def test_forecast_chart_shows_band_forecast_and_actuals():
    svg = charts.forecast_chart(
        days(10),
        list(range(10)),
        days(13)[10:],
        [10, 11, 12],
        [9, 9, 9],
        [12, 13, 14],
        days(11)[10:],
        [10.5],
    )
    for label in ("80 % band", "Forecast", "Actual", "Close"):
        assert f">{label}<" in svg
