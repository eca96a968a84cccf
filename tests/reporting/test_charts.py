"""Report charts: SVG text out of plain data, the same every time."""

from __future__ import annotations

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import weasyprint
from pypdf import PdfReader

from reporting import charts
from reporting.charts_context import as_data_uri


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


def test_charts_drawn_by_many_threads_at_once_equal_those_drawn_one_by_one():
    # gunicorn's gthread workers render reports on several threads of one process.
    closes = (100 + np.sin(np.arange(200) / 9) * 10).tolist()
    span = days(200)
    draws = [
        lambda: charts.price_chart(
            span, closes, fast=5, slow=20, buys=[(span[30], closes[30])]
        ),
        lambda: charts.equity_chart(span, closes, closes[::-1]),
        lambda: charts.forecast_chart(
            span[:150],
            closes[:150],
            span[150:],
            closes[150:],
            closes[150:],
            closes[150:],
        ),
    ]
    alone = [draw() for draw in draws]
    with ThreadPoolExecutor(max_workers=6) as pool:
        drawn = [
            (index, pool.submit(draws[index])) for _ in range(4) for index in range(3)
        ]
        assert all(future.result() == alone[index] for index, future in drawn)


def test_the_charts_use_no_pyplot_global_state():
    probe = "import sys, reporting.charts; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(charts.__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "False"


def jagged_series() -> tuple[list[date], list[float]]:
    """200 days of zigzagging closes, shared by the tests that compare drawn pages."""
    return days(200), [100 + (i * 37 % 23) + i * 0.1 for i in range(200)]


def drawn(svg: str) -> bytes:
    """The page content WeasyPrint draws for the chart as an image."""
    html = f'<img style="width: 100%" src="{as_data_uri(svg)}">'
    pdf = weasyprint.HTML(string=html).write_pdf(uncompressed_pdf=True)
    return PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()


def test_the_charts_presentation_attributes_draw_what_matplotlibs_styles_do(
    monkeypatch,
):
    span, closes = jagged_series()
    fills = {"buys": [(span[20], closes[20])], "sells": [(span[90], closes[90])]}
    ours = charts.price_chart(span, closes, fast=5, slow=20, **fills)
    monkeypatch.setattr(charts, "_presentation_attributes", lambda svg: svg)
    matplotlibs = charts.price_chart(span, closes, fast=5, slow=20, **fills)

    assert 'style="' in matplotlibs and 'style="' not in ours
    assert drawn(ours) == drawn(matplotlibs)


def operations(content: bytes) -> list[bytes]:
    """A page's drawing operations without the graphics-state saves and restores
    that WeasyPrint writes around every SVG node, each group's included."""
    return [line for line in content.splitlines() if line not in (b"q", b"Q")]


def every_chart() -> list[str]:
    span, closes = jagged_series()
    return [
        charts.price_chart(
            span,
            closes,
            fast=5,
            slow=20,
            buys=[(span[20], closes[20])],
            sells=[(span[90], closes[90])],
        ),
        charts.equity_chart(
            span, closes, closes[::-1], benchmark=list(zip(span, closes, strict=True))
        ),
        charts.forecast_chart(
            span[:150],
            closes[:150],
            span[150:],
            closes[150:],
            [c - 2 for c in closes[150:]],
            [c + 2 for c in closes[150:]],
            span[150:160],
            closes[150:160],
        ),
    ]


def test_the_charts_without_their_bare_groups_draw_what_matplotlib_wrote(monkeypatch):
    ours = every_chart()
    monkeypatch.setattr(charts, "_without_bare_groups", lambda svg: svg)
    matplotlibs = every_chart()

    for flat, nested in zip(ours, matplotlibs, strict=True):
        assert nested.count("<g") > 40 > 5 > flat.count("<g")
        assert operations(drawn(flat)) == operations(drawn(nested))
