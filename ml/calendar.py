"""The trading days a forecast's horizon runs over, from core.sessions' NYSE calendar."""

from __future__ import annotations

from datetime import date

import pandas as pd

from core.sessions import calendar


def next_sessions(after: date, count: int) -> list[date]:
    """The `count` NYSE trading days after `after` (weekends and holidays skipped)."""
    cal = calendar()
    start = pd.Timestamp(after)
    if start < cal.first_session:
        start = cal.first_session
    first = cal.date_to_session(start, direction="next")
    if first == pd.Timestamp(after):
        first = cal.next_session(first)
    sessions = cal.sessions_window(first, count)
    return [session.date() for session in sessions]
