"""Django-Q2 schedules: each app registers its own at start-up; one setup makes them.

Schedules belong to django_q's `Schedule` model, not to an app, so creating them
from one place keeps `manage.py setup_schedules` the same however many apps add one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django_q.models import Schedule


@dataclass(frozen=True)
class ScheduleSpec:
    name: str
    func: str
    schedule_type: str  # Schedule.MINUTES or Schedule.DAILY
    minutes: int | None = None
    # Daily schedules run at this UTC (hour, minute); others start right away.
    at_utc: tuple[int, int] | None = None

    def first_run(self, now: datetime) -> datetime:
        if self.at_utc is None:
            return now
        hour, minute = self.at_utc
        first = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return first if first > now else first + timedelta(days=1)


_SPECS: dict[str, ScheduleSpec] = {}


def schedule_register(spec: ScheduleSpec) -> None:
    _SPECS[spec.name] = spec


def schedules_setup(*, now: datetime | None = None) -> list[Schedule]:
    """Create every registered schedule, or bring an existing one back to its spec.

    Running it again changes nothing; a schedule's next run, once set, is kept.
    """
    now = now or datetime.now(tz=UTC)
    made = []
    for spec in _SPECS.values():
        wanted = {
            "func": spec.func,
            "schedule_type": spec.schedule_type,
            "minutes": spec.minutes,
        }
        schedule, _ = Schedule.objects.update_or_create(
            name=spec.name,
            defaults=wanted,
            create_defaults={**wanted, "repeats": -1, "next_run": spec.first_run(now)},
        )
        made.append(schedule)
    return made
