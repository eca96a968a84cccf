"""The LOGGING dict: one line per event (JSON or plain), a request id on each, no secret.

No Django import: gunicorn's config file builds its own logging from here before
Django loads (docker/gunicorn.conf.py).
"""

from __future__ import annotations

import logging
import logging.config
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from core.redaction import redact

LOG_FORMATS = ("json", "plain")
NO_REQUEST_ID = "-"

# The id of the request (or the Job) this thread or task is serving right now; the
# filter below copies it onto every record, whichever logger wrote it.
_current_request_id: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST_ID)

# Django's request loggers attach the request object (str() of it shows the query
# string, which may carry a token) and runserver the socket: neither belongs in a line.
_NOT_LOGGED = (*RESERVED_ATTRS, "request", "server_time")
_FIRST_FIELDS = ("time", "level", "logger", "message", "request_id")


def request_id_get() -> str:
    return _current_request_id.get()


def request_id_set(request_id: str) -> None:
    """Name the request being served from here on in this thread (or task)."""
    _current_request_id.set(request_id)


@contextmanager
def request_id_bound(request_id: str) -> Iterator[None]:
    """Log under request_id inside the block; the id before it comes back after."""
    token = _current_request_id.set(request_id)
    try:
        yield
    finally:
        _current_request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Puts the current request id on each record; never drops one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = _current_request_id.get()
        return True


def _redacted(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: _redacted(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, secrets) for item in value]
    if value is None or isinstance(value, bool | int | float | datetime | date):
        return value
    # Anything else is written as its str(), which may hold a secret as well.
    return redact(str(value), secrets)


class JsonLineFormatter(JsonFormatter):
    """One JSON object per record on one line: time, level, logger, message,
    request_id, then the record's extra fields; a traceback is the exc_info string.

    Every string field is redacted here as well as by the handler's RedactingFilter,
    which cleans only the message and the traceback: extra fields are not seen by it.
    """

    def __init__(self, *, secrets: Iterable[str | None] = ()) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=_NOT_LOGGED,
            timestamp="time",
        )
        self.secrets = tuple(secret for secret in secrets if secret)

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and record.exc_text:
            # The RedactingFilter left the cleaned traceback in exc_text; without
            # exc_info the base class writes that copy instead of formatting anew.
            exc_info, record.exc_info = record.exc_info, None
            try:
                return super().format(record)
            finally:
                record.exc_info = exc_info
        return super().format(record)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        if log_data.get("request_id") is None:
            log_data["request_id"] = NO_REQUEST_ID
        ordered = {key: log_data[key] for key in _FIRST_FIELDS if key in log_data}
        ordered.update(log_data)
        return {key: _redacted(value, self.secrets) for key, value in ordered.items()}


def logging_configure(config: dict[str, Any]) -> None:
    """Django's LOGGING_CONFIG: dictConfig, and Python's warnings as log records,
    since a warning printed as it comes spans several lines of plain text."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def logging_config(
    *, log_format: str, level: str, secrets: Iterable[str | None] = ()
) -> dict[str, Any]:
    """The dictConfig for the web processes, the worker and gunicorn alike.

    Every record leaves through the one console handler (stderr), which stamps the
    request id and strips the secrets, whatever logger wrote it.
    """
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be json or plain, not {log_format!r}")
    secrets = [secret for secret in secrets if secret]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "core.log_config.RequestIdFilter"},
            "redact_secrets": {
                "()": "core.redaction.RedactingFilter",
                "secrets": secrets,
            },
        },
        "formatters": {
            "json": {"()": "core.log_config.JsonLineFormatter", "secrets": secrets},
            "plain": {
                "format": (
                    "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
                ),
                "defaults": {"request_id": NO_REQUEST_ID},
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": log_format,
                # In this order: the redaction also cleans what the first one added.
                "filters": ["request_id", "redact_secrets"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
            # runserver's own line per request repeats core.access's (its warnings
            # for 4xx and 5xx answers stay).
            "django.server": {"level": "WARNING"},
            # gunicorn's error log through the same handler; no level here, so
            # GUNICORN_LOG_LEVEL (gunicorn sets it) still decides. Its access log is
            # off: core.access writes one line per request, with the request id.
            "gunicorn.error": {"handlers": ["console"], "propagate": False},
            "gunicorn.access": {
                "handlers": [],
                "level": "WARNING",
                "propagate": False,
            },
            # WeasyPrint narrates every rendering step at INFO.
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }
