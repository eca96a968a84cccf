"""No time bomb: the NYSE calendar extends itself when asked about days after its end,
so forecasts keep their dates however long a worker has run."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import exchange_calendars
import pandas as pd
import pytest

from core import sessions
from core.sessions import (
    CALENDAR,
    CALENDAR_START,
    FURTHEST_AHEAD,
    final_daily_bars,
    in_calendar,
    is_session,
    last_completed_session,
    session_coverage,
    sessions_between,
)
from ml.calendar import last_session_on_or_before, next_sessions

# A calendar built by a worker started in mid-2020: exchange_calendars' default end,
# a year after it was built.
OLD_END = date(2021, 6, 30)
THANKSGIVING_2026 = date(2026, 11, 26)
CHRISTMAS_2026 = date(2026, 12, 25)  # a Friday
NEW_YEAR_2027 = date(2027, 1, 1)  # a Friday
MLK_DAY_2027 = date(2027, 1, 18)


def built_with_end(end: date) -> exchange_calendars.ExchangeCalendar:
    return exchange_calendars.get_calendar(
        CALENDAR, start=CALENDAR_START, end=end.isoformat()
    )


@pytest.fixture
def builds(monkeypatch) -> list[date]:
    """The calendar in use is one built long ago, ending on OLD_END; the end of each
    calendar built from then on is listed."""
    monkeypatch.setattr(sessions, "_built", [built_with_end(OLD_END)])
    ends: list[date] = []
    build = sessions._build

    def counted(end: date) -> exchange_calendars.ExchangeCalendar:
        ends.append(end)
        return build(end)

    monkeypatch.setattr(sessions, "_build", counted)
    return ends


@pytest.fixture(scope="module")
def reference() -> exchange_calendars.ExchangeCalendar:
    """A calendar built now with a far end, to compare the answers against."""
    return built_with_end(datetime.now(UTC).date() + timedelta(days=3 * 366))


def test_next_sessions_far_after_an_old_calendar_still_answers(builds, reference):
    days = next_sessions(date(2026, 12, 1), 30)

    assert len(days) == 30
    assert days[0] == date(2026, 12, 2)
    for holiday in (CHRISTMAS_2026, NEW_YEAR_2027, MLK_DAY_2027):
        assert holiday not in days
    assert all(day.weekday() < 5 for day in days)
    expected = reference.sessions_window(reference.date_to_session("2026-12-02"), 30)
    assert days == [session.date() for session in expected]
    # Rebuilt once, with a later end; the old calendar is no longer used.
    assert len(builds) == 1
    assert sessions.calendar().last_session.date() > days[-1]


def test_every_session_function_reads_days_after_the_old_end(builds):
    assert in_calendar(THANKSGIVING_2026)
    assert not is_session(THANKSGIVING_2026)
    assert is_session(date(2026, 11, 27))
    assert sessions_between(date(2026, 11, 25), date(2026, 11, 30)) == [
        date(2026, 11, 25),
        date(2026, 11, 27),
        date(2026, 11, 30),
    ]
    assert last_session_on_or_before(THANKSGIVING_2026) == date(2026, 11, 25)
    # Thanksgiving, 18:00 New York: the last close was the day before.
    evening = datetime(2026, 11, 26, 23, 0, tzinfo=UTC)
    assert last_completed_session(evening) == date(2026, 11, 25)

    coverage = session_coverage(
        [date(2026, 11, 25), THANKSGIVING_2026],
        start=date(2026, 11, 23),
        end=date(2026, 11, 27),
    )
    assert coverage.expected == 4
    assert coverage.closed == (THANKSGIVING_2026,)
    assert coverage.missing == (
        date(2026, 11, 23),
        date(2026, 11, 24),
        date(2026, 11, 27),
    )


def test_final_daily_bars_after_the_old_end(builds):
    bars = pd.DataFrame({"date": [date(2026, 11, 24), date(2026, 11, 25)]})
    # 15:00 New York on the 25th: that day's bar is not final yet.
    kept, held_back = final_daily_bars(bars, datetime(2026, 11, 25, 20, tzinfo=UTC))
    assert list(kept["date"]) == [date(2026, 11, 24)] and held_back == 1


def test_the_clock_moving_past_the_end_extends_the_default_calendar(
    builds, monkeypatch
):
    """A worker started long ago: today is now years after the calendar's end."""
    monkeypatch.setattr(sessions, "_today", lambda: date(2026, 12, 1))

    cal = sessions.calendar()

    assert cal.last_session.date() >= date(2026, 12, 1) + sessions.LOOK_AHEAD
    assert len(builds) == 1
    # Asked again, the extended calendar is used as it is.
    assert sessions.calendar() is cal
    next_sessions(date(2026, 12, 1), 30)
    assert len(builds) == 1


def test_days_inside_the_old_span_need_no_rebuild(builds):
    assert is_session(date(2021, 6, 1))
    assert sessions_between(date(2021, 6, 28), date(2021, 6, 30)) == [
        date(2021, 6, 28),
        date(2021, 6, 29),
        date(2021, 6, 30),
    ]
    assert next_sessions(date(2020, 12, 23), 3) == [
        date(2020, 12, 24),
        date(2020, 12, 28),
        date(2020, 12, 29),
    ]
    assert builds == []


def test_many_threads_asking_at_once_rebuild_once(builds):
    """Request threads of one worker reach the end together: one rebuild, and each
    gets the same, complete answer."""
    count = 8
    start = threading.Barrier(count)
    answers: list[list[date]] = []
    errors: list[BaseException] = []

    def ask() -> None:
        start.wait()
        try:
            answers.append(next_sessions(date(2026, 12, 1), 30))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(answers) == count and all(a == answers[0] for a in answers)
    assert len(builds) == 1


def test_days_beyond_reach_are_outside_the_span_and_build_nothing(builds):
    # Holiday rules this far ahead are guesses: such a day is not judged, as a day
    # before CALENDAR_START is not.
    far = datetime.now(UTC).date() + FURTHEST_AHEAD + timedelta(days=400)
    sessions.calendar()  # the span of today
    built = len(builds)

    assert not in_calendar(far)
    assert not is_session(far)
    assert last_session_on_or_before(far) == far
    assert len(builds) == built
    assert not in_calendar(date(1989, 12, 29))
    assert not is_session(date(1989, 12, 29))


@pytest.mark.django_db
def test_a_forecast_a_year_after_the_calendar_was_built(
    token_client, acme, monkeypatch
):
    """The bug this guards: a calendar built at start-up ends a year later, and the
    worker's next forecast then had no sessions to date its 30 days."""
    from ml.services import model_train

    model_train(ticker="ACME")  # ACME's last bar: Friday 2025-12-26
    # Built at start-up a year before: it ends with ACME's last bar.
    monkeypatch.setattr(sessions, "_built", [built_with_end(date(2025, 12, 26))])

    response = token_client.get("/predict/ACME/")

    assert response.status_code == 200, response.content
    days = [date.fromisoformat(row["date"]) for row in response.json()["predictions"]]
    assert len(days) == 30
    assert days[0] == date(2025, 12, 29)
    assert NEW_YEAR_2027 not in days and date(2026, 1, 1) not in days
    assert date(2026, 1, 19) not in days  # Martin Luther King Jr. Day 2026
    assert days[-1] == date(2026, 2, 10)


def test_the_data_quality_session_index_follows_the_extended_calendar(monkeypatch):
    """The Symbols list's session index is rebuilt when the calendar grows, so bars
    after the old end still count as covered sessions, not as outside the span."""
    from core.data_quality import _session_index

    before = _session_index()
    later = built_with_end(before.last + timedelta(days=400))
    monkeypatch.setattr(sessions, "_built", [later])
    after = _session_index()
    assert after.last == later.last_session.date() > before.last
    assert after.sessions[: len(before.sessions)] == before.sessions
