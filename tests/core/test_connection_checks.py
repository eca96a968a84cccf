"""A reused PostgreSQL connection is checked after an idle spell only
(core.postgresql): no SELECT 1 on a connection used a moment ago, and a connection
the server dropped while it sat idle is replaced before it is used."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.db import connection

from core.postgresql import base as backend

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the PostgreSQL backend's check"
    ),
]


def _server_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _next_request() -> None:
    # What Django does when a request starts: the check is due again.
    connection.close_if_unusable_or_obsolete()


@pytest.fixture
def checks(monkeypatch):
    made = []
    is_usable = connection.is_usable

    def counted() -> bool:
        made.append(True)
        return is_usable()

    monkeypatch.setattr(connection, "is_usable", counted)
    return made


def test_a_connection_used_a_moment_ago_is_not_checked(checks):
    first = _server_pid()
    _next_request()

    assert _server_pid() == first
    assert checks == []


def test_a_connection_dropped_while_idle_is_replaced_before_use(checks):
    first = _server_pid()
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [first])
    _next_request()
    connection.last_used_at = time.monotonic() - backend.CHECK_AFTER_IDLE_S - 1

    second = _server_pid()  # no error: checked, found closed, connected again

    assert checks == [True]
    assert second != first
