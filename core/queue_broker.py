"""Django-Q2's ORM broker, plus a heartbeat file for the worker's health check."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django_q.brokers.orm import ORM

logger = logging.getLogger(__name__)


class HeartbeatORM(ORM):
    """The ORM broker; while the cluster runs it also touches Q_HEARTBEAT_FILE.

    The cluster's guard loop (the process that restarts dead workers) saves its status
    through the broker every half second. Touching a file there, every few seconds,
    lets a health check see that the cluster still runs from the file's age alone,
    without loading Django (docker/healthcheck.py).
    """

    BEAT_EVERY_SECONDS = 5.0
    # A class default: the broker is pickled into the cluster's processes, and
    # Django-Q2's __setstate__ restores only its own attributes.
    _last_beat = float("-inf")

    def set_stat(self, key: str, value: str, timeout: int) -> object:
        self._beat()
        return super().set_stat(key, value, timeout)

    def _beat(self) -> None:
        path = settings.Q_HEARTBEAT_FILE
        now = time.monotonic()
        if not path or now - self._last_beat < self.BEAT_EVERY_SECONDS:
            return
        self._last_beat = now
        try:
            Path(path).touch()
        except OSError as exc:
            logger.warning("Cannot touch the cluster heartbeat file %s: %s", path, exc)
