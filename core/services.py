"""The only writers of core's models: symbols, their bars, jobs and API tokens."""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, cast

import pandas as pd
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from core.adjustment import Action
from core.data_quality import (
    symbol_suspected_splits,
    symbols_figures_measured,
)
from core.errors import Conflict
from core.job_tasks import job_task_for
from core.market import PRICE_DECIMALS, normalise_ticker
from core.model_rows import columns_of, rows_as
from core.models import (
    ApiToken,
    CorporateAction,
    Job,
    PriceBar,
    Symbol,
    new_data_version,
)
from core.queue_broker import TaskBatch
from core.selectors import symbol_find
from core.sessions import final_daily_bars

logger = logging.getLogger(__name__)

TOKEN_PREFIX = "sdk_"  # noqa: S105 - a public marker, not a secret


# --- Jobs --------------------------------------------------------------------------


Requester = User | AnonymousUser | None


def author_or_none(user: Requester) -> User | None:
    """The user to record as a row's author: nobody for anonymous or absent users."""
    return user if isinstance(user, User) and user.is_authenticated else None


def job_create(
    *,
    kind: str,
    ticker: str,
    symbol: Symbol | None = None,
    parameters: dict[str, Any] | None = None,
    created_by: Requester = None,
) -> Job:
    """A queued Job row, not yet handed to a worker (job_enqueue does both).

    A second fetch of a ticker while one is queued or running is refused by the
    database (IntegrityError, Job.Meta's job_one_active_fetch_per_ticker).
    """
    return Job.objects.create(
        kind=kind,
        ticker=ticker,
        symbol=symbol,
        parameters=parameters or {},
        created_by=author_or_none(created_by),
    )


def _jobs_send(*, jobs: list[Job], kind: str) -> None:
    """Hand committed Jobs to their kind's task: a signed task each, pushed to the
    broker together, and the task ids recorded in one statement.

    On the ORM broker both writes are one transaction, so a worker sees a task only
    once its Job names it.
    """
    task = job_task_for(kind)
    batch = TaskBatch()
    for job in jobs:
        job.task_id = str(
            async_task(
                task, job.pk, task_name=f"{kind}-job-{job.pk}", group=kind, broker=batch
            )
        )
    with transaction.atomic():
        # Every row exists, so this INSERT only updates task_id: one statement whose
        # cost grows with the rows (bulk_update's CASE grows with their square:
        # 0.6 s for 1,000 Jobs on PostgreSQL).
        Job.objects.bulk_create(
            jobs, update_conflicts=True, unique_fields=["id"], update_fields=["task_id"]
        )
        batch.push()


# Kinds whose Job is shared while it is queued or running. A fetch has no
# parameters, so an active one already asks for the very same provider call; the
# other kinds differ in parameters (backtest, predict) or keep every run on purpose
# (train, report), so each request stays its own Job.
_SHARED_WHILE_ACTIVE = frozenset({Job.Kind.FETCH})
_ACTIVE_STATUSES = (Job.Status.QUEUED, Job.Status.RUNNING)
# The active Job can end between a refused insert and the read that looks for it.
_SHARE_ROUNDS = 3


def _job_create_or_active(
    *,
    kind: str,
    ticker: str,
    symbol: Symbol | None,
    parameters: dict[str, Any] | None,
    user: Requester,
) -> tuple[Job, bool]:
    """(the Job to answer with, whether it is new)."""

    def create() -> Job:
        with transaction.atomic():
            return job_create(
                kind=kind,
                ticker=ticker,
                symbol=symbol,
                parameters=parameters,
                created_by=user,
            )

    if kind not in _SHARED_WHILE_ACTIVE:
        return create(), True
    for _ in range(_SHARE_ROUNDS):
        try:
            return create(), True
        except IntegrityError:
            active = Job.objects.filter(
                kind=kind, ticker=ticker, status__in=_ACTIVE_STATUSES
            ).first()
            if active is not None:
                return active, False
    return create(), True


def job_enqueue(
    *,
    kind: str,
    symbol: Symbol | str,
    parameters: dict[str, Any] | None = None,
    user: Requester = None,
) -> Job:
    """Create a queued Job and hand it to its kind's task once the Job is committed.

    `symbol` is a stored Symbol, or the ticker of one that may not exist yet (a first
    fetch). The task is looked up before anything is written, so an unknown kind
    creates no Job. A fetch of a ticker that already has one queued or running is
    answered with that Job, and nothing is queued: the database's unique constraint
    decides, so requests racing in several processes share one Job too.
    """
    job_task_for(kind)
    if isinstance(symbol, str):
        ticker, stored = symbol, symbol_find(symbol)
    else:
        ticker, stored = symbol.ticker, symbol
    job, created = _job_create_or_active(
        kind=kind, ticker=ticker, symbol=stored, parameters=parameters, user=user
    )
    if created:
        transaction.on_commit(lambda: _jobs_send(jobs=[job], kind=kind))
    return job


def jobs_enqueue(
    *,
    kind: str,
    symbols: QuerySet[Symbol],
    parameters: dict[str, Any] | None = None,
    user: Requester = None,
) -> list[Job]:
    """job_enqueue for each of `symbols`, in as many queries for 1,000 as for one.

    One INSERT of the queued Jobs; once committed, one INSERT of their tasks and one
    statement recording their task ids (_jobs_send). Each Job stays its own task, so workers
    share them out, each symbol shows its own state and result on the Jobs page, and
    one that fails leaves the others running. A fetch goes through job_enqueue one
    symbol at a time, to share a fetch of the ticker already queued or running.
    """
    job_task_for(kind)
    selected = list(symbols.values_list("pk", "ticker"))
    if kind in _SHARED_WHILE_ACTIVE:
        return [
            job_enqueue(
                kind=kind,
                symbol=Symbol(pk=pk, ticker=ticker),
                parameters=parameters,
                user=user,
            )
            for pk, ticker in selected
        ]
    author = author_or_none(user)
    with transaction.atomic():
        jobs = Job.objects.bulk_create(
            Job(
                kind=kind,
                ticker=ticker,
                symbol_id=pk,
                parameters=dict(parameters or {}),
                created_by=author,
            )
            for pk, ticker in selected
        )
        transaction.on_commit(lambda: _jobs_send(jobs=jobs, kind=kind))
    return jobs


def job_retry(*, job: Job, user: Requester = None) -> Job:
    """Queue a new Job asking for the same work as `job` (for a fetch, the active
    fetch of its ticker if there is one, as job_enqueue answers)."""
    return job_enqueue(
        kind=job.kind,
        symbol=job.symbol or job.ticker,
        parameters=job.parameters,
        user=user,
    )


@transaction.atomic
def job_start(*, job_id: int, max_attempts: int) -> Job | None:
    """Mark a job running and count the attempt; None if it is already final.

    A re-delivered task calls this again. A final job is left alone, so the work is
    not done twice. One still running lost its worker (the broker hands a task out
    again only when no result came back), so it starts again, up to max_attempts
    starts in all; past those the job fails, and the returned job is final.
    """
    # The author comes with the row, as the task hands it to its service; only the
    # Job's row is locked.
    job = (
        Job.objects.select_related("created_by")
        .select_for_update(of=("self",))
        .filter(pk=job_id)
        .first()
    )
    if job is None or job.is_final:
        return None
    if job.attempts >= max_attempts:
        return job_fail(
            job=job,
            code="worker_lost",
            message=(
                f"The worker stopped during each of the {job.attempts} attempts "
                "(killed, out of memory or shut down), so the job was not started "
                "again. Retry it from the Jobs page."
            ),
        )
    job.status = Job.Status.RUNNING
    # Counted here, not with F(): the row is locked until the commit, and the Job
    # needs no second read.
    job.attempts += 1
    job.started_at = timezone.now()
    job.save(update_fields=["status", "attempts", "started_at"])
    return job


def job_succeed(
    *,
    job: Job,
    result: dict[str, Any] | None = None,
    produced: models.Model | None = None,
    symbol: Symbol | None = None,
) -> Job:
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.result = result or {}
    job.error = ""
    job.error_code = ""
    if symbol is not None:
        job.symbol = symbol
    if produced is not None:
        job.result_type = ContentType.objects.get_for_model(produced)
        job.result_id = produced.pk
    job.save(
        update_fields=[
            "status",
            "finished_at",
            "result",
            "error",
            "error_code",
            "symbol",
            "result_type",
            "result_id",
        ]
    )
    return job


def _job_failed_log(*, job_id: int, kind: str, error_code: str) -> None:
    """The `job_failed` event. A CloudWatch metric filter on the worker's logs,
    { $.event = "job_failed" }, counts these lines for an alarm: the field names and
    the value are a contract (docs/observability.md)."""
    logger.warning(
        "Job %s (%s) failed: %s",
        job_id,
        kind,
        error_code,
        extra={
            "event": "job_failed",
            "job_id": job_id,
            "kind": kind,
            "error_code": error_code,
        },
    )


def job_fail(*, job: Job, message: str, code: str = "error") -> Job:
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.error = message
    job.error_code = code
    job.save(update_fields=["status", "finished_at", "error", "error_code"])
    _job_failed_log(job_id=job.pk, kind=job.kind, error_code=code)
    return job


# --- API tokens --------------------------------------------------------------------


def _hash_key(raw_key: str) -> str:
    # A random 256-bit key needs no slow hash: guessing it is hopeless anyway.
    return hashlib.sha256(raw_key.encode()).hexdigest()


LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw_key: str


def api_token_create(*, user: User, name: str) -> NewToken:
    """Create a token; the raw key is returned here once and never stored."""
    raw_key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw_key[:12], key_hash=_hash_key(raw_key)
    )
    return NewToken(token=token, raw_key=raw_key)


def api_token_authenticate(*, raw_key: str) -> User | None:
    """The active owner of an unrevoked token with this raw key, or None.

    One query reads the token and its user (raw SQL, core.model_rows: the ORM's
    compiling of the joined look-up took as long as the query itself, on every API
    request).
    """
    now = timezone.now()
    last_used = ApiToken._meta.get_field("last_used_at")
    owners = rows_as(
        User,
        _token_owner_sql(),
        [
            # "Last used" to the minute: a write per request was a tenth of a
            # backtest's time, and a busy token would also serialise its requests
            # on that row.
            last_used.get_db_prep_value(now - LAST_USED_PRECISION, connection),
            _hash_key(raw_key),
        ],
    )
    if not owners:
        return None
    user, (token_id, stale) = owners[0]
    if stale:
        ApiToken.objects.filter(pk=token_id).filter(
            Q(last_used_at__isnull=True)
            | Q(last_used_at__lte=now - LAST_USED_PRECISION)
        ).update(last_used_at=now)
    return user


@functools.cache
def _token_owner_sql() -> str:
    users, tokens = User._meta.db_table, ApiToken._meta.db_table
    return f"""
        SELECT {columns_of(User, "u")}, t.id,
            (t.last_used_at IS NULL OR t.last_used_at <= %s)
        FROM {users} u JOIN {tokens} t ON t.user_id = u.id
        WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active
    """  # noqa: S608 - names from the models, values as parameters


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- Symbols and their bars ---------------------------------------------------------

_PRICE_STEP = Decimal("0.0001")
_BAR_FIELDS = ("open", "high", "low", "close", "volume", "source")


def symbol_save(*, symbol: Symbol) -> Symbol:
    """Save a symbol edited by staff, with its ticker normalised and checked.

    Only the fields staff may edit are written: the figures of its bars and its
    data_version (editable=False, owned by the writers of bars) stay as stored, since
    a write of bars may have changed them since the form was read, and an old
    version would let processes answer from bars they read before that write.
    """
    symbol.ticker = normalise_ticker(symbol.ticker)
    symbol.full_clean()
    if symbol.pk is None:
        symbol.save()
        return symbol
    edited = [
        field.name
        for field in Symbol._meta.concrete_fields
        if field.editable and not field.primary_key
    ]
    symbol.save(update_fields=edited)
    return symbol


def symbol_figures_refresh(*, symbol_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Store the figures of these symbols' bars on each Symbol (bar count, first and
    last day, last close, data-quality counts), measured now from the bars.

    Every writer of bars or splits calls it for the symbols it wrote, in its own
    transaction, so the Symbols list and the dashboard read one row per symbol and
    never aggregate bars. Four small queries plus one UPDATE per symbol, each
    through the (symbol, date) index. Each symbol gets a new data_version too (what
    was read of its bars before is not used again). Returns the figures stored, by
    symbol.
    """
    ids = sorted(set(symbol_ids))
    if not ids:
        return {}
    measured = symbols_figures_measured(ids)
    for pk, figures in measured.items():
        figures["data_version"] = new_data_version()
        Symbol.objects.filter(pk=pk).update(**figures)
    return measured


def _data_version_change(*, symbol: Symbol) -> None:
    """A new Symbol.data_version, on the row and on the caller's object, for a write
    that changes no figure (a dividend)."""
    symbol.data_version = new_data_version()
    Symbol.objects.filter(pk=symbol.pk).update(data_version=symbol.data_version)


def symbol_get_or_create(*, ticker: str, name: str = "") -> Symbol:
    """The Symbol of a ticker, created (with `name`) when it is not stored yet."""
    symbol, _ = Symbol.objects.get_or_create(
        ticker=normalise_ticker(ticker), defaults={"name": name}
    )
    return symbol


def scale_symbols_ensure(*, tickers: list[str], name: str) -> list[Symbol]:
    """The Symbols of generated sample tickers, created where missing, in the order
    given. Off the watchlist: the nightly refresh must not ask the provider for
    tickers that only exist here."""
    Symbol.objects.bulk_create(
        [Symbol(ticker=ticker, name=name, is_active=False) for ticker in tickers],
        ignore_conflicts=True,
    )
    stored = {
        symbol.ticker: symbol for symbol in Symbol.objects.filter(ticker__in=tickers)
    }
    return [stored[ticker] for ticker in tickers]


def scale_symbols_delete(*, ticker_regex: str) -> int:
    """Delete the generated sample symbols (their bars and figures go with them: no
    other symbol's figures change); how many."""
    _, by_model = Symbol.objects.filter(ticker__regex=ticker_regex).delete()
    return by_model.get(Symbol._meta.label, 0)


def symbol_mark_fetched(*, symbol: Symbol) -> Symbol:
    symbol.last_fetched_at = timezone.now()
    symbol.save(update_fields=["last_fetched_at"])
    return symbol


def _price(value: Any) -> Decimal:
    return Decimal(value).quantize(_PRICE_STEP, rounding=ROUND_HALF_EVEN)


def _bar_values(row: Any) -> tuple[Decimal, Decimal, Decimal, Decimal, int]:
    return (
        _price(row.open),
        _price(row.high),
        _price(row.low),
        _price(row.close),
        int(row.volume),
    )


def prices_upsert(
    *,
    symbol: Symbol,
    bars: pd.DataFrame,
    source: str,
    now: datetime | None = None,
    refresh_figures: bool = True,
) -> tuple[int, int]:
    """Insert new days and update changed ones; returns (inserted, updated).

    The one way bars are written, by fetches, file imports and generate_scale_data
    alike. Prices are rounded to the 4 stored decimals first. An unchanged day is
    not written at all (its row keeps its version: no dead tuple, no WAL), so a
    re-fetch of the same data reports 0 inserted, 0 updated; the rest of the days
    given are unchanged. Bars of sessions not closed at `now` (default: the current
    time) are not stored (core.sessions.final_daily_bars): today's bar before the
    close is intraday. The write is INSERT ... ON CONFLICT DO UPDATE, so a bar that
    appeared meanwhile is updated instead of failing; the table's CHECK constraints
    refuse bad bars (IntegrityError, which the caller turns into its own message).

    When anything was written the symbol's figures are refreshed in the same
    transaction (symbol_figures_refresh); refresh_figures=False leaves that to a
    caller writing many small pieces (a file import, once at its end).
    """
    bars, _ = final_daily_bars(bars, now or timezone.now())
    if bars.empty:
        return 0, 0
    if pd.api.types.is_datetime64_any_dtype(bars["date"]):
        bars = bars.assign(date=bars["date"].dt.date)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            written = _prices_copy_upsert(symbol_id=symbol.pk, bars=bars, source=source)
        else:
            written = _prices_orm_upsert(symbol=symbol, bars=bars, source=source)
        if refresh_figures and any(written):
            stored = symbol_figures_refresh(symbol_ids=[symbol.pk])
            # Onto the caller's object too: a later save of it keeps them.
            for name, value in stored.get(symbol.pk, {}).items():
                setattr(symbol, name, value)
    return written


def price_bars_delete(*, bars: models.QuerySet[PriceBar]) -> int:
    """Delete these bars and refresh their symbols' figures; how many were deleted."""
    with transaction.atomic():
        symbol_ids = set(bars.values_list("symbol_id", flat=True).distinct())
        count, _ = bars.delete()
        symbol_figures_refresh(symbol_ids=symbol_ids)
    return count


def corporate_actions_delete(*, actions: models.QuerySet[CorporateAction]) -> int:
    """Delete these splits and dividends and refresh their symbols' figures (a
    deleted split makes its jump a suspected split again); how many."""
    with transaction.atomic():
        symbol_ids = set(actions.values_list("symbol_id", flat=True).distinct())
        count, _ = actions.delete()
        symbol_figures_refresh(symbol_ids=symbol_ids)
    return count


def _rounded(values: list[Any]) -> list[Decimal] | list[str]:
    """Prices at 4 decimals, as _price rounds them, for COPY: Decimals or text."""
    # The types seen most, each its fastest way (this is most of the Python work of
    # a write). Providers give Decimals: the unbound method costs half of _price.
    if all(type(value) is Decimal for value in values):
        quantize = Decimal.quantize
        return [quantize(value, _PRICE_STEP, ROUND_HALF_EVEN) for value in values]
    # Generated bars give floats. round() rounds a float's exact binary value, as
    # Decimal(value).quantize does, and no float is exactly halfway between two
    # 4-decimal numbers; repr() then gives those decimals as text, five times
    # faster than through a Decimal.
    if all(type(value) is float and math.isfinite(value) for value in values):
        return [repr(round(value, PRICE_DECIMALS)) for value in values]
    return [_price(value) for value in values]


def _rounded_columns(bars: pd.DataFrame) -> list[list[Any]]:
    """The frame's columns as stored: dates, 4-decimal prices, integer volumes."""
    return [
        bars["date"].tolist(),
        *(_rounded(bars[name].tolist()) for name in _PRICE_COLUMNS),
        [int(value) for value in bars["volume"].tolist()],
    ]


_PRICE_COLUMNS = ("open", "high", "low", "close")
_STAGING = "core_pricebar_staging"
# Rows of one write, copied in and read by one INSERT: emptied by the commit of the
# transaction that filled it, and by the writer itself when that transaction goes
# on (a fetch's or an import's), so the next write of the same transaction starts
# from an empty table.
_STAGING_CREATE = f"""
CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} (
    date date NOT NULL, open numeric, high numeric, low numeric, close numeric,
    volume bigint
) ON COMMIT DELETE ROWS
"""
# An unchanged day fails the WHERE: it is neither updated nor returned. A new row's
# xmax is 0; an updated one carries the locking transaction's id.
_STAGED_UPSERT = """
WITH written AS (
    INSERT INTO {table} AS bar
        (symbol_id, date, open, high, low, close, volume, source)
    SELECT %s, date, open, high, low, close, volume, %s FROM {staging}
    ON CONFLICT (symbol_id, date) DO UPDATE SET
        open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low,
        close = EXCLUDED.close, volume = EXCLUDED.volume, source = EXCLUDED.source
    WHERE (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.source)
        IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low,
                          EXCLUDED.close, EXCLUDED.volume, EXCLUDED.source)
    RETURNING xmax = 0 AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
FROM written
"""


def _prices_copy_upsert(
    *, symbol_id: int, bars: pd.DataFrame, source: str
) -> tuple[int, int]:
    """PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT.

    COPY is PostgreSQL's fastest way in; the one statement after it decides insert,
    update or nothing per day on the table's (symbol, date) index.
    """
    columns = _rounded_columns(bars)
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_STAGING_CREATE)
        with cursor.copy(
            f"COPY {_STAGING} (date, open, high, low, close, volume) FROM STDIN"
        ) as copy:
            for row in zip(*columns, strict=True):
                copy.write_row(row)
        cursor.execute(
            _STAGED_UPSERT.format(table=PriceBar._meta.db_table, staging=_STAGING),
            [symbol_id, source],
        )
        inserted, updated = cursor.fetchone()
        if nested:
            cursor.execute(f"TRUNCATE {_STAGING}")
    return int(inserted), int(updated)


def _prices_orm_upsert(
    *, symbol: Symbol, bars: pd.DataFrame, source: str
) -> tuple[int, int]:
    """Other databases (SQLite): the stored days read first, only new and changed
    ones written."""
    existing = {
        bar.date: ((bar.open, bar.high, bar.low, bar.close, bar.volume), bar.source)
        for bar in PriceBar.objects.filter(
            symbol=symbol, date__gte=bars["date"].min(), date__lte=bars["date"].max()
        )
    }
    to_write: list[PriceBar] = []
    inserted = updated = 0
    for row in bars.itertuples(index=False):
        day = cast(date, row.date)
        values = _bar_values(row)
        before = existing.get(day)
        if before is None:
            inserted += 1
        elif before != (values, source):
            updated += 1
        else:
            continue
        opened, high, low, close, volume = values
        to_write.append(
            PriceBar(
                symbol=symbol,
                date=day,
                open=opened,
                high=high,
                low=low,
                close=close,
                volume=volume,
                source=source,
            )
        )
    # In a savepoint, as on PostgreSQL: a refused write leaves the caller's
    # transaction usable.
    with transaction.atomic():
        PriceBar.objects.bulk_create(
            to_write,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["symbol", "date"],
            update_fields=list(_BAR_FIELDS),
        )
    return inserted, updated


def jobs_sweep_stuck(*, running_for: timedelta, queued_for: timedelta) -> int:
    """Fail Jobs a dead worker left behind, so every Job ends in a final state.

    A Job still running after `running_for` outlived every task timeout and retry;
    one still queued after `queued_for` was never picked up. Returns how many.
    """
    now = timezone.now()
    stuck = Job.objects.filter(
        Q(status=Job.Status.RUNNING, started_at__lt=now - running_for)
        | Q(status=Job.Status.QUEUED, created_at__lt=now - queued_for)
    )
    # Locked while they are failed, so the events logged are for exactly these.
    with transaction.atomic():
        failed = list(stuck.select_for_update().values_list("pk", "kind"))
        count = stuck.update(
            status=Job.Status.FAILED,
            finished_at=now,
            error_code="stuck",
            error=(
                "No result: the worker stopped before finishing, or no worker picked "
                "the job up. Retry it from the Jobs page."
            ),
        )
    for job_id, kind in failed:
        _job_failed_log(job_id=job_id, kind=kind, error_code="stuck")
    return count


# --- Corporate actions ---------------------------------------------------------------


_ACTION_STEP = Decimal("0.000001")
# Sources whose rows a provider's answer does not overwrite: what staff recorded.
_STAFF_SOURCES = frozenset(
    {CorporateAction.Source.IMPORT, CorporateAction.Source.CONFIRMED}
)


def _action_values(action: Action) -> tuple[Decimal | None, Decimal | None]:
    """(split_factor, dividend_amount) at the 6 stored decimals."""
    value = Decimal(action.value).quantize(_ACTION_STEP, rounding=ROUND_HALF_EVEN)
    if action.kind == CorporateAction.Kind.SPLIT:
        return value, None
    return None, value


@dataclass(frozen=True)
class ActionsWritten:
    inserted: int
    updated: int
    # Rows staff recorded (import, confirmed) that the answer would have changed.
    kept: int


def corporate_actions_upsert(
    *,
    symbol: Symbol,
    actions: Iterable[Action],
    source: str,
    keep_staff_rows: bool = False,
) -> ActionsWritten:
    """Insert new splits and dividends and update changed ones, keyed on (symbol,
    kind, date): the value and source given replace the stored ones.

    Fetches (keep_staff_rows=True) leave a row staff imported or confirmed as it
    is; a file import is staff's word and replaces any. An unchanged action is not
    written, and actions no longer listed stay stored. The table's check constraint
    refuses a value that does not fit its kind (IntegrityError, which the caller
    turns into its own message).
    """
    wanted = {(action.kind, action.day): _action_values(action) for action in actions}
    if not wanted:
        return ActionsWritten(0, 0, 0)
    existing = {
        (row.kind, row.date): ((row.split_factor, row.dividend_amount), row.source)
        for row in CorporateAction.objects.filter(
            symbol=symbol, date__in={day for _, day in wanted}
        )
    }
    to_write: list[CorporateAction] = []
    inserted = updated = kept = 0
    for (kind, day), values in sorted(wanted.items(), key=lambda item: item[0][1]):
        before = existing.get((kind, day))
        if before is None:
            inserted += 1
        elif before == (values, source):
            continue
        elif keep_staff_rows and before[1] in _STAFF_SOURCES:
            kept += before[0] != values
            continue
        else:
            updated += 1
        factor, amount = values
        to_write.append(
            CorporateAction(
                symbol=symbol,
                kind=kind,
                date=day,
                split_factor=factor,
                dividend_amount=amount,
                source=source,
            )
        )
    with transaction.atomic():
        CorporateAction.objects.bulk_create(
            to_write,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["symbol", "kind", "date"],
            update_fields=["split_factor", "dividend_amount", "source"],
        )
        if any(action.kind == CorporateAction.Kind.SPLIT for action in to_write):
            # A recorded split is no longer a suspected one.
            stored = symbol_figures_refresh(symbol_ids=[symbol.pk])
            symbol.data_version = stored[symbol.pk]["data_version"]
        elif to_write:
            _data_version_change(symbol=symbol)
    return ActionsWritten(inserted, updated, kept)


def symbol_mark_actions_fetched(
    *, symbol: Symbol, available: bool, at: datetime | None = None
) -> Symbol:
    """Record that the provider was asked for the symbol's actions, and whether it
    answered (False: they are missing, so jumps like a split are only suspected)."""
    symbol.actions_fetched_at = at or timezone.now()
    symbol.actions_available = available
    symbol.save(update_fields=["actions_fetched_at", "actions_available"])
    return symbol


@transaction.atomic
def corporate_actions_store(
    *, symbol: Symbol, actions: Iterable[Action], source: str
) -> ActionsWritten:
    """A provider's answer in one transaction: its actions upserted (staff's rows
    kept), and the symbol marked as asked now, with its actions available."""
    written = corporate_actions_upsert(
        symbol=symbol, actions=actions, source=source, keep_staff_rows=True
    )
    symbol_mark_actions_fetched(symbol=symbol, available=True)
    return written


# --- Suspected splits, confirmed by staff ---------------------------------------------

# CorporateAction.split_factor's six decimals: 1/3 is stored as 0.333333.
_SPLIT_FACTOR_STEP = Decimal("0.000001")


def suspected_split_confirm(
    *, symbol: Symbol, day: date, user: Requester = None
) -> CorporateAction:
    """Record the suspected split of `symbol` on `day` as a split staff confirmed.

    The factor stored is the one detected (core.split_detection), read again now, so
    what is recorded is the jump the prices show, not a number typed in a form. A day
    with no suspected split left (confirmed meanwhile, or the bars changed) is a
    Conflict, and nothing is stored.
    """
    suspect = next((s for s in symbol_suspected_splits(symbol) if s.day == day), None)
    if suspect is None:
        raise Conflict(
            f"{symbol.ticker} has no suspected split on {day.isoformat()} to confirm: "
            "it was confirmed or recorded meanwhile, or the prices changed.",
            code="no_suspected_split",
            details={"symbol": symbol.ticker, "date": day.isoformat()},
        )
    try:
        with transaction.atomic():
            action = CorporateAction.objects.create(
                symbol=symbol,
                kind=CorporateAction.Kind.SPLIT,
                date=day,
                split_factor=suspect.factor.quantize(_SPLIT_FACTOR_STEP),
                source=CorporateAction.Source.CONFIRMED,
            )
            symbol_figures_refresh(symbol_ids=[symbol.pk])
    except IntegrityError:
        # Another request recorded a split of that day between the read and the write.
        raise Conflict(
            f"{symbol.ticker} already has a split recorded on {day.isoformat()}.",
            code="split_already_recorded",
            details={"symbol": symbol.ticker, "date": day.isoformat()},
        ) from None
    logger.info(
        "suspected split confirmed",
        extra={
            "event": "split_confirmed",
            "symbol": symbol.ticker,
            "date": day.isoformat(),
            "split_factor": str(action.split_factor),
            "user_id": getattr(author_or_none(user), "pk", None),
        },
    )
    return action
