"""NYSE sessions (exchange_calendars' XNYS): which days the exchange traded; no Django.

Coverage, gaps, closed-day bars and "is today's bar final" all count sessions, not
weekdays (DESIGN §3): Thanksgiving is no missing bar, and a bar dated today before
the close is no daily bar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import exchange_calendars
import pandas as pd

CALENDAR = "XNYS"
# exchange_calendars' default span starts 20 years before today, so it moves with the
# clock and calls older imported bars "closed days": a fixed start judges them too.
CALENDAR_START = "1990-01-01"


@lru_cache(maxsize=1)
def calendar() -> exchange_calendars.ExchangeCalendar:
    # Building the calendar takes a tenth of a second: once per process.
    return exchange_calendars.get_calendar(CALENDAR, start=CALENDAR_START)


def in_calendar(day: date) -> bool:
    """True when `day` lies within the calendar's span, so it can be judged at all."""
    cal = calendar()
    return bool(cal.first_session <= pd.Timestamp(day) <= cal.last_session)


def _clamped(day: date) -> pd.Timestamp:
    cal = calendar()
    stamp = pd.Timestamp(day)
    first, last = pd.Timestamp(cal.first_session), pd.Timestamp(cal.last_session)
    return first if stamp < first else last if stamp > last else stamp


def sessions_between(start: date, end: date) -> list[date]:
    """The NYSE sessions from start to end, both included (within the calendar's span)."""
    if end < start:
        return []
    sessions = calendar().sessions_in_range(_clamped(start), _clamped(end))
    return [session.date() for session in sessions]


def is_session(day: date) -> bool:
    """True when the exchange traded on `day` (False outside the calendar's span)."""
    cal = calendar()
    stamp = pd.Timestamp(day)
    if stamp < cal.first_session or stamp > cal.last_session:
        return False
    return bool(cal.is_session(stamp))


def last_completed_session(now: datetime) -> date:
    """The latest session whose close is at or before `now` (an aware datetime): the
    newest day a daily bar can be final for."""
    moment = pd.Timestamp(now)
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # Closes fall on whole minutes, so the answer only changes from one minute to the
    # next: cached per minute, because the calendar lookup costs milliseconds and an
    # import asks once per row.
    return _last_completed_at(moment.tz_convert("UTC").floor("min"))


@lru_cache(maxsize=64)
def _last_completed_at(minute: pd.Timestamp) -> date:
    cal = calendar()
    session = cal.minute_to_past_session(minute)
    if cal.session_close(session) > minute:
        session = cal.previous_session(session)
    found: date = pd.Timestamp(session).date()
    return found


def final_daily_bars(bars: pd.DataFrame, now: datetime) -> tuple[pd.DataFrame, int]:
    """(the rows of `bars` whose "date" is final at `now`, how many were held back).

    A daily bar is final once its session closed: a bar dated today before the close
    (16:00 New York, 13:00 on early-close days) is an intraday snapshot, and a later
    date cannot have traded yet.
    """
    if bars.empty:
        return bars, 0
    cutoff = last_completed_session(now)
    days = bars["date"]
    # Providers give datetime.date objects; a datetime64 column compares to a Timestamp.
    if pd.api.types.is_datetime64_any_dtype(days):
        final = days <= pd.Timestamp(cutoff)
    else:
        final = days <= cutoff
    held_back = int((~final).sum())
    if not held_back:
        return bars, 0
    return bars[final].reset_index(drop=True), held_back


@dataclass(frozen=True)
class SessionCoverage:
    """Stored days counted against the sessions of [start, end]."""

    expected: int
    covered: int
    missing: tuple[date, ...]
    # Stored days on which the exchange was closed (weekends, holidays): kept, flagged.
    closed: tuple[date, ...]


def session_coverage(
    days: Iterable[date], *, start: date, end: date
) -> SessionCoverage:
    """Which sessions of [start, end] have a stored day, which lack one, and which
    stored days in that range fall on no session (days outside the calendar's span
    are neither)."""
    sessions = sessions_between(start, end)
    expected = set(sessions)
    stored = {day for day in days if start <= day <= end}
    return SessionCoverage(
        expected=len(sessions),
        covered=len(stored & expected),
        missing=tuple(day for day in sessions if day not in stored),
        closed=tuple(
            day for day in sorted(stored) if day not in expected and in_calendar(day)
        ),
    )
