"""django-import-export resources: what each export file holds, column by column."""

from __future__ import annotations

from import_export import fields, resources

from backtesting.models import BacktestRun, Trade
from core.models import PriceBar, Symbol


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


class PriceBarResource(resources.ModelResource):
    symbol = fields.Field(attribute="symbol__ticker", column_name="symbol")

    class Meta:
        model = PriceBar
        fields = ("symbol", "date", "open", "high", "low", "close", "volume", "source")
        export_order = fields


class BacktestRunResource(resources.ModelResource):
    symbol = fields.Field(attribute="symbol__ticker", column_name="symbol")

    class Meta:
        model = BacktestRun
        fields = (
            "id",
            "symbol",
            "fast",
            "slow",
            "initial_investment",
            "commission",
            "start_date",
            "end_date",
            "bar_count",
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
