"""Django's PostgreSQL backend, checking a reused connection only after it sat idle.

With CONN_HEALTH_CHECKS, Django sends SELECT 1 before the first query of every
request that reuses a persistent connection: a round trip on every API call, a
tenth of an authenticated answer. What the check is for (a server restart or
fail-over, a connection cut by the network) strikes a connection while it waits;
one that served a query a moment ago is used as it is. Should that query have
found it broken, Django closed it at the end of that request (errors_occurred), so
the next request connects again either way.
"""

from __future__ import annotations

import time
from typing import Any

from django.db.backends.postgresql import base

# A connection idle this long is checked before its next use.
CHECK_AFTER_IDLE_S = 5.0


class DatabaseWrapper(base.DatabaseWrapper):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_used_at: float | None = None  # time.monotonic() of the last cursor

    def close_if_health_check_failed(self) -> None:
        now = time.monotonic()
        if (
            self.connection is not None
            and self.last_used_at is not None
            and now - self.last_used_at < CHECK_AFTER_IDLE_S
        ):
            self.health_check_done = True
        super().close_if_health_check_failed()
        self.last_used_at = now
