"""manage.py setup_schedules: create (or keep) every Django-Q2 schedule the apps need."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core.schedules import schedules_setup


class Command(BaseCommand):
    help = (
        "Create the Django-Q2 schedules (nightly watchlist refresh, stuck-job sweeper); "
        "idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        for schedule in schedules_setup():
            self.stdout.write(
                f"Schedule '{schedule.name}': {schedule.func}, next run "
                f"{schedule.next_run:%Y-%m-%d %H:%M} UTC."
            )
