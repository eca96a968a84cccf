"""The admin's Symbols and Price bars lists and its dashboard at 5 M bars.

`DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.admin_scale [--runs 5]
[--save FILE] [--before FILE] [--profile LABEL] [--only TEXT] [--no-write]` from the
repository root, on the database benchmarks/scale.py (or `manage.py
generate_scale_data --symbols 1000 --years 20`) loaded. It renders each page through
Django's test client logged in as a superuser and prints the median, the p95 and the
queries of one render.

--save writes the figures to FILE (JSON) and --before reads such a file into a
"before" column: run it with --save on the code before a change, then with --before
on the code after it, the same data loaded. --profile prints pyinstrument's profile
of one page (its label, as in the table).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

if not __package__:  # run as `python benchmarks/admin_scale.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ingest import setup_django
from benchmarks.report import cpu_median
from benchmarks.results import (
    Section,
    arguments,
    format_seconds,
    machine,
    measure,
    postgres_machine_line,
)

SECTION = Section("admin_scale", heading="Admin at 5 M bars")
LIST_TARGET_S = 0.300
DASHBOARD_TARGET_S = 0.200
USERNAME = "bench-admin-scale"


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    target_s: float


@dataclass(frozen=True)
class Figure:
    label: str
    median_s: float
    p95_s: float
    queries: int
    target_s: float
    # The Python side's CPU time of one render (median): what the page costs this
    # process whatever else the machine runs; the database's time is not in it.
    cpu_s: float = 0.0


def pages() -> list[Page]:
    """The pages timed; the symbol and days are picked from what is loaded."""
    from core.models import PriceBar, Symbol
    from core.scale_data import TICKER_PREFIX

    middle = Symbol.objects.filter(ticker__startswith=TICKER_PREFIX).order_by("ticker")[
        500:501
    ]
    symbol = middle.first() or Symbol.objects.order_by("ticker").first()
    if symbol is None:
        raise SystemExit("No symbols: load them with manage.py generate_scale_data.")
    last = PriceBar.objects.filter(symbol=symbol).order_by("-date").first()
    if last is None:
        raise SystemExit(f"{symbol.ticker} has no bars: load the scale data first.")
    day = last.date
    month_start = day - timedelta(days=30)
    month = day.replace(day=1) - timedelta(days=1)  # the last whole month
    symbols, bars = "/admin/core/symbol/", "/admin/core/pricebar/"
    return [
        Page("Symbols list", symbols, LIST_TARGET_S),
        Page(
            "Symbols list, data quality: has problems",
            f"{symbols}?data_quality=problems",
            LIST_TARGET_S,
        ),
        Page(
            "Symbols list, active only", f"{symbols}?is_active__exact=1", LIST_TARGET_S
        ),
        Page(
            f"Symbols list, search {symbol.ticker[:4]}",
            f"{symbols}?q={symbol.ticker[:4]}",
            LIST_TARGET_S,
        ),
        Page("Price bars list", bars, LIST_TARGET_S),
        Page(
            f"Price bars list, symbol {symbol.ticker}",
            f"{bars}?symbol__id__exact={symbol.pk}",
            LIST_TARGET_S,
        ),
        Page(
            f"Price bars list, date {month_start} to {day}",
            f"{bars}?date_from={month_start}&date_to={day}",
            LIST_TARGET_S,
        ),
        Page(
            f"Price bars list, month {month:%Y-%m} (date hierarchy)",
            f"{bars}?date__year={month.year}&date__month={month.month}",
            LIST_TARGET_S,
        ),
        Page(
            f"Price bars list, search {symbol.ticker}",
            f"{bars}?q={symbol.ticker}",
            LIST_TARGET_S,
        ),
        Page("Dashboard", "/admin/", DASHBOARD_TARGET_S),
    ]


def client_logged_in() -> object:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.filter(username=USERNAME).first()
    if user is None:
        user = user_model.objects.create_superuser(USERNAME)
    client = Client()
    client.force_login(user)
    return client


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0], runs=5, runs_help="renders")
    parser.add_argument("--save", type=Path, help="write the figures here (JSON)")
    parser.add_argument("--before", type=Path, help="figures of the code before")
    parser.add_argument("--profile", help="profile the page of this label")
    parser.add_argument(
        "--only", help="time only the pages whose label contains this text"
    )
    args = parser.parse_args(argv)
    setup_django()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.models import PriceBar, Symbol

    # Production's settings, but static URLs without the manifest `collectstatic`
    # writes: the pages' work is what is timed, not the static files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    client = client_logged_in()

    def render(path: str) -> None:
        response = client.get(path)  # type: ignore[attr-defined]
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")

    chosen = [p for p in pages() if not args.only or args.only in p.label]
    if args.profile:
        from pyinstrument import Profiler

        page = next(p for p in chosen if p.label == args.profile)
        render(page.path)
        with Profiler() as profiler:
            render(page.path)
        print(profiler.output_text(unicode=True, color=False))
        return 0

    load = os.getloadavg()
    figures = []
    for page in chosen:
        median, p95 = measure(
            lambda path=page.path: render(path), runs=args.runs, warmup=1
        )
        with CaptureQueriesContext(connection) as queries:
            render(page.path)
        # Counted now: the next request's start empties the connection's query log.
        query_count = len(queries)
        cpu = cpu_median(lambda path=page.path: render(path), args.runs)
        figure = Figure(page.label, median, p95, query_count, page.target_s, cpu)
        figures.append(figure)
        print(
            f"{page.label}: median {format_seconds(median)}, p95 "
            f"{format_seconds(p95)}, CPU {format_seconds(cpu)}, "
            f"{query_count} queries"
        )
    if args.save:
        args.save.write_text(json.dumps([f.__dict__ for f in figures], indent=1))
    before = (
        {row["label"]: Figure(**row) for row in json.loads(args.before.read_text())}
        if args.before
        else {}
    )
    table = results_table(figures, before)
    print("\n".join(table))
    if not args.no_write:
        info = machine()
        lines = [
            postgres_machine_line(info),
            f"- Data: {Symbol.objects.count():,} symbols, about "
            f"{PriceBar.objects.count():,} bars (`manage.py generate_scale_data "
            "--symbols 1000 --years 20`).",
            f"- Each page rendered through Django's test client as a superuser: "
            f"{args.runs} timed renders after one warm-up; queries of one render; CPU "
            "is this process's CPU time per render (median), the database's not in "
            f"it. Load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at "
            f"the end ({info['nproc']} CPUs shared with other work: wall times are "
            "inflated by it).",
            *(
                [
                    "- Before: the same pages on the code before issue 16's admin "
                    "changes (main), the same data on the same machine, measured "
                    "earlier with `--save` (its own number of renders)."
                ]
                if before
                else []
            ),
            "",
            *table,
        ]
        SECTION.write(SECTION.body(info, lines))
    missed = [f for f in figures if f.median_s >= f.target_s]
    return 1 if missed else 0


def results_table(figures: list[Figure], before: dict[str, Figure]) -> list[str]:
    rows = [
        "| page | before: median | before: queries | median | p95 | CPU | queries "
        "| target (median) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for f in figures:
        old = before.get(f.label)
        verdict = "met" if f.median_s < f.target_s else "**MISSED**"
        rows.append(
            f"| {f.label} | {format_seconds(old.median_s) if old else '—'} "
            f"| {old.queries if old else '—'} | {format_seconds(f.median_s)} "
            f"| {format_seconds(f.p95_s)} | {format_seconds(f.cpu_s)} | {f.queries} "
            f"| < {format_seconds(f.target_s)}: {verdict} |"
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
