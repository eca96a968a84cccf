"""manage.py train_model [--symbol S ...] [--adjust MODE] [--method M|all]: fit models
(each becomes active unless the symbol's active model is of another method)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.adjustment import ADJUST_MODES, DEFAULT_ADJUST
from core.errors import StockDeskError
from core.models import Symbol
from ml.methods import DEFAULT_METHOD, METHODS
from ml.selectors import evaluation_summary
from ml.services import model_train


class Command(BaseCommand):
    help = (
        "Train a model for each given symbol (default: every active symbol) on its "
        "stored prices. The new model becomes the symbol's active model unless its "
        "active model is of another method (staff chose it: activate on the "
        "leaderboard)."
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
        parser.add_argument(
            "--method",
            choices=[*METHODS, "all"],
            default=DEFAULT_METHOD,
            help=f"Forecasting method (default {DEFAULT_METHOD}); all trains one "
            "model of each.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tickers = [s.upper() for s in options["symbols"] or []] or list(
            Symbol.objects.filter(is_active=True).values_list("ticker", flat=True)
        )
        if not tickers:
            raise CommandError("No symbols to train: add symbols or pass --symbol.")
        methods = list(METHODS) if options["method"] == "all" else [options["method"]]
        failed = 0
        for ticker, method in ((t, m) for t in tickers for m in methods):
            try:
                model = model_train(
                    ticker=ticker, adjust=options["adjust"], method=method
                )
            except StockDeskError as exc:
                failed += 1
                self.stderr.write(
                    self.style.ERROR(
                        f"{ticker} {method}: failed ({exc.code}): {exc.message}"
                    )
                )
                continue
            verdicts = ", ".join(
                f"{h['horizon_days']}d MAE {h['model']['mae']:.2f} vs naive "
                f"{h['naive']['mae']:.2f}"
                for h in evaluation_summary(model)["horizons"]
            )
            state = "active" if model.is_active else "not active"
            self.stdout.write(
                self.style.SUCCESS(
                    f"{ticker}: model v{model.version} {state} "
                    f"({model.get_method_display()}: {verdicts})"
                )
            )
        if failed:
            asked = len(tickers) * len(methods)
            what = "symbols" if len(methods) == 1 else "trainings"
            raise CommandError(f"{failed} of {asked} {what} failed.")
