"""manage.py train_model [--symbol S ...] [--adjust MODE]: fit and activate models."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.adjustment import ADJUST_MODES, DEFAULT_ADJUST
from core.errors import StockDeskError
from core.models import Symbol
from ml.selectors import evaluation_summary
from ml.services import model_train


class Command(BaseCommand):
    help = (
        "Train a model for each given symbol (default: every active symbol) on its "
        "stored prices; the new model becomes that symbol's active model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--symbol", action="append", dest="symbols", metavar="SYMBOL"
        )
        parser.add_argument(
            "--adjust",
            choices=ADJUST_MODES,
            default=DEFAULT_ADJUST,
            help="Price series to train on: splits (default, split-adjusted), total "
            "(splits and dividends) or none (as traded).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tickers = [s.upper() for s in options["symbols"] or []] or list(
            Symbol.objects.filter(is_active=True).values_list("ticker", flat=True)
        )
        if not tickers:
            raise CommandError("No symbols to train: add symbols or pass --symbol.")
        failed = 0
        for ticker in tickers:
            try:
                model = model_train(ticker=ticker, adjust=options["adjust"])
            except StockDeskError as exc:
                failed += 1
                self.stderr.write(
                    self.style.ERROR(f"{ticker}: failed ({exc.code}): {exc.message}")
                )
                continue
            verdicts = ", ".join(
                f"{h['horizon_days']}d MAE {h['model']['mae']:.2f} vs naive "
                f"{h['naive']['mae']:.2f}"
                for h in evaluation_summary(model)["horizons"]
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"{ticker}: model v{model.version} active ({verdicts})"
                )
            )
        if failed:
            raise CommandError(f"{failed} of {len(tickers)} symbols failed.")
