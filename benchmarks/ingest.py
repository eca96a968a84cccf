"""Ingestion against PostgreSQL's COPY; writes the Ingestion section of RESULTS.md.

`DATABASE_URL=postgres://... .venv/bin/python -m benchmarks.ingest [--no-write]` from
the repository root, on a PostgreSQL database of your own: it migrates it, writes
its bars under throw-away symbols (BENCH0, BENCH1, ...) and a table of its own, and
removes both at the end.

In one run, for each size: the limit is COPY of the bars (prepared rows) into an
empty table shaped like core_pricebar (its unique index and checks); against it,
prices_upsert of the same bars as a provider gives them (a DataFrame of Decimal
prices), all new; then the same call again (a re-fetch, nothing changed); and the
writer before issue 16 (the stored days read, Django's bulk_create), as before.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

if not __package__:  # run as `python benchmarks/ingest.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

from benchmarks.results import (
    Section,
    Timing,
    arguments,
    format_seconds,
    machine,
    measure,
    timings_table,
)

SECTION = Section("ingest", heading="Ingestion")
SIZES = (5_040, 50_000)
LAST_DAY = date(2025, 12, 31)
SEED = 20_261_202
RATIO_TARGET = 3.0  # new bars within 3x of COPY into an empty table
PEER_TABLE = "bench_copy_peer"
TICKER_PREFIX = "BENCH"


def setup_django() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL database of your own.")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def provider_bars(n: int) -> pd.DataFrame:
    """n weekday bars up to LAST_DAY with Decimal prices, as a provider parses them."""
    from core.scale_data import random_walk_bars

    days = [d.date() for d in pd.bdate_range(end=LAST_DAY, periods=n)]
    frame = random_walk_bars("BENCH", days, seed=SEED)
    for column in ("open", "high", "low", "close"):
        frame[column] = [Decimal(f"{v:.4f}") for v in frame[column]]
    return frame


class Bench:
    """The symbols and the peer tables of one run, removed again by close()."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.symbols = 0
        self.tables = 0
        self.close()

    def new_symbol(self) -> Any:
        from core.services import symbol_get_or_create

        self.symbols += 1
        return symbol_get_or_create(ticker=f"{TICKER_PREFIX}{self.symbols}")

    def copy_peer(
        self, rows: list[tuple[Any, ...]], count: int, *, foreign_key: bool
    ) -> Callable[[], None]:
        """COPY of rows into a new empty table on each call (made beforehand)."""
        from django.db import transaction

        # As core_pricebar's own: checked at commit, once per row.
        reference = (
            "FOREIGN KEY (symbol_id) REFERENCES core_symbol (id) "
            "DEFERRABLE INITIALLY DEFERRED"
        )
        names = []
        with self.connection.cursor() as cursor:
            for _ in range(count + 1):
                self.tables += 1
                names.append(f"{PEER_TABLE}_{self.tables}")
                cursor.execute(
                    f"CREATE TABLE {names[-1]} (LIKE core_pricebar INCLUDING ALL"
                    + (f", {reference})" if foreign_key else ")")
                )
        tables = iter(names)

        def run() -> None:
            copy_in = (
                f"COPY {next(tables)} (symbol_id, date, open, high, low, close, "
                "volume, source) FROM STDIN"
            )
            with (
                transaction.atomic(),
                self.connection.cursor() as cursor,
                cursor.copy(copy_in) as copy,
            ):
                for row in rows:
                    copy.write_row(row)

        return run

    def rows_touched(self, fn: Callable[[], object]) -> int:
        """Rows fn inserted, updated or deleted in core_pricebar, counted by
        PostgreSQL within one transaction (rolled back after)."""
        from django.db import transaction

        counted = (
            "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables "
            "WHERE relname = 'core_pricebar'"
        )
        with transaction.atomic():
            with self.connection.cursor() as cursor:
                cursor.execute(counted)
                before = cursor.fetchone()[0]
            fn()
            with self.connection.cursor() as cursor:
                cursor.execute(counted)
                touched = int(cursor.fetchone()[0] - before)
            transaction.set_rollback(True)
        return touched

    def close(self) -> None:
        from core.models import Symbol

        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT tablename FROM pg_tables WHERE tablename LIKE %s",
                [f"{PEER_TABLE}%"],
            )
            for (name,) in cursor.fetchall():
                cursor.execute(f"DROP TABLE {name}")
        Symbol.objects.filter(ticker__startswith=TICKER_PREFIX).delete()


def run_size(bench: Bench, n: int, runs: int) -> tuple[list[Timing], dict[str, Any]]:
    from core.services import _prices_orm_upsert, prices_upsert

    bars = provider_bars(n)
    peer_symbol = bench.new_symbol()
    rows = [
        (
            peer_symbol.pk,
            r.date,
            r.open,
            r.high,
            r.low,
            r.close,
            int(r.volume),
            "sample",
        )
        for r in bars.itertuples(index=False)
    ]

    def fresh(write: Callable[..., tuple[int, int]], count: int) -> Callable[[], None]:
        # Made beforehand: each call writes the bars of a symbol that has none.
        symbols = iter([bench.new_symbol() for _ in range(count + 1)])

        def run() -> None:
            counts = write(symbol=next(symbols), bars=bars, source="sample")
            if counts != (n, 0):
                raise RuntimeError(f"expected {n} new bars, got {counts}")

        return run

    refetched = bench.new_symbol()
    prices_upsert(symbol=refetched, bars=bars, source="sample")

    def refetch() -> None:
        counts = prices_upsert(symbol=refetched, bars=bars, source="sample")
        if counts != (0, 0):
            raise RuntimeError(f"a re-fetch wrote {counts}")

    before_runs = max(3, runs // 2)
    cases: list[tuple[str, Callable[[], object], int]] = [
        (
            "COPY into an empty table (the limit)",
            bench.copy_peer(rows, runs, foreign_key=True),
            runs,
        ),
        ("prices_upsert, new bars", fresh(prices_upsert, runs), runs),
        ("prices_upsert, re-fetch of unchanged bars", refetch, runs),
        (
            "before: stored days read + bulk_create, new bars",
            fresh(_prices_orm_upsert, before_runs),
            before_runs,
        ),
        (
            "COPY into an empty table without the foreign key",
            bench.copy_peer(rows, runs, foreign_key=False),
            runs,
        ),
    ]
    timings = []
    for label, fn, count in cases:
        median, p95 = measure(fn, runs=count, warmup=1)
        timings.append(Timing(label, n, count, median, p95))
        print(f"{label}, {n:,} bars: {format_seconds(median)}")
    facts = {
        "new": timings[1].median_s / timings[0].median_s,
        "refetch": timings[2].median_s / timings[0].median_s,
        "before": timings[3].median_s / timings[0].median_s,
        "no_fk": timings[1].median_s / timings[4].median_s,
        "touched": bench.rows_touched(refetch),
    }
    return timings, facts


def main(argv: list[str] | None = None) -> int:
    args = arguments(__doc__.splitlines()[0], runs=7).parse_args(argv)
    setup_django()
    bench = Bench()
    try:
        results = [run_size(bench, n, args.runs) for n in SIZES]
    finally:
        bench.close()
    info = machine()
    timings = [t for size, _ in results for t in size]
    rows = timings_table(timings)
    verdicts = []
    for n, (_, facts) in zip(SIZES, results, strict=True):
        met = "met" if facts["new"] <= RATIO_TARGET else "**MISSED**"
        verdicts.append(
            f"- {n:,} bars: new bars {facts['new']:.2f}x COPY (target ≤ "
            f"{RATIO_TARGET:.0f}x, {met}); re-fetch of unchanged bars "
            f"{facts['refetch']:.2f}x COPY, rows touched: {facts['touched']}; "
            f"before issue 16 {facts['before']:.2f}x COPY; new bars "
            f"{facts['no_fk']:.2f}x COPY into the table without the foreign key."
        )
    print("\n".join(rows))
    print("\n".join(verdicts))
    if not args.no_write:
        body = SECTION.body(
            info,
            [
                f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}; Python "
                f"{info['python']}, pandas {info['pandas']}; PostgreSQL on the same "
                "machine.",
                "- Data: seeded random-walk weekday bars up to "
                f"{LAST_DAY} with Decimal prices, one symbol per write. The limit "
                "copies the prepared rows into an empty table like core_pricebar: "
                "its columns, indexes, checks and foreign key to core_symbol (which "
                "PostgreSQL checks per row at commit, as for any write of bars; the "
                "last row of each size leaves it out); prices_upsert gets the provider's "
                "DataFrame and does all its work (closed-session filter, rounding, "
                "COPY into a temporary table, one INSERT … ON CONFLICT DO UPDATE … "
                "WHERE the bar differs, and when a bar was written the symbol's "
                "figures refreshed from its bars), each commit included.",
                "- Rows touched: inserts + updates + deletes PostgreSQL counted in "
                "core_pricebar during one re-fetch (pg_stat_xact_user_tables).",
                "",
                *rows,
                "",
                *verdicts,
            ],
        )
        SECTION.write(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
