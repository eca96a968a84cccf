"""What ingestion remembers about provider keys: plan learnt, calls spent per day."""

from __future__ import annotations

from django.db import models


class ProviderAccount(models.Model):
    """One provider key, known by a hash so the key itself is never stored."""

    provider = models.CharField(max_length=30)
    key_fingerprint = models.CharField(max_length=16)
    detected_plan = models.CharField(max_length=10, blank=True)
    plan_detected_at = models.DateTimeField(null=True, blank=True)
    last_call_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "key_fingerprint"], name="provider_account_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} key {self.key_fingerprint}"


class ProviderDailyUsage(models.Model):
    account = models.ForeignKey(
        ProviderAccount, on_delete=models.CASCADE, related_name="daily_usage"
    )
    day = models.DateField()
    calls = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day"], name="provider_usage_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.day}: {self.calls}"
