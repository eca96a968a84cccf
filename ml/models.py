"""The model registry and stored forecasts; a forecast is never changed once stored."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.adjustment import ADJUST_MODES, DEFAULT_ADJUST
from core.models import Symbol
from ml.methods import DEFAULT_METHOD, METHODS

ADJUST_CHOICES = [(mode, mode) for mode in ADJUST_MODES]
METHOD_CHOICES = [(key, method.label) for key, method in METHODS.items()]


def method_field() -> models.CharField:
    """Which of ml.methods a model (or its forecast) is: how it loads and forecasts."""
    return models.CharField(
        max_length=30, choices=METHOD_CHOICES, default=DEFAULT_METHOD
    )


ADJUST_HELP = (
    "Price series: splits (split-adjusted), total (splits and dividends) or none "
    "(as traded)."
)


class RegistryManager(models.Manager["TrainedModel"]):
    """The registry: live models only. A hindcast's model belongs to its forecast, so
    lists of models, version counts and activation never see it; the forecast still
    reaches it (related objects are read through the base manager)."""

    def get_queryset(self) -> models.QuerySet[TrainedModel]:
        return super().get_queryset().filter(purpose=TrainedModel.Purpose.LIVE)


class TrainedModel(models.Model):
    """A fitted forecaster for one symbol, its evaluation, and its artifact.

    One model per symbol is active: the newest trained, unless staff activate another.
    A hindcast model (purpose=hindcast) is fitted on the bars up to one past day for
    one hindcast, is never active and stays out of the registry (`objects`).
    """

    class Purpose(models.TextChoices):
        LIVE = "live", "Live (the registry)"
        HINDCAST = "hindcast", "Hindcast (trained on bars up to a past day)"

    symbol = models.ForeignKey(Symbol, on_delete=models.CASCADE, related_name="models")
    method = method_field()
    algorithm = models.CharField(max_length=100)
    version = models.PositiveIntegerField(help_text="Counts up per symbol.")
    features = models.JSONField()
    horizon = models.PositiveSmallIntegerField(default=30)
    train_start = models.DateField()
    train_end = models.DateField()
    train_rows = models.PositiveIntegerField()
    # The series the model was fitted on: the mode and the actions it applied
    # ({"mode", "actions"} of core.adjustment).
    adjust = models.CharField(
        max_length=10,
        choices=ADJUST_CHOICES,
        default=DEFAULT_ADJUST,
        help_text=ADJUST_HELP,
    )
    adjustment = models.JSONField(default=dict)
    sklearn_version = models.CharField(max_length=20)
    # The library that fitted it and its version ("statsmodels 0.15.0").
    library_version = models.CharField(max_length=60, default="")
    artifact = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    evaluation = models.JSONField()
    # Per-horizon quantiles of out-of-sample log-return errors: the forecast band.
    residual_quantiles = models.JSONField()
    is_active = models.BooleanField(default=False)
    purpose = models.CharField(
        max_length=10, choices=Purpose.choices, default=Purpose.LIVE
    )
    # A hindcast model repeats the pipeline of the live model active when it was
    # made (its version is that model's); null: the default pipeline, no live model.
    based_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="hindcast_models",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    trained_at = models.DateTimeField(auto_now_add=True)

    all_objects = models.Manager()
    objects = RegistryManager()

    class Meta:
        ordering = ["-trained_at", "-id"]
        permissions = [("train_model", "Can train forecasting models")]
        verbose_name = "model"
        # The registry's manager filters (the admin, related lists, version counts);
        # what Django reads for itself (a forecast's model, deletion) sees every row.
        default_manager_name = "objects"
        base_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                fields=["symbol"], condition=Q(is_active=True), name="one_active_model"
            ),
            models.UniqueConstraint(
                fields=["symbol", "version"],
                condition=Q(purpose="live"),
                name="model_version",
            ),
            models.CheckConstraint(
                condition=Q(purpose="live") | Q(is_active=False),
                name="hindcast_model_never_active",
            ),
        ]

    def __str__(self) -> str:
        if self.purpose == self.Purpose.HINDCAST:
            return f"{self.symbol.ticker} hindcast model through {self.train_end}"
        return f"{self.symbol.ticker} model v{self.version}"

    @property
    def is_hindcast(self) -> bool:
        return self.purpose == self.Purpose.HINDCAST


class PredictionRun(models.Model):
    symbol = models.ForeignKey(
        Symbol, on_delete=models.CASCADE, related_name="forecasts"
    )
    model = models.ForeignKey(
        TrainedModel, on_delete=models.PROTECT, related_name="runs"
    )
    as_of = models.DateField(help_text="The last bar the forecast saw.")
    # A hindcast: the forecast a model trained only on bars up to as_of would have
    # made, asked for after later bars were stored (its model is a hindcast model).
    is_hindcast = models.BooleanField("hindcast", default=False)
    # The model's, kept here so that one hindcast per method and day holds.
    method = method_field()
    last_close = models.DecimalField(max_digits=14, decimal_places=4)
    # The series the forecast ran on, the actions applied and their sha256: a split
    # recorded later makes the same request a new forecast.
    adjust = models.CharField(
        max_length=10,
        choices=ADJUST_CHOICES,
        default=DEFAULT_ADJUST,
        help_text=ADJUST_HELP,
    )
    adjustment = models.JSONField(default=dict)
    actions_digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("run_forecast", "Can make forecasts")]
        verbose_name = "forecast"
        constraints = [
            models.UniqueConstraint(
                fields=["symbol", "model", "as_of", "adjust", "actions_digest"],
                name="one_forecast_per_model_day_and_series",
            ),
            # Each hindcast trains its own model, so the constraint above cannot
            # keep hindcasts single; a live forecast of the same day is apart.
            models.UniqueConstraint(
                fields=["symbol", "method", "as_of", "adjust", "actions_digest"],
                condition=Q(is_hindcast=True),
                name="one_hindcast_per_method_day_and_series",
            ),
        ]

    def __str__(self) -> str:
        kind = "hindcast" if self.is_hindcast else "forecast"
        return f"{self.symbol.ticker} {kind} as of {self.as_of}"


class Prediction(models.Model):
    run = models.ForeignKey(
        PredictionRun, on_delete=models.CASCADE, related_name="predictions"
    )
    step = models.PositiveSmallIntegerField(help_text="Trading days after as-of.")
    date = models.DateField()
    predicted_close = models.DecimalField(max_digits=14, decimal_places=4)
    lower = models.DecimalField(max_digits=14, decimal_places=4)
    upper = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        ordering = ["run", "step"]
        constraints = [
            models.UniqueConstraint(fields=["run", "step"], name="prediction_run_step"),
            models.CheckConstraint(
                condition=Q(lower__lte=models.F("predicted_close"))
                & Q(predicted_close__lte=models.F("upper")),
                name="prediction_inside_band",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.predicted_close}"
