"""Trading days for forecasts from core.sessions' NYSE calendar: the horizon's days, and
the session a hindcast of a given day starts from."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from core.sessions import calendar, in_calendar


def next_sessions(after: date, count: int) -> list[date]:
    """The `count` NYSE trading days after `after` (weekends and holidays skipped),
    from a calendar extended past them however long ago it was built."""
    # Five sessions a week less ten holidays a year: twice the count in calendar
    # days, and a fortnight, always hold `count` sessions.
    cal = calendar(through=after + timedelta(days=2 * count + 14))
    start = pd.Timestamp(after)
    if start < cal.first_session:
        start = cal.first_session
    first = cal.date_to_session(start, direction="next")
    if first == pd.Timestamp(after):
        first = cal.next_session(first)
    sessions = cal.sessions_window(first, count)
    return [session.date() for session in sessions]


def last_session_on_or_before(day: date) -> date:
    """The NYSE trading day on or before `day`; `day` itself outside the calendar's
    span, where sessions cannot be judged."""
    if not in_calendar(day):
        return day
    session = calendar(through=day).date_to_session(
        pd.Timestamp(day), direction="previous"
    )
    found: date = session.date()
    return found
