"""A new run and its trades written as rows: in one statement on PostgreSQL, through
the ORM elsewhere.

On PostgreSQL the run, its trades and the commit are one round trip (a statement in
autocommit is its own transaction), where the ORM's create, bulk_create and the
transaction around them took five: together they were about a fifth of a fresh
/backtest/ answer. The run's values are prepared by the model's own fields, and the
trades' are of their fields' types already, so the rows are the ones the ORM would
write.
"""

from __future__ import annotations

import functools
from typing import Any, Self

import psycopg
from django.db import IntegrityError, connection, transaction
from django.db.models import Field, Model

from backtesting.models import BACKTEST_INPUTS, BacktestRun, Trade

# A run's columns and a trade's, but the primary keys (the database's) and the
# trade's run (the new run's id, known only inside the statement).
_RUN_FIELDS = tuple(f for f in BacktestRun._meta.concrete_fields if not f.primary_key)
_TRADE_FIELDS = tuple(
    f for f in Trade._meta.concrete_fields if not f.primary_key and f.name != "run"
)


def run_rows_insert(run: BacktestRun, trades: list[Trade]) -> bool:
    """Insert `run` and `trades` (numbered, of that run), setting their primary keys.

    The trades' values must be of their fields' types (their prices Decimals at
    the fields' places), as backtesting.services.runs makes them.

    False, and nothing written, when a run of the same inputs is stored already
    (backtest_inputs_unique): the caller answers that one.
    """
    if connection.vendor == "postgresql":
        return _in_one_statement(run, trades)
    try:
        with transaction.atomic():
            run.save(force_insert=True)
            Trade.objects.bulk_create(trades)
    except IntegrityError:
        if BacktestRun.objects.filter(**_inputs(run)).exists():
            return False
        raise
    return True


def _inputs(run: BacktestRun) -> dict[str, Any]:
    return {name: getattr(run, name) for name in BACKTEST_INPUTS}


def _prepared(instance: Model, fields: tuple[Field[Any, Any], ...]) -> list[Any]:
    return [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection)
        for field in fields
    ]


def _in_one_statement(run: BacktestRun, trades: list[Trade]) -> bool:
    # A trade's values are the Python types of its fields already (date, Decimal
    # at the field's places, int, float, bool), which psycopg writes as they are:
    # preparing each one through its field took a tenth of a new run's time.
    columns = [[getattr(trade, f.attname) for trade in trades] for f in _TRADE_FIELDS]
    with connection.cursor() as opened:  # connected and checked as for any query
        # Bound on the server: the curve (tens of kB) goes as binary, where the
        # client-side binding of Django's cursors spells it out in hex in the text
        # of the statement, which the server then parses (0.8 ms of 1.2 here).
        # Prepared, but while Django logs queries (DEBUG, tests counting them): psycopg
        # keeps no text of a prepared statement's execution for the log to show.
        logged = connection.queries_logged
        bound = _ServerBound(opened.cursor.connection, prepare=not logged)
        wrap = connection.make_debug_cursor if logged else connection.make_cursor
        with wrap(bound) as cursor:  # type: ignore[arg-type] # stubs: a wrapper only
            cursor.execute(_statement(), [*_prepared(run, _RUN_FIELDS), *columns])
            stored = cursor.fetchone()
    if stored is None:
        return False
    run.pk, trade_ids = stored
    _mark_saved(run)
    for trade, pk in zip(trades, trade_ids, strict=True):
        trade.pk, trade.run = pk, run
        _mark_saved(trade)
    return True


class _ServerBound(psycopg.Cursor[Any]):
    """A server-bound cursor whose statements are prepared on their connection, or
    never (prepare=False): prepared, a statement is parsed and planned once, then
    only bound and executed, which took this one from 0.86 ms to 0.56.

    Django leaves psycopg's automatic preparation off (prepare_threshold None), for
    poolers in transaction mode that hand each transaction another server session;
    the deployment connects straight to the database (docs/deploy.md).
    """

    def __init__(self, connection: psycopg.Connection[Any], *, prepare: bool) -> None:
        super().__init__(connection)
        self._prepare = prepare

    def execute(
        self,
        query: Any,
        params: Any = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        return super().execute(query, params, prepare=self._prepare, binary=binary)


def _mark_saved(instance: Model) -> None:
    instance._state.adding = False
    instance._state.db = connection.alias


@functools.cache
def _statement() -> str:
    """The run inserted unless stored already, its trades from one array per column,
    the new ids answered (no row: stored already).

    The commit does not wait for its WAL to reach the disk (synchronous_commit off
    for this transaction only, as SET LOCAL would in a transaction block): the flush
    was about 5 ms of a fresh answer. A crash may lose the runs of the last fraction
    of a second, never corrupt or half-write one, and a lost run is recomputed from
    the same bars by the same request (DESIGN §10).
    """
    quote = connection.ops.quote_name
    run_table, trade_table = BacktestRun._meta.db_table, Trade._meta.db_table
    run_columns = ", ".join(quote(f.column) for f in _RUN_FIELDS)
    trade_columns = ", ".join(quote(f.column) for f in _TRADE_FIELDS)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in _TRADE_FIELDS)
    values = ", ".join("%s" for _ in _RUN_FIELDS)
    run_id = quote(Trade._meta.get_field("run").column)
    pk = quote(Trade._meta.pk.column)
    number = quote(Trade._meta.get_field("number").column)
    return f"""
        WITH fast_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
        new_run AS (
            INSERT INTO {quote(run_table)} ({run_columns}) VALUES ({values})
            ON CONFLICT DO NOTHING RETURNING {quote(BacktestRun._meta.pk.column)} AS id
        ),
        new_trades AS (
            INSERT INTO {quote(trade_table)} ({run_id}, {trade_columns})
            SELECT new_run.id, t.* FROM new_run CROSS JOIN unnest({arrays}) AS t
            RETURNING {pk} AS id, {number} AS number
        )
        SELECT new_run.id, ARRAY(SELECT id FROM new_trades ORDER BY number)
        FROM new_run CROSS JOIN fast_commit
    """  # noqa: S608 - names from the models, values as parameters
