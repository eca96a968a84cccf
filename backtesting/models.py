"""Stored backtest runs and their trades; a run is never changed after it is stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from backtesting.params import BacktestParams
from core.adjustment import ADJUST_MODES, DEFAULT_ADJUST
from core.models import Symbol

# What defines a run: the symbol, the parameters, the price series (adjustment mode
# and the corporate actions it applied) and the bars they were run on.
BACKTEST_INPUTS = (
    "symbol",
    "fast",
    "slow",
    "initial_investment",
    "commission",
    "adjust",
    "actions_digest",
    "start_date",
    "end_date",
    "bar_count",
)


# The settings every kind of backtest work is asked for, defined once for runs, sweeps
# and comparisons (BacktestParams holds their bounds).
def investment_field() -> models.DecimalField:
    return models.DecimalField(
        max_digits=16, decimal_places=BacktestParams.INVESTMENT_DECIMALS
    )


def commission_field() -> models.DecimalField:
    return models.DecimalField(
        max_digits=6, decimal_places=BacktestParams.COMMISSION_DECIMALS, default=0
    )


def adjust_field() -> models.CharField:
    return models.CharField(
        max_length=10,
        choices=[(mode, mode) for mode in ADJUST_MODES],
        default=DEFAULT_ADJUST,
        help_text="Price series: splits (split-adjusted), total (splits and "
        "dividends) or none (as traded).",
    )


class BacktestRun(models.Model):
    symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, related_name="backtests"
    )
    fast = models.PositiveSmallIntegerField()
    slow = models.PositiveSmallIntegerField()
    initial_investment = investment_field()
    commission = commission_field()
    adjust = adjust_field()
    # {"mode", "actions": [...]} as applied when the run was made (core.adjustment),
    # and its sha256: a split recorded later makes the same request a new run.
    adjustment = models.JSONField(default=dict)
    actions_digest = models.CharField(max_length=64)
    start_date = models.DateField(help_text="First bar used.")
    end_date = models.DateField(help_text="Last bar used.")
    bar_count = models.PositiveIntegerField()
    # The headline figures get columns so lists can sort and filter on them;
    # every metric, notes included, is in `metrics`.
    final_equity = models.DecimalField(max_digits=18, decimal_places=2)
    total_return_pct = models.FloatField()
    buy_hold_return_pct = models.FloatField()
    max_drawdown_pct = models.FloatField()
    trade_count = models.PositiveIntegerField()
    metrics = models.JSONField()
    # The daily curves, packed by backtesting.equity_series: day offsets from
    # start_date, equity and buy-and-hold equity (read through backtesting.selectors).
    equity_curve = models.BinaryField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("run_backtest", "Can run backtests and sweeps")]
        verbose_name = "backtest"
        constraints = [
            models.CheckConstraint(
                condition=Q(fast__gte=BacktestParams.MIN_WINDOW)
                & Q(fast__lt=models.F("slow"))
                & Q(slow__lte=BacktestParams.MAX_WINDOW),
                name="backtest_windows_valid",
            ),
            models.CheckConstraint(
                condition=Q(start_date__lte=models.F("end_date")),
                name="backtest_range_valid",
            ),
            # The same request on the same data (same adjustment, same bars used:
            # first, last and count) is one stored run (DESIGN §10);
            # backtest_run_create returns it.
            models.UniqueConstraint(
                fields=[*BACKTEST_INPUTS],
                name="backtest_inputs_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol.ticker} SMA {self.fast}/{self.slow} #{self.pk}"


class Trade(models.Model):
    run = models.ForeignKey(
        BacktestRun, on_delete=models.CASCADE, related_name="trades"
    )
    number = models.PositiveIntegerField()
    entry_date = models.DateField()
    entry_price = models.DecimalField(max_digits=14, decimal_places=4)
    exit_date = models.DateField()
    exit_price = models.DecimalField(max_digits=14, decimal_places=4)
    shares = models.PositiveBigIntegerField()
    pnl = models.DecimalField("P&L", max_digits=18, decimal_places=2)
    return_pct = models.FloatField()
    bars_held = models.PositiveIntegerField()
    closed_at_end = models.BooleanField(
        default=False, help_text="Still open on the last bar, so sold at its close."
    )

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="trade_run_number"),
        ]

    def __str__(self) -> str:
        return f"Trade {self.number} of run {self.run_id}"


class Sweep(models.Model):
    """A grid of (fast, slow) pairs run on one symbol's bars, with its out-of-sample proof.

    Like a run, a sweep is never changed after it is stored.
    """

    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="sweeps")
    # The ranges as asked for, "start:stop:step" (inclusive).
    fast_range = models.CharField(max_length=20)
    slow_range = models.CharField(max_length=20)
    initial_investment = investment_field()
    commission = commission_field()
    adjust = adjust_field()
    adjustment = models.JSONField(default=dict)
    actions_digest = models.CharField(max_length=64)
    start_date = models.DateField(help_text="First bar used.")
    end_date = models.DateField(help_text="Last bar used.")
    bar_count = models.PositiveIntegerField()
    oos_fraction = models.FloatField(
        help_text="Share of the bars held out: pairs are ranked on the rest only."
    )
    benchmark = models.CharField(max_length=10, blank=True)
    pair_count = models.PositiveIntegerField()
    best_fast = models.PositiveSmallIntegerField(null=True, blank=True)
    best_slow = models.PositiveSmallIntegerField(null=True, blank=True)
    # True when the in-sample best pair beat the default 50/200 out of sample.
    beat_default = models.BooleanField(null=True, blank=True)
    # One dict per pair: fast, slow, error, the full-period metrics of §4 and the
    # in-sample ones the ranking used.
    rows = models.JSONField()
    # The out-of-sample proof, the walk-forward variant, the benchmark and the
    # verdict in words.
    result = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "sweep"

    def __str__(self) -> str:
        return f"{self.symbol.ticker} sweep {self.fast_range} x {self.slow_range} #{self.pk}"


class Comparison(models.Model):
    """The same backtest on several symbols, one table and one rebased price chart."""

    # Tickers in the order asked for.
    tickers = models.JSONField()
    fast = models.PositiveSmallIntegerField()
    slow = models.PositiveSmallIntegerField()
    initial_investment = investment_field()
    commission = commission_field()
    adjust = adjust_field()
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    runs = models.ManyToManyField(BacktestRun, related_name="comparisons")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "comparison"

    def __str__(self) -> str:
        return f"Compare {', '.join(self.tickers)} #{self.pk}"
