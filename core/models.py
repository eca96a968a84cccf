"""The shared domain: symbols, their daily bars, background jobs and API tokens."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from core.market import TICKER_PATTERN


def new_data_version() -> int:
    """A version of a symbol's bars and actions not used before (Symbol.data_version)."""
    return secrets.randbits(62)


class Symbol(models.Model):
    ticker = models.CharField(
        max_length=10,
        unique=True,
        validators=[
            RegexValidator(
                TICKER_PATTERN, "1 to 10 characters: upper-case letters, digits, . or -"
            )
        ],
    )
    name = models.CharField(max_length=200, blank=True)
    exchange = models.CharField(max_length=50, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="USD")
    is_active = models.BooleanField(
        default=True, help_text="On the watchlist: refreshed by the nightly schedule."
    )
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    # When the provider's splits and dividends were last asked for (at most once a day)
    # and whether it answered: without them, jumps like a split are only suspected.
    actions_fetched_at = models.DateTimeField(null=True, blank=True)
    actions_available = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Figures of the symbol's bars, kept current by every writer of bars and of
    # splits (core.services.symbol_figures_refresh), so the Symbols list, its
    # filters and the dashboard read them from this row instead of aggregating
    # millions of bars per page. Whether the last bar is stale depends on the
    # clock, so it is decided at read time from last_bar_date.
    bar_count = models.PositiveIntegerField(default=0, editable=False)
    first_bar_date = models.DateField(null=True, blank=True, editable=False)
    last_bar_date = models.DateField(null=True, blank=True, editable=False)
    last_close = models.DecimalField(
        max_digits=14, decimal_places=4, null=True, blank=True, editable=False
    )
    missing_sessions = models.PositiveIntegerField(default=0, editable=False)
    closed_day_bars = models.PositiveIntegerField(default=0, editable=False)
    suspected_splits = models.PositiveIntegerField(default=0, editable=False)
    source_count = models.PositiveSmallIntegerField(default=0, editable=False)
    # A new random number whenever the symbol's bars or corporate actions are written
    # (core.services), so a process may keep what it read of them under (pk,
    # data_version) (core.selectors.bars_read). Random rather than counted: a
    # rolled-back write, or a test database reusing a pk, never meets a key again.
    data_version = models.BigIntegerField(default=new_data_version, editable=False)

    class Meta:
        ordering = ["ticker"]
        # Roles (DESIGN §11): work staff may start, beside Django's view/add/change.
        permissions = [("run_fetch", "Can fetch prices from the provider")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ticker__regex=TICKER_PATTERN), name="symbol_ticker_format"
            ),
        ]

    def __str__(self) -> str:
        return self.ticker


class PriceBar(models.Model):
    class Source(models.TextChoices):
        ALPHA_VANTAGE = "alpha_vantage", "Alpha Vantage"
        SAMPLE = "sample", "Sample data (offline)"
        IMPORT = "import", "File import"

    # No index of its own: the (symbol, date) unique index starts with the symbol, so
    # it serves the foreign key's look-ups as well, and one index less is one less to
    # write per bar.
    symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, related_name="bars", db_index=False
    )
    date = models.DateField()
    open = models.DecimalField(max_digits=14, decimal_places=4)
    high = models.DecimalField(max_digits=14, decimal_places=4)
    low = models.DecimalField(max_digits=14, decimal_places=4)
    close = models.DecimalField(max_digits=14, decimal_places=4)
    volume = models.BigIntegerField()
    source = models.CharField(max_length=20, choices=Source.choices)

    class Meta:
        ordering = ["symbol", "date"]
        indexes = [
            # The Price bars list's newest-first order and its date filters across
            # symbols; a symbol's own range is the unique index's.
            models.Index(fields=["date"], name="pricebar_date"),
        ]
        constraints = [
            # The unique index also serves "bars of one symbol in a date range".
            models.UniqueConstraint(
                fields=["symbol", "date"], name="pricebar_symbol_date"
            ),
            models.CheckConstraint(
                condition=Q(low__gt=0) & Q(open__gt=0) & Q(high__gt=0) & Q(close__gt=0),
                name="pricebar_prices_positive",
                violation_error_message="Prices must be greater than zero.",
            ),
            models.CheckConstraint(
                condition=Q(low__lte=F("open"))
                & Q(low__lte=F("close"))
                & Q(open__lte=F("high"))
                & Q(close__lte=F("high")),
                name="pricebar_low_open_close_high",
                violation_error_message=(
                    "Low must not be above open or close, and high not below them."
                ),
            ),
            models.CheckConstraint(
                condition=Q(volume__gte=0), name="pricebar_volume_nonneg"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.symbol_id} {self.date}"


class CorporateAction(models.Model):
    """A split or a cash dividend of a symbol (DESIGN §10).

    The stored bars stay as traded; adjusted series are computed at read time from
    the bars and these rows (core.adjustment).
    """

    class Kind(models.TextChoices):
        SPLIT = "split", "Split"
        DIVIDEND = "dividend", "Dividend"

    class Source(models.TextChoices):
        ALPHA_VANTAGE = "alpha_vantage", "Alpha Vantage"
        SAMPLE = "sample", "Sample data (offline)"
        IMPORT = "import", "File import"
        CONFIRMED = "confirmed", "Confirmed by staff (suspected split)"

    symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, related_name="corporate_actions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # A split's effective date (the first session at the new price) or a dividend's
    # ex-date (the first session without it).
    date = models.DateField()
    # New shares per old share: 4 is a 4-for-1 split, 0.1 a 1-for-10 reverse split.
    split_factor = models.DecimalField(
        max_digits=12, decimal_places=6, null=True, blank=True
    )
    # Cash per share, as paid.
    dividend_amount = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True
    )
    source = models.CharField(max_length=20, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["symbol", "date", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "kind", "date"],
                name="corporateaction_symbol_kind_date",
                violation_error_message=(
                    "This symbol already has an action of this kind on this date."
                ),
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="split", split_factor__gt=0, dividend_amount__isnull=True)
                    | Q(
                        kind="dividend",
                        dividend_amount__gt=0,
                        split_factor__isnull=True,
                    )
                ),
                name="corporateaction_value_matches_kind",
                violation_error_message=(
                    "A split needs a factor above zero and no amount; a dividend an "
                    "amount above zero and no factor."
                ),
            ),
        ]

    def __str__(self) -> str:
        value = (
            self.split_factor if self.kind == self.Kind.SPLIT else self.dividend_amount
        )
        return f"{self.symbol_id} {self.kind} {self.date} {value}"


class Job(models.Model):
    class Kind(models.TextChoices):
        FETCH = "fetch", "Fetch prices"
        BACKTEST = "backtest", "Backtest"
        PREDICT = "predict", "Forecast"
        REPORT = "report", "Report"
        TRAIN = "train", "Train model"
        SWEEP = "sweep", "Parameter sweep"
        COMPARE = "compare", "Comparison"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED)

    kind = models.CharField(max_length=20, choices=Kind.choices)
    symbol = models.ForeignKey(
        Symbol, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    # Kept beside the foreign key so a job for a symbol that never came to exist
    # (an unknown ticker) still says what was asked.
    ticker = models.CharField(max_length=10, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    task_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True
    )
    result_id = models.PositiveBigIntegerField(null=True, blank=True)
    result_object = GenericForeignKey("result_type", "result_id")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A fetch has no parameters and spends the provider's small daily
            # budget: a second one of a ticker while one is queued or running
            # would ask for the same call (core.services.job_enqueue answers it
            # with the active Job). Other kinds may differ in parameters.
            models.UniqueConstraint(
                fields=["kind", "ticker"],
                condition=Q(kind="fetch", status__in=["queued", "running"]),
                name="job_one_active_fetch_per_ticker",
                violation_error_message=(
                    "A fetch of this symbol is already queued or running."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.ticker} #{self.pk}"

    @property
    def is_final(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the raw key, to tell tokens apart without the secret.
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
