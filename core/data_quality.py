"""What staff should know about a symbol's stored prices before trusting work on them.

`price_warnings` is what every backtest and report over a date range says in words.
`symbol_data_quality` is the data-quality block of one symbol (its admin page and the
JSON report); `symbols_quality_facts` decides the same problems for many symbols at
once from the figures the writers of bars store on each Symbol
(`symbols_figures_measured`), so the Symbols list, its filter and the dashboard read
one row per symbol, never the bars.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

import exchange_calendars
import pandas as pd
from django.db.models import (
    Count,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Lag

from core.adjustment import NONE, Action
from core.market import PRICE_DECIMALS
from core.models import CorporateAction, PriceBar, Symbol
from core.selectors import bars_frame, corporate_actions, symbol_coverage
from core.sessions import calendar, last_completed_session
from core.split_detection import (
    SuspectedSplit,
    jump_prefilter,
    split_from_jump,
    suspected_splits,
)


def symbol_suspected_splits(
    symbol: Symbol, *, start: date | None = None, end: date | None = None
) -> list[SuspectedSplit]:
    """Jumps like a split in the as-traded bars of [start, end] with no recorded split."""
    recorded = CorporateAction.objects.filter(
        symbol=symbol, kind=CorporateAction.Kind.SPLIT
    ).values_list("date", flat=True)
    return suspected_splits(bars_frame(symbol, start=start, end=end), list(recorded))


def price_warnings(
    symbol: Symbol, *, start: date | None, end: date | None, adjust: str
) -> list[str]:
    """Sentences about the prices a piece of work over [start, end] ran on."""
    return price_warnings_of(
        symbol.ticker,
        bars_frame(symbol, start=start, end=end),
        corporate_actions(symbol),
        start=start,
        end=end,
        adjust=adjust,
    )


def price_warnings_of(
    ticker: str,
    as_traded: pd.DataFrame,
    actions: list[Action],
    *,
    start: date | None,
    end: date | None,
    adjust: str,
) -> list[str]:
    """price_warnings from bars and actions already read (core.selectors.bars_read):
    a backtest says them without reading its bars a second time."""
    split_days = [a.day for a in actions if a.kind == CorporateAction.Kind.SPLIT]
    # Bars read with float prices (core.selectors.bars_read) show a jump as stored.
    found = suspected_splits(as_traded, split_days, places=PRICE_DECIMALS)
    warnings = [s.describe(ticker) for s in found]
    if adjust == NONE:
        warnings += [
            f"Prices are as traded (adjust=none): the {split.value.normalize():f}:1 "
            f"split of {ticker} on {split.day.isoformat()} shows as a jump."
            for split in actions
            if split.kind == CorporateAction.Kind.SPLIT
            and (start is None or split.day > start)
            and (end is None or split.day <= end)
        ]
    return warnings


# --- NYSE sessions, counted ----------------------------------------------------------


@dataclass(frozen=True)
class _SessionIndex:
    """The calendar's sessions as sorted dates, and its weekday closures (holidays)."""

    sessions: list[date]
    holidays: list[date]

    @property
    def first(self) -> date:
        return self.sessions[0]

    @property
    def last(self) -> date:
        return self.sessions[-1]

    def count(self, start: date, end: date) -> int:
        if end < start:
            return 0
        return bisect_right(self.sessions, end) - bisect_left(self.sessions, start)


def _session_index() -> _SessionIndex:
    """The sessions of the calendar in use, rebuilt when the calendar grows (a worker
    running past the calendar's end), so later bars are still judged."""
    return _index_of(calendar())


@lru_cache(maxsize=1)
def _index_of(cal: exchange_calendars.ExchangeCalendar) -> _SessionIndex:
    # Bisecting one sorted list is what lets the Symbols list count sessions for
    # every row without asking the calendar (about a millisecond a call) per row.
    sessions = [stamp.date() for stamp in cal.sessions]
    weekdays = pd.bdate_range(sessions[0], sessions[-1])
    opened = set(sessions)
    holidays = [stamp.date() for stamp in weekdays if stamp.date() not in opened]
    return _SessionIndex(sessions, holidays)


def _in_span(prefix: str) -> Q:
    index = _session_index()
    return Q(**{f"{prefix}date__gte": index.first, f"{prefix}date__lte": index.last})


def _closed_filter(prefix: str = "") -> Q:
    """Bars on a day the exchange was closed, as a query: a weekend or weekday closure
    within the calendar's span (core.sessions.session_coverage's closed days)."""
    index = _session_index()
    weekend = Q(**{f"{prefix}date__iso_week_day__gte": 6})
    return (_in_span(prefix) & weekend) | Q(**{f"{prefix}date__in": index.holidays})


# --- the problems, decided on counts -------------------------------------------------


@dataclass(frozen=True)
class Problem:
    code: str
    label: str  # a few words, for a badge
    message: str  # the sentence staff read


@dataclass(frozen=True)
class QualityFacts:
    """The counts a symbol's problems are decided on, whichever way they were read."""

    bar_count: int
    first_bar: date | None
    last_bar: date | None
    sessions_expected: int  # NYSE sessions from the first stored bar to the last
    sessions_covered: int  # of those, sessions with a bar
    closed_day_bars: int
    suspected_splits: int
    source_count: int
    last_completed_session: date
    sessions_behind: int  # sessions after the last bar, up to the last completed one

    @property
    def missing_sessions(self) -> int:
        return self.sessions_expected - self.sessions_covered

    @property
    def problems(self) -> list[Problem]:
        if not self.bar_count:
            return [
                Problem(
                    "no_bars",
                    "no bars",
                    "No price bars are stored yet: fetch or import prices.",
                )
            ]
        found = []
        if self.missing_sessions > 0:
            found.append(
                Problem(
                    "missing_sessions",
                    "missing sessions",
                    f"{_count(self.missing_sessions, 'NYSE session')} of "
                    f"{self.sessions_expected:,} from {self.first_bar} to "
                    f"{self.last_bar} {_verb(self.missing_sessions)} no bar: "
                    "backfill them with a fetch or an import.",
                )
            )
        if self.closed_day_bars:
            found.append(
                Problem(
                    "closed_day_bars",
                    "closed-day bars",
                    f"{_count(self.closed_day_bars, 'bar')} "
                    f"{'falls' if self.closed_day_bars == 1 else 'fall'} on a day "
                    "the exchange was closed (a weekend or an NYSE holiday): kept, "
                    "but no session traded then.",
                )
            )
        if self.suspected_splits:
            found.append(
                Problem(
                    "suspected_splits",
                    "suspected split",
                    f"{_count(self.suspected_splits, 'price jump')} like a split "
                    f"{_verb(self.suspected_splits)} no recorded split: confirm each "
                    "on the symbol's page, or fetch its corporate actions.",
                )
            )
        if self.sessions_behind > 0:
            found.append(
                Problem(
                    "stale",
                    "stale",
                    f"The last bar ({self.last_bar}) is "
                    f"{_count(self.sessions_behind, 'session')} behind the last "
                    f"completed NYSE session ({self.last_completed_session}).",
                )
            )
        if self.source_count > 1:
            found.append(
                Problem(
                    "mixed_sources",
                    "mixed sources",
                    f"The bars come from {self.source_count} sources: prices from "
                    "different sources may not agree where they meet.",
                )
            )
        return found


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _verb(n: int) -> str:
    return "has" if n == 1 else "have"


def _facts(
    *,
    bar_count: int,
    first_bar: date | None,
    last_bar: date | None,
    sessions_expected: int,
    sessions_covered: int,
    closed_day_bars: int,
    suspected: int,
    source_count: int,
    last_completed: date,
) -> QualityFacts:
    behind = (
        _session_index().count(last_bar + timedelta(days=1), last_completed)
        if last_bar
        else 0
    )
    return QualityFacts(
        bar_count=bar_count,
        first_bar=first_bar,
        last_bar=last_bar,
        sessions_expected=sessions_expected,
        sessions_covered=sessions_covered,
        closed_day_bars=closed_day_bars,
        suspected_splits=suspected,
        source_count=source_count,
        last_completed_session=last_completed,
        sessions_behind=behind,
    )


# --- one symbol: the whole block -----------------------------------------------------


@dataclass(frozen=True)
class DataQuality:
    """A symbol's data-quality block: its facts, problems and the details behind them."""

    ticker: str
    facts: QualityFacts
    # The first few missing sessions and bars on closed days (symbol_coverage's).
    missing_dates: list[date]
    closed_dates: list[date]
    suspects: list[SuspectedSplit]
    actions_recorded: int
    latest_action: CorporateAction | None
    actions_available: bool | None
    actions_fetched_at: datetime | None
    bars_by_source: dict[str, int]
    checked_at: datetime

    @property
    def problems(self) -> list[Problem]:
        return self.facts.problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "ok": self.ok,
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "checked_at": self.checked_at.isoformat(timespec="seconds"),
            "first_date": _iso(facts.first_bar),
            "last_date": _iso(facts.last_bar),
            "bars": facts.bar_count,
            "sessions_expected": facts.sessions_expected,
            "sessions_covered": facts.sessions_covered,
            "missing_sessions": facts.missing_sessions,
            "missing_session_dates": [day.isoformat() for day in self.missing_dates],
            "closed_day_bars": facts.closed_day_bars,
            "closed_day_bar_dates": [day.isoformat() for day in self.closed_dates],
            "suspected_splits": [
                {**s.as_dict(), "message": s.describe(self.ticker)}
                for s in self.suspects
            ],
            "actions_recorded": self.actions_recorded,
            "latest_action": _action_dict(self.latest_action),
            "actions_available": self.actions_available,
            "actions_fetched_at": (
                self.actions_fetched_at.isoformat(timespec="seconds")
                if self.actions_fetched_at
                else None
            ),
            "last_completed_session": facts.last_completed_session.isoformat(),
            "sessions_behind": facts.sessions_behind,
            "stale": facts.sessions_behind > 0,
            "sources": [
                {"source": source, "bars": bars}
                for source, bars in sorted(self.bars_by_source.items())
            ],
            "sources_mixed": facts.source_count > 1,
        }


def symbol_data_quality(symbol: Symbol, *, now: datetime) -> DataQuality:
    """The data-quality block of `symbol` as of `now` (an aware datetime).

    Sessions and closed days are core.selectors.symbol_coverage's, so the block and
    the page's coverage line agree; one more read of the bars' opens, closes and
    sources finds suspected splits and sources, one the corporate actions.
    """
    coverage = symbol_coverage(symbol)
    bars = list(
        PriceBar.objects.filter(symbol=symbol)
        .order_by("date")
        .values_list("date", "open", "close", "source")
    )
    actions = list(
        CorporateAction.objects.filter(symbol=symbol).order_by("date", "created_at")
    )
    split_days = [a.date for a in actions if a.kind == CorporateAction.Kind.SPLIT]
    frame = pd.DataFrame(bars, columns=["date", "open", "close", "source"])
    suspects = suspected_splits(frame, split_days)
    sources = Counter(source for _, _, _, source in bars)
    facts = _facts(
        bar_count=coverage.bar_count,
        first_bar=coverage.first_date,
        last_bar=coverage.last_date,
        sessions_expected=coverage.expected_sessions,
        sessions_covered=coverage.covered_sessions,
        closed_day_bars=coverage.closed_day_bars,
        suspected=len(suspects),
        source_count=len(sources),
        last_completed=last_completed_session(now),
    )
    return DataQuality(
        ticker=symbol.ticker,
        facts=facts,
        missing_dates=list(coverage.missing_dates),
        closed_dates=list(coverage.closed_day_dates),
        suspects=suspects,
        actions_recorded=len(actions),
        latest_action=actions[-1] if actions else None,
        actions_available=symbol.actions_available,
        actions_fetched_at=symbol.actions_fetched_at,
        bars_by_source=dict(sources),
        checked_at=now,
    )


def _action_dict(action: CorporateAction | None) -> dict[str, str] | None:
    if action is None:
        return None
    value = (
        action.split_factor
        if action.kind == CorporateAction.Kind.SPLIT
        else action.dividend_amount
    )
    return {
        "kind": action.kind,
        "date": action.date.isoformat(),
        "value": f"{(value or Decimal(0)).normalize():f}",
        "source": action.source,
    }


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


# --- many symbols: the same problems from the figures stored on Symbol ---------------

# The Symbol fields symbol_figures_measured fills (core.services.symbol_figures_refresh
# stores them).
FIGURE_FIELDS = (
    "bar_count",
    "first_bar_date",
    "last_bar_date",
    "last_close",
    "missing_sessions",
    "closed_day_bars",
    "suspected_splits",
    "source_count",
)


def symbols_figures_measured(symbol_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The FIGURE_FIELDS of each of `symbol_ids`, measured on its bars and splits.

    What the writers of bars and splits call for the symbols they wrote: three
    queries whatever the number of symbols, each reading only those symbols' bars
    through the (symbol, date) index: per-symbol counts with the last close, the
    bars whose jump from the previous close could be a split (a window function
    keeps only those), and the recorded splits of the symbols that have such a bar.
    """
    latest = PriceBar.objects.filter(symbol=OuterRef("pk")).order_by("-date")
    rows = (
        Symbol.objects.filter(pk__in=symbol_ids)
        .order_by()
        .annotate(
            counted=Count("bars"),
            first=Min("bars__date"),
            last=Max("bars__date"),
            # Sessions covered are the bars in the calendar's span less those on
            # closed days: the long list of holidays is matched once per bar.
            in_span=Count("bars", filter=_in_span("bars__")),
            closed=Count("bars", filter=_closed_filter("bars__")),
            sources=Count("bars__source", distinct=True),
        )
        .values_list("pk", "counted", "first", "last", "in_span", "closed", "sources")
    )
    closes = dict(
        Symbol.objects.filter(pk__in=symbol_ids)
        .annotate(close=Subquery(latest.values("close")[:1]))
        .values_list("pk", "close")
    )
    suspects = _suspect_counts(
        Symbol.objects.filter(pk__in=symbol_ids).order_by().values("pk")
    )
    index = _session_index()
    return {
        pk: {
            "bar_count": counted,
            "first_bar_date": first,
            "last_bar_date": last,
            "last_close": closes.get(pk),
            "missing_sessions": (
                max(index.count(first, last) - (in_span - closed), 0)
                if first and last
                else 0
            ),
            "closed_day_bars": closed,
            "suspected_splits": suspects.get(pk, 0),
            "source_count": sources,
        }
        for pk, counted, first, last, in_span, closed, sources in rows
    }


def problems_filter(now: datetime) -> Q:
    """Symbols with any of QualityFacts.problems as `now`, as a query on the stored
    figures: the Symbols list's filter, served by the symbol table alone."""
    return (
        Q(bar_count=0)
        | Q(missing_sessions__gt=0)
        | Q(closed_day_bars__gt=0)
        | Q(suspected_splits__gt=0)
        | Q(source_count__gt=1)
        # A bar before the last completed session leaves at least that one behind.
        | Q(last_bar_date__lt=last_completed_session(now))
    )


def symbols_quality_facts(
    symbols: QuerySet[Symbol] | None = None, *, now: datetime
) -> dict[int, QualityFacts]:
    """The QualityFacts of each symbol of `symbols` (all when None), by primary key:
    one query of the symbol table, never of the bars."""
    chosen = Symbol.objects.all() if symbols is None else symbols
    return symbols_facts_of(chosen.order_by().only("pk", *FIGURE_FIELDS), now=now)


def symbols_facts_of(
    symbols: Iterable[Symbol], *, now: datetime
) -> dict[int, QualityFacts]:
    """The QualityFacts of symbols already read, by primary key, with no query.

    The figures are the ones the writers stored (symbols_figures_measured); only
    staleness, which depends on `now`, is decided here.
    """
    last_completed = last_completed_session(now)
    index = _session_index()
    found = {}
    for symbol in symbols:
        first, last = symbol.first_bar_date, symbol.last_bar_date
        expected = index.count(first, last) if first and last else 0
        found[symbol.pk] = _facts(
            bar_count=symbol.bar_count,
            first_bar=first,
            last_bar=last,
            sessions_expected=expected,
            sessions_covered=expected - symbol.missing_sessions,
            closed_day_bars=symbol.closed_day_bars,
            suspected=symbol.suspected_splits,
            source_count=symbol.source_count,
            last_completed=last_completed,
        )
    return found


def _suspect_counts(symbol_ids: QuerySet[Any]) -> dict[int, int]:
    low, high = jump_prefilter()
    close_before = Window(
        Lag("close"), partition_by=[F("symbol_id")], order_by=F("date").asc()
    )
    # Multiplied, not divided: SQLite divides two whole-number prices as integers.
    jumps = list(
        PriceBar.objects.filter(symbol__in=symbol_ids)
        .order_by()  # not the model's (symbol ticker, date): the window orders
        .annotate(close_before=close_before)
        .filter(
            Q(close_before__gte=F("open") * Value(high))
            | Q(close_before__lte=F("open") * Value(low))
        )
        .values_list("symbol_id", "date", "close_before", "open")
    )
    if not jumps:
        return {}
    recorded: dict[int, list[date]] = defaultdict(list)
    for symbol_id, day in CorporateAction.objects.filter(
        kind=CorporateAction.Kind.SPLIT,
        symbol_id__in={symbol_id for symbol_id, _, _, _ in jumps},
    ).values_list("symbol_id", "date"):
        recorded[symbol_id].append(day)
    counts: Counter[int] = Counter()
    for symbol_id, day, before, opened in jumps:
        if split_from_jump(day, before, opened, recorded[symbol_id]) is not None:
            counts[symbol_id] += 1
    return dict(counts)


def symbols_with_problems(
    symbols: QuerySet[Symbol] | None = None, *, now: datetime
) -> dict[int, list[Problem]]:
    """The problems of each symbol of `symbols` (all when None) that has any."""
    found = {}
    for pk, facts in symbols_quality_facts(symbols, now=now).items():
        problems = facts.problems
        if problems:
            found[pk] = problems
    return found
