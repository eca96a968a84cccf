"""manage.py setup_schedules: create (or keep) the nightly watchlist refresh."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ingestion.services import schedules_setup


class Command(BaseCommand):
    help = "Create the nightly Django-Q2 schedule that refreshes active symbols (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        schedule = schedules_setup()
        self.stdout.write(
            f"Schedule '{schedule.name}': {schedule.func}, daily, next run "
            f"{schedule.next_run:%Y-%m-%d %H:%M} UTC."
        )
