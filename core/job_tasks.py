"""Which Django-Q2 task runs each kind of Job.

Each app registers the task of its own kinds from its AppConfig.ready(), so core can
queue (and retry) every kind without importing the floors above it.
"""

from __future__ import annotations

_TASKS: dict[str, str] = {}


def job_task_register(*, kind: str, task: str) -> None:
    """Name the task (a dotted path taking a Job id) that runs Jobs of `kind`."""
    registered = _TASKS.setdefault(kind, task)
    if registered != task:
        raise ValueError(f"Job kind {kind!r} is already run by {registered}.")


def job_task_for(kind: str) -> str:
    try:
        return _TASKS[kind]
    except KeyError:
        raise LookupError(f"No task is registered for Job kind {kind!r}.") from None
