"""NYSE sessions (exchange_calendars' XNYS): which days the exchange traded; no Django.

Coverage, gaps, closed-day bars and "is today's bar final" all count sessions, not
weekdays (DESIGN §3): Thanksgiving is no missing bar, and a bar dated today before
the close is no daily bar.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

import exchange_calendars
import pandas as pd

CALENDAR = "XNYS"
# exchange_calendars' default span starts 20 years before today, so it moves with the
# clock and calls older imported bars "closed days": a fixed start judges them too.
CALENDAR_START = "1990-01-01"
# A calendar ends where it was told to (exchange_calendars' default: a year after it
# was built), so a worker running for a year would run out of sessions. It is built
# to cover today plus LOOK_AHEAD (a forecast's 30 sessions fit in it) and rebuilt,
# BUILD_AHEAD past the day asked about, once a call needs a day beyond its end.
LOOK_AHEAD = timedelta(days=62)
BUILD_AHEAD = timedelta(days=366)
# Holiday rules this far ahead are guesses: later days are outside the span, as days
# before CALENDAR_START are, and never make a rebuild.
FURTHEST_AHEAD = timedelta(days=5 * 366)

_lock = threading.Lock()
_built: list[exchange_calendars.ExchangeCalendar] = []


def _today() -> date:
    return datetime.now(UTC).date()


def _build(end: date) -> exchange_calendars.ExchangeCalendar:
    # A tenth of a second or two: once per process, and again about once a year.
    return exchange_calendars.get_calendar(
        CALENDAR, start=CALENDAR_START, end=end.isoformat()
    )


def calendar(through: date | None = None) -> exchange_calendars.ExchangeCalendar:
    """The NYSE calendar from CALENDAR_START, its span reaching at least `through`
    (default: today plus LOOK_AHEAD), rebuilt with a later end when it falls short.

    Days more than FURTHEST_AHEAD after today are not covered. Thread-safe: the
    calendar in use is swapped whole, never changed.
    """
    today = _today()
    wanted = today + LOOK_AHEAD
    if through is not None and through <= today + FURTHEST_AHEAD:
        # Beyond reach a day stays outside the span: asking about it builds nothing.
        wanted = through
    current = _built[-1] if _built else None
    if current is not None and current.last_session.date() >= wanted:
        return current
    with _lock:
        current = _built[-1] if _built else None
        if current is None or current.last_session.date() < wanted:
            end = max(wanted, today + LOOK_AHEAD) + BUILD_AHEAD
            current = _build(end)
            _built[:] = [current]
        return current


def in_calendar(day: date) -> bool:
    """True when `day` lies within the calendar's span, so it can be judged at all;
    the span grows to any day up to FURTHEST_AHEAD after today."""
    cal = calendar(through=day)
    return bool(cal.first_session <= pd.Timestamp(day) <= cal.last_session)


def _clamped(cal: exchange_calendars.ExchangeCalendar, day: date) -> pd.Timestamp:
    stamp = pd.Timestamp(day)
    first, last = pd.Timestamp(cal.first_session), pd.Timestamp(cal.last_session)
    return first if stamp < first else last if stamp > last else stamp


def sessions_between(start: date, end: date) -> list[date]:
    """The NYSE sessions from start to end, both included (within the calendar's span)."""
    if end < start:
        return []
    cal = calendar(through=end)
    sessions = cal.sessions_in_range(_clamped(cal, start), _clamped(cal, end))
    return [session.date() for session in sessions]


def is_session(day: date) -> bool:
    """True when the exchange traded on `day` (False outside the calendar's span)."""
    cal = calendar(through=day)
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
    # Extending the calendar changes no day it already held: a cached answer stays.
    cal = calendar(through=minute.date() + timedelta(days=1))
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
