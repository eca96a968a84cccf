"""US exchange trading days (NYSE calendar from exchange_calendars); no Django."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import exchange_calendars
import pandas as pd

CALENDAR = "XNYS"


@lru_cache(maxsize=1)
def _calendar() -> exchange_calendars.ExchangeCalendar:
    # Building the calendar takes a tenth of a second: once per process.
    return exchange_calendars.get_calendar(CALENDAR)


def next_sessions(after: date, count: int) -> list[date]:
    """The `count` NYSE trading days after `after` (weekends and holidays skipped)."""
    calendar = _calendar()
    start = pd.Timestamp(after)
    if start < calendar.first_session:
        start = calendar.first_session
    first = calendar.date_to_session(start, direction="next")
    if first == pd.Timestamp(after):
        first = calendar.next_session(first)
    sessions = calendar.sessions_window(first, count)
    return [session.date() for session in sessions]
