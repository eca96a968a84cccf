"""Model instances from raw SQL, without the per-query set-up of QuerySet.raw().

raw() works out on every query which column is which field and how each value is
converted: a fifth of a short query's time here, on each of the three reads every
backtest request makes (the token, the symbols, the stored run). Here that is done
once per model and connection, for a SELECT of the model's own columns in field
order (`columns_of`) and any further columns after them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

type _Converters = tuple[tuple[int, tuple[Callable[..., Any], ...], Any], ...]


def columns_of(model: type[Model], table: str | None = None) -> str:
    """The model's columns in field order, for a SELECT list; `table` qualifies them."""
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    prefix = f"{quote(table)}." if table else ""
    return ", ".join(prefix + quote(f.column) for f in model._meta.concrete_fields)


@functools.lru_cache(maxsize=64)
def _plan(model: type[Model], db: BaseDatabaseWrapper) -> tuple[list[str], _Converters]:
    """The model's attribute names in field order, and what the ORM converts each
    column's value with on this database (as SQLCompiler.get_converters), by
    position."""
    fields = model._meta.concrete_fields
    converters = []
    for position, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = db.ops.get_db_converters(column) + column.get_db_converters(db)
        if found:
            converters.append((position, tuple(found), column))
    return [f.attname for f in fields], tuple(converters)


def rows_as[M: Model](
    model: type[M], sql: str, params: Sequence[Any]
) -> list[tuple[M, tuple[Any, ...]]]:
    """Each row of `sql`, which selects columns_of(model) first, as (the instance,
    the row's further columns as the driver answers them)."""
    db = connections[DEFAULT_DB_ALIAS]
    width = len(model._meta.concrete_fields)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(_instance(model, db, row[:width]), tuple(row[width:])) for row in rows]


def instance_from[M: Model](model: type[M], values: Sequence[Any]) -> M:
    """The instance of a row's columns_of(model) values, as the driver answered
    them (rows_as's further columns, when they are another model's)."""
    return _instance(model, connections[DEFAULT_DB_ALIAS], values)


def _instance[M: Model](
    model: type[M], db: BaseDatabaseWrapper, row: Sequence[Any]
) -> M:
    names, converters = _plan(model, db)
    values = list(row[: len(names)])
    for position, convert, column in converters:
        value = values[position]
        for converter in convert:
            value = converter(value, column, db)
        values[position] = value
    return model.from_db(db.alias, names, values)
