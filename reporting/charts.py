"""Report charts as inline SVG strings (matplotlib, thread-safe); no Django import."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import FuncFormatter
from matplotlib.typing import RcKeyType

from core.indicators import trailing_mean

STRATEGY = "#0369a1"
HOLD = "#9ca3af"
FAST = "#f59e0b"
SLOW = "#7c3aed"
BUY = "#15803d"
SELL = "#b91c1c"
BAND = "#bae6fd"
BENCHMARK = "#d97706"
STYLE: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.edgecolor": "#d1d5db",
    "axes.labelcolor": "#374151",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": "#4b5563",
    "ytick.color": "#4b5563",
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "svg.fonttype": "none",  # text stays text: smaller files, searchable PDFs
    "svg.hashsalt": "stockdesk",  # stable ids, so the same data gives the same SVG
    # A line's points closer than half a point (0.18 mm) to its drawn course are left
    # out (matplotlib's default is a ninth): invisible in print, and every point left
    # out is one fewer for WeasyPrint to parse and draw.
    "path.simplify_threshold": 0.5,
    # No tick marks: the grid lines already mark each tick, and every mark is an SVG
    # <use> that WeasyPrint resolves and draws on its own, a tenth of a chart's cost.
    "xtick.major.size": 0,
    "ytick.major.size": 0,
}
# Dublin Core metadata (matplotlib's version, the format): nothing a PDF shows.
NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
# Each chart's figure is drawn at its final size with fixed margins (inches) that hold
# the axis labels and the legend above: a tight bounding box would cost a second draw
# of every chart. The sizes are those the tight boxes had, so the pages keep their look.
WIDTH_IN = 6.2
# Left: "10,000" ticks and the axis label; top: one legend row; bottom: date ticks.
MARGINS_IN = {"left": 0.72, "right": 0.12, "top": 0.3, "bottom": 0.26}

# Charts are drawn on several threads of a gunicorn process at once. Figures are made
# with the object API, not pyplot (whose figure registry is global). The style lives
# in rcParams, global too, read while a figure is built (spines, grid, fonts) and
# again while it is saved (tick colours, svg.*): it holds, under this lock, from the
# first call to the SVG text, one chart at a time. Every use of matplotlib in the web
# process goes through this module.
_STYLE_LOCK = threading.Lock()


@contextmanager
def _styled() -> Iterator[None]:
    with _STYLE_LOCK, matplotlib.rc_context(STYLE):
        yield


def _thousands(value: float, _pos: int) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"


def _days(dates: Sequence[date]) -> npt.NDArray[np.datetime64]:
    # matplotlib plots datetime64 days as it plots dates, and its stubs accept arrays.
    return np.asarray(dates, dtype="datetime64[D]")


# Tick labels by the locator's level (years, months, days, hours, minutes, seconds):
# every label carries its year, so a chart read alone, or a page printed from the
# middle of a report, still says when. No offset text, which a reader misses.
_DATE_FORMATS = ["%Y", "%b %Y", "%d %b %Y", "%d %b %Y", "%d %b %Y", "%d %b %Y"]


def _format_dates(axis: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    axis.xaxis.set_major_locator(locator)
    axis.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(
            locator,
            formats=_DATE_FORMATS,
            zero_formats=_DATE_FORMATS,
            show_offset=False,
        )
    )


def _legend_above(axis: Axes, columns: int) -> None:
    # Above the plot, so the legend never hides a line.
    axis.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=columns,
        fontsize=7,
        borderaxespad=0.2,
    )


def _fill_markers(
    axis: Axes,
    fills: Sequence[tuple[date, float]],
    *,
    marker: str,
    color: str,
    label: str,
) -> None:
    """One marker per fill (day, price); nothing, and no legend entry, without fills."""
    if not fills:
        return
    fill_dates, fill_prices = zip(*fills, strict=True)
    axis.scatter(
        _days(fill_dates),
        fill_prices,
        marker=marker,
        s=28,
        color=color,
        zorder=3,
        label=label,
    )


def _price_figure_svg(figure: Figure, axis: Axes, *, legend_columns: int) -> str:
    """Finish a chart of prices over dates (axis labels, legend) and render it."""
    axis.yaxis.set_major_formatter(FuncFormatter(_thousands))
    axis.set_ylabel("Price")
    _format_dates(axis)
    _legend_above(axis, legend_columns)
    return _svg(figure)


def _figure(
    width: float, height: float, margins: dict[str, float] = MARGINS_IN
) -> Figure:
    """A figure of width x height inches whose axes leave `margins` (inches) around."""
    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(
        left=margins["left"] / width,
        right=1 - margins["right"] / width,
        bottom=margins["bottom"] / height,
        top=1 - margins["top"] / height,
    )
    return figure


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=NO_METADATA)
    text = buffer.getvalue()
    # Inline SVG needs no XML prologue or DOCTYPE.
    return _without_bare_groups(_presentation_attributes(text[text.index("<svg") :]))


# matplotlib styles each element with a style attribute and every element with one
# CSS rule; WeasyPrint parses each as CSS (tinycss2), a sixth of drawing a chart.
# As presentation attributes (stroke="#fff") it reads them as they are. The rule
# becomes attributes of the root, which every element inherits unless it sets its own,
# as a style attribute overrode the rule.
_ROOT_RULE = (
    '<style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>'
)
_ROOT_ATTRIBUTES = 'stroke-linejoin="round" stroke-linecap="butt" '
# A style attribute inside a tag (text content never holds "<" or ">" unescaped).
_STYLE_ATTRIBUTE = re.compile(r'(<[A-Za-z][^<>]*?) style="([^"]*)"')


def _declarations_as_attributes(match: re.Match[str]) -> str:
    pairs = (
        declaration.split(":", 1)
        for declaration in match.group(2).split(";")
        if ":" in declaration
    )
    attributes = " ".join(f'{name.strip()}="{value.strip()}"' for name, value in pairs)
    return f"{match.group(1)} {attributes}"


def _presentation_attributes(svg: str) -> str:
    if _ROOT_RULE not in svg:  # another matplotlib's output: left as it is
        return svg
    svg = svg.replace(_ROOT_RULE, "", 1).replace("<svg ", "<svg " + _ROOT_ATTRIBUTES, 1)
    return _STYLE_ATTRIBUTE.sub(_declarations_as_attributes, svg)


# matplotlib's SVG writer puts every tag of its structure on a line of its own.
_BARE_GROUP = re.compile(r' *<g(?: id="[^"<>]*")?>')
_EMPTY_BARE_GROUP = re.compile(r' *<g(?: id="[^"<>]*")?/>')


def _without_bare_groups(svg: str) -> str:
    """The SVG with every <g> that has no attribute but an id replaced by its children.

    matplotlib wraps each artist in a group named after it (two thirds of a chart's
    elements, some of them empty), and WeasyPrint draws each group as a node of its
    own, for nothing: a group without attributes neither moves, clips nor styles what
    it holds. Nothing refers to these ids (references go to <defs> and clip paths,
    left as they are), and the page is drawn the same (tests/reporting/test_charts.py).
    An SVG not laid out as matplotlib writes it is answered as it is.
    """
    kept: list[str] = []
    bare: list[bool] = []  # for each open <g>: whether it is dropped
    in_defs = False
    for line in svg.split("\n"):
        tag = line.strip()
        if tag in ("<defs>", "</defs>"):
            in_defs = tag == "<defs>"
        elif not in_defs:
            if _EMPTY_BARE_GROUP.fullmatch(line):
                continue
            if _BARE_GROUP.fullmatch(line):
                bare.append(True)
                continue
            if tag.startswith("<g ") and not tag.endswith("/>"):
                bare.append(False)
            elif tag == "</g>":
                if not bare:
                    return svg
                if bare.pop():
                    continue
        kept.append(line)
    return svg if bare else "\n".join(kept)


def price_chart(
    dates: Sequence[date],
    closes: Sequence[float],
    *,
    fast: int,
    slow: int,
    buys: Sequence[tuple[date, float]] = (),
    sells: Sequence[tuple[date, float]] = (),
) -> str:
    """Close with its fast and slow SMAs, and the fills as buy/sell markers."""
    with _styled():
        figure = _figure(WIDTH_IN, 2.07)
        axis = figure.subplots()
        days = _days(dates)
        axis.plot(days, closes, color="#111827", linewidth=0.9, label="Close")
        axis.plot(
            days,
            trailing_mean(closes, fast),
            color=FAST,
            linewidth=1,
            label=f"SMA {fast}",
        )
        axis.plot(
            days,
            trailing_mean(closes, slow),
            color=SLOW,
            linewidth=1,
            label=f"SMA {slow}",
        )
        _fill_markers(axis, buys, marker="^", color=BUY, label="Buy")
        _fill_markers(axis, sells, marker="v", color=SELL, label="Sell")
        return _price_figure_svg(figure, axis, legend_columns=5)


def equity_chart(
    dates: Sequence[date],
    equity: Sequence[float],
    buy_hold: Sequence[float],
    *,
    benchmark: Sequence[tuple[date, float]] = (),
    benchmark_label: str = "Benchmark",
) -> str:
    """Strategy equity against buy and hold (and a benchmark rebased to the same
    investment, when there is one), with the strategy's drawdown below."""
    curve = np.asarray(equity, dtype=np.float64)
    peaks = np.maximum.accumulate(curve)
    drawdown_pct = (curve / peaks - 1.0) * 100.0
    days = _days(dates)
    with _styled():
        figure = _figure(WIDTH_IN, 2.3)
        top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
        top.plot(days, curve, color=STRATEGY, linewidth=1.1, label="Strategy")
        top.plot(days, buy_hold, color=HOLD, linewidth=1.0, label="Buy and hold")
        if benchmark:
            bench_days, bench_values = zip(*benchmark, strict=True)
            top.plot(
                _days(bench_days),
                bench_values,
                color=BENCHMARK,
                linewidth=0.9,
                linestyle="--",
                label=benchmark_label,
            )
        top.yaxis.set_major_formatter(FuncFormatter(_thousands))
        top.set_ylabel("Equity")
        _legend_above(top, 3)
        bottom.fill_between(days, drawdown_pct, 0, color=SELL, alpha=0.25, linewidth=0)
        bottom.plot(days, drawdown_pct, color=SELL, linewidth=0.7)
        bottom.set_ylabel("Drawdown %")
        bottom.set_ylim(min(float(drawdown_pct.min()) * 1.1, -1.0), 0.5)
        _format_dates(bottom)
        return _svg(figure)


def forecast_chart(
    history_dates: Sequence[date],
    history_closes: Sequence[float],
    forecast_dates: Sequence[date],
    predicted: Sequence[float],
    lower: Sequence[float],
    upper: Sequence[float],
    actual_dates: Sequence[date] = (),
    actual_closes: Sequence[float] = (),
) -> str:
    """Recent closes, then the forecast with its band and the actual closes so far."""
    with _styled():
        figure = _figure(WIDTH_IN, 1.95)
        axis = figure.subplots()
        axis.plot(
            _days(history_dates),
            history_closes,
            color="#111827",
            linewidth=0.9,
            label="Close",
        )
        axis.fill_between(
            _days(forecast_dates),
            lower,
            upper,
            color=BAND,
            alpha=0.8,
            linewidth=0,
            label="80 % band",
        )
        axis.plot(
            _days(forecast_dates),
            predicted,
            color=STRATEGY,
            linewidth=1.2,
            linestyle="--",
            label="Forecast",
        )
        if len(actual_dates):
            axis.plot(
                _days(actual_dates),
                actual_closes,
                color=BUY,
                linewidth=1.1,
                marker=".",
                markersize=3,
                label="Actual",
            )
        if len(history_dates):
            axis.axvline(
                mdates.date2num(history_dates[-1]),
                color="#6b7280",
                linewidth=0.7,
                linestyle=":",
            )
        return _price_figure_svg(figure, axis, legend_columns=4)


# Left: the fast windows; right: the colour bar's ticks and label; bottom: the slow ones.
HEATMAP_MARGINS_IN = {"left": 0.45, "right": 0.55, "top": 0.08, "bottom": 0.36}
# Above this many cells the values are left to the colour scale: the text would not fit.
ANNOTATE_CELLS = 120


def heatmap_chart(
    fasts: Sequence[int],
    slows: Sequence[int],
    values: Sequence[Sequence[float | None]],
    *,
    metric: str,
    best: tuple[int, int] | None = None,
) -> str:
    """A sweep's metric over its grid: fast windows down, slow windows across; an
    empty cell is a pair that was not run (fast >= slow) or failed. The best pair is
    framed."""
    grid = np.array(
        [[np.nan if v is None else float(v) for v in row] for row in values],
        dtype=np.float64,
    ).reshape(len(fasts), len(slows))
    finite = grid[np.isfinite(grid)]
    # A diverging scale centred on zero: red loses, blue gains.
    reach = float(np.abs(finite).max()) if finite.size else 1.0
    reach = reach or 1.0
    with _styled():
        height = min(2.9, 0.8 + 0.12 * len(fasts))
        figure = _figure(3.6, height, HEATMAP_MARGINS_IN)
        axis = figure.subplots()
        axis.grid(False)
        image = axis.imshow(
            np.ma.masked_invalid(grid),
            cmap="RdBu",
            vmin=-reach,
            vmax=reach,
            aspect="auto",
            origin="lower",
            interpolation="nearest",
        )
        axis.set_xticks(range(len(slows)), [str(s) for s in slows], fontsize=6)
        axis.set_yticks(range(len(fasts)), [str(f) for f in fasts], fontsize=6)
        axis.set_xlabel("Slow window")
        axis.set_ylabel("Fast window")
        if grid.size <= ANNOTATE_CELLS:
            for row, col in zip(*np.nonzero(np.isfinite(grid)), strict=True):
                cell = grid[row, col]
                axis.text(
                    col,
                    row,
                    f"{cell:.2f}",
                    ha="center",
                    va="center",
                    fontsize=4.5,
                    color="white" if abs(cell) > 0.6 * reach else "#111827",
                )
        if best is not None and best[0] in fasts and best[1] in slows:
            row, col = list(fasts).index(best[0]), list(slows).index(best[1])
            axis.add_patch(
                Rectangle(
                    (col - 0.5, row - 0.5),
                    1,
                    1,
                    fill=False,
                    edgecolor="#111827",
                    linewidth=1.4,
                )
            )
        bar = figure.colorbar(image, ax=axis, fraction=0.05, pad=0.02)
        bar.ax.tick_params(labelsize=6)
        bar.set_label(metric, fontsize=7)
        return _svg(figure)
