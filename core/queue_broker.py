"""Django-Q2's ORM broker, plus a heartbeat file for the worker's health check and
a batch that pushes many tasks in one write."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django_q.brokers import Broker, get_broker
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

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

    def enqueue_many(self, packages: list[str]) -> None:
        """ORM.enqueue of many signed task packages, in one INSERT."""
        now = timezone.now()
        key = self.list_key or Conf.CLUSTER_NAME
        self.get_connection().bulk_create(
            OrmQ(key=key, payload=package, lock=now) for package in packages
        )

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


class TaskBatch(Broker):
    """A broker for `async_task(..., broker=batch)` that keeps the tasks for push().

    async_task builds, signs and logs each task as it does for any broker (or, in
    sync mode, runs it at once and leaves nothing here); push() then hands all the
    packages to the configured broker together: one INSERT on the ORM broker instead
    of one per task, the rest one by one through their own enqueue.
    """

    def __init__(self) -> None:
        self.target = get_broker()
        super().__init__(list_key=self.target.list_key)
        self.packages: list[str] = []

    def enqueue(self, task: str) -> int:
        self.packages.append(task)
        return len(self.packages)

    def push(self) -> None:
        enqueue_many = getattr(self.target, "enqueue_many", None)
        if enqueue_many is not None:
            if self.packages:
                enqueue_many(self.packages)
        else:
            for package in self.packages:
                self.target.enqueue(package)
        self.packages = []
