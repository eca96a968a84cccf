"""django-import-export resources: what each export file holds, column by column."""

from __future__ import annotations

import pandas as pd
from import_export import fields, resources, widgets

from backtesting.models import BACKTEST_INPUTS, BacktestRun, Trade
from core.errors import InvalidInput
from core.market import BAR_COLUMNS, normalise_ticker
from core.models import PriceBar, Symbol
from core.services import prices_upsert


class SymbolResource(resources.ModelResource):
    class Meta:
        model = Symbol
        fields = (
            "ticker",
            "name",
            "exchange",
            "currency",
            "is_active",
            "last_fetched_at",
        )
        export_order = fields
        import_id_fields = ("ticker",)


class IsoDateWidget(widgets.DateWidget):
    """YYYY-MM-DD dates, with an error that names the value staff typed."""

    def __init__(self) -> None:
        super().__init__("%Y-%m-%d")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(
                f"Date {value!r} is not a valid YYYY-MM-DD date."
            ) from None


class PriceBarResource(resources.ModelResource):
    """Bars in and out; an import row names its symbol by ticker (it must exist)."""

    symbol = fields.Field(
        attribute="symbol",
        column_name="symbol",
        widget=widgets.ForeignKeyWidget(Symbol, field="ticker"),
    )
    date = fields.Field(attribute="date", column_name="date", widget=IsoDateWidget())

    class Meta:
        model = PriceBar
        fields = ("symbol", "date", "open", "high", "low", "close", "volume", "source")
        export_order = fields
        import_id_fields = ("symbol", "date")
        # Runs the model's checks, database constraints included (high >= low, ...),
        # so a bad row is reported before anything is written.
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        use_transactions = True

    def before_import_row(self, row, **kwargs) -> None:
        if row.get("symbol"):
            try:
                row["symbol"] = normalise_ticker(str(row["symbol"]))
            except InvalidInput as exc:
                raise ValueError(exc.message) from None
        if not row.get("source"):
            row["source"] = PriceBar.Source.IMPORT

    def do_instance_save(self, instance: PriceBar, is_create: bool) -> None:
        # Through the one writer of bars, so an import is rounded and checked the
        # way a fetch is.
        bar = pd.DataFrame(
            [[getattr(instance, column) for column in BAR_COLUMNS]],
            columns=list(BAR_COLUMNS),
        )
        prices_upsert(symbol=instance.symbol, bars=bar, source=instance.source)
        # The admin's import log names each row's object by its key.
        instance.pk = (
            PriceBar.objects.filter(symbol=instance.symbol, date=instance.date)
            .values_list("pk", flat=True)
            .get()
        )


class BacktestRunResource(resources.ModelResource):
    symbol = fields.Field(attribute="symbol__ticker", column_name="symbol")

    class Meta:
        model = BacktestRun
        # What defined the run, then what it gave.
        fields = (
            "id",
            *BACKTEST_INPUTS,
            "final_equity",
            "total_return_pct",
            "buy_hold_return_pct",
            "max_drawdown_pct",
            "trade_count",
            "created_at",
        )
        export_order = fields


class TradeResource(resources.ModelResource):
    symbol = fields.Field(attribute="run__symbol__ticker", column_name="symbol")

    class Meta:
        model = Trade
        fields = (
            "run",
            "symbol",
            "number",
            "entry_date",
            "entry_price",
            "exit_date",
            "exit_price",
            "shares",
            "pnl",
            "return_pct",
            "bars_held",
            "closed_at_end",
        )
        export_order = fields
