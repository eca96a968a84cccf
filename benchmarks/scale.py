"""Scale data: the load by generate_scale_data and a symbol's 2-year read at 5 M bars.

`DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.scale [--no-write]` from
the repository root, on a PostgreSQL database of your own. It deletes the generated
symbols, loads them again with `manage.py generate_scale_data` (timed), runs it once
more (nothing changed: timed), then reads 2-year ranges of random generated symbols
and shows the query's plan. The generated bars stay loaded for the admin's scale
checks; `manage.py generate_scale_data --delete` removes them.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta
from pathlib import Path

if not __package__:  # run as `python benchmarks/scale.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ingest import setup_django
from benchmarks.results import (
    Section,
    Timing,
    arguments,
    format_seconds,
    machine,
    measure,
    postgres_machine_line,
    timings_table,
)

SECTION = Section("scale", heading="Scale data (5 M bars)")
READ_TARGET_S = 0.005  # one symbol's 2-year range
LOAD_TARGET_S = 300.0  # "a few minutes" for 1,000 symbols x 20 years
RANGE_DAYS = 2 * 365
SEED = 16


def timed_command(*args: str) -> tuple[float, str]:
    import io

    from django.core.management import call_command

    out = io.StringIO()
    started = time.perf_counter()
    call_command("generate_scale_data", *args, stdout=out, stderr=io.StringIO())
    return time.perf_counter() - started, out.getvalue().strip()


def main(argv: list[str] | None = None) -> int:
    parser = arguments(__doc__.splitlines()[0], runs=200, runs_help="reads timed")
    parser.add_argument("--symbols", type=int, default=1_000)
    parser.add_argument("--years", type=int, default=20)
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    from core.models import PriceBar, Symbol
    from core.scale_data import TICKER_PREFIX
    from core.selectors import bars_frame

    size = ["--symbols", str(args.symbols), "--years", str(args.years)]
    timed_command("--delete")
    load_s, load_out = timed_command(*size)
    print(f"load: {load_out}")
    reload_s, reload_out = timed_command(*size)
    print(f"again: {reload_out}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE core_pricebar")
    total = PriceBar.objects.count()

    symbols = list(Symbol.objects.filter(ticker__startswith=TICKER_PREFIX))
    last = PriceBar.objects.filter(symbol=symbols[0]).latest("date").date
    first = last - timedelta(days=RANGE_DAYS)
    rng = random.Random(SEED)  # noqa: S311 - which symbols to read, not a secret
    sql = (
        "SELECT date, open, high, low, close, volume FROM core_pricebar "
        "WHERE symbol_id = %s AND date BETWEEN %s AND %s ORDER BY date"
    )

    def read_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, [rng.choice(symbols).pk, first, last])
            cursor.fetchall()

    def read_frame() -> None:
        bars_frame(rng.choice(symbols), start=first, end=last)

    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (ANALYZE, BUFFERS) {sql}", [symbols[1].pk, first, last]
        )
        plan = [row[0] for row in cursor.fetchall()]
    rows = len(bars_frame(symbols[1], start=first, end=last))
    print("\n".join(plan))
    timings = [
        Timing(
            f"generate_scale_data --symbols {args.symbols} --years {args.years}",
            total,
            1,
            load_s,
            load_s,
            LOAD_TARGET_S,
        ),
        Timing(
            "the same command again (nothing changed)", total, 1, reload_s, reload_s
        ),
    ]
    for label, fn in (
        ("2-year range of a random symbol, SQL (rows fetched)", read_sql),
        ("2-year range of a random symbol, bars_frame (DataFrame)", read_frame),
    ):
        median, p95 = measure(fn, runs=args.runs, warmup=10)
        timings.append(Timing(label, rows, args.runs, median, p95, READ_TARGET_S))
        print(f"{label}: {format_seconds(median)}")
    table = timings_table(timings)
    print("\n".join(table))
    if not args.no_write:
        info = machine()
        lines = [
            postgres_machine_line(info),
            f"- Load: `manage.py generate_scale_data --symbols {args.symbols} --years "
            f"{args.years}` into an empty set of generated symbols: {load_out}",
            f"- Again: {reload_out}",
            f"- Reads: {args.runs} 2-year ranges ({first} to {last}, {rows} bars) of "
            f"symbols picked at random among the {len(symbols):,}, with "
            f"{total:,} bars stored; the first column of the table counts the bars "
            "stored (load) or read.",
            "",
            *table,
            "",
            "The read's plan (`EXPLAIN (ANALYZE, BUFFERS)`, one symbol):",
            "",
            "```",
            *plan,
            "```",
        ]
        SECTION.write(SECTION.body(info, lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
