"""manage.py generate_scale_data --symbols N --years Y: sample bars for scale tests."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from core.scale_data import (
    MAX_SYMBOLS,
    TICKER_DIGITS,
    TICKER_PREFIX,
    random_walk_bars,
    scale_tickers,
)
from core.services import prices_upsert, scale_symbols_delete, scale_symbols_ensure
from core.sessions import CALENDAR_START, last_completed_session, sessions_between

# Every symbol's walk starts here, whatever --years asks for: a day's bar depends
# only on the seed, the ticker and the day, so a second run (or a later one, with
# more sessions closed) finds the bars it already stored unchanged.
WALK_START = date.fromisoformat(CALENDAR_START)
MAX_YEARS = 30
SCALE_NAME = "Scale sample (generated)"
TICKER_REGEX = rf"^{TICKER_PREFIX}[0-9]{{{TICKER_DIGITS}}}$"


class Command(BaseCommand):
    help = (
        "Store seeded sample bars (a random walk on NYSE sessions) for symbols "
        f"{TICKER_PREFIX}0000, {TICKER_PREFIX}0001, ...: scale and load tests. "
        "Running it again writes only what changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--symbols", type=int, default=1_000, help="How many (default 1,000)."
        )
        parser.add_argument(
            "--years", type=int, default=20, help="Years of sessions (default 20)."
        )
        parser.add_argument(
            "--seed", type=int, default=16, help="The random seed (default 16)."
        )
        parser.add_argument(
            "--delete",
            action="store_true",
            help="Delete every generated symbol and its bars instead.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["delete"]:
            count = scale_symbols_delete(ticker_regex=TICKER_REGEX)
            self.stdout.write(f"Deleted {count:,} generated symbols and their bars.")
            return
        count, years = options["symbols"], options["years"]
        if not 0 < count <= MAX_SYMBOLS:
            raise CommandError(f"--symbols must be 1 to {MAX_SYMBOLS:,}.")
        if not 0 < years <= MAX_YEARS:
            raise CommandError(f"--years must be 1 to {MAX_YEARS}.")
        end = last_completed_session(timezone.now())
        first = end.replace(year=end.year - years, day=min(end.day, 28))
        walk_days = sessions_between(WALK_START, end)
        kept_from = next(i for i, day in enumerate(walk_days) if day > first)
        started = time.perf_counter()
        symbols = scale_symbols_ensure(tickers=scale_tickers(count), name=SCALE_NAME)
        inserted = updated = received = 0
        for number, symbol in enumerate(symbols, start=1):
            bars = random_walk_bars(symbol.ticker, walk_days, seed=options["seed"])
            bars = bars.iloc[kept_from:].reset_index(drop=True)
            new, changed = prices_upsert(symbol=symbol, bars=bars, source="sample")
            inserted, updated, received = (
                inserted + new,
                updated + changed,
                received + len(bars),
            )
            if number % 100 == 0 and number < count:
                self.stderr.write(f"  {number:,} of {count:,} symbols")
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{count:,} symbols x {len(walk_days) - kept_from:,} sessions "
            f"({walk_days[kept_from]} to {end}): {received:,} bars, {inserted:,} "
            f"inserted, {updated:,} updated, {received - inserted - updated:,} "
            f"unchanged in {elapsed:.1f} s ({received / elapsed:,.0f} bars/s)."
        )
