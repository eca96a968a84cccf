"""manage.py fetch_prices SYMBOL [SYMBOL ...]: fetch now, one line per symbol."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import StockDeskError
from ingestion.services.fetch import prices_fetch


class Command(BaseCommand):
    help = "Fetch daily prices for the given symbols from the configured provider."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("symbols", nargs="+", metavar="SYMBOL")

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for raw in options["symbols"]:
            try:
                result = prices_fetch(ticker=raw)
            except StockDeskError as exc:
                failed += 1
                self.stderr.write(
                    self.style.ERROR(
                        f"{raw.upper()}: failed ({exc.code}): {exc.message}"
                    )
                )
                continue
            span = (
                f"{result.first_date} to {result.last_date}"
                if result.first_date
                else "no bars"
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"{result.symbol}: {result.received} received, {result.inserted} "
                    f"inserted, {result.updated} updated ({span}, source {result.source})"
                )
            )
            for note in result.notes:
                self.stdout.write(f"  note: {note}")
        if failed:
            raise CommandError(f"{failed} of {len(options['symbols'])} symbols failed.")
