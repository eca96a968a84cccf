"""Removes secrets from text before it reaches a log, an error, a Job or a response."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "[REDACTED]"

# Query strings carry the key as apikey=...; one provider message echoes it in prose.
_QUERY_KEY = re.compile(r"(apikey=)[^&\s'\"]+", re.IGNORECASE)
# A lower-case word is the provider's own prose ("the API key as invalid or missing",
# in a message of ours), not a key: keys are upper-case letters and digits.
_ECHOED_KEY = re.compile(r"((?i:API key as) )(?![a-z]+\b)\S+?(?=\s|$|[.,;])")


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Return text with every given secret and every key-shaped fragment replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _QUERY_KEY.sub(rf"\1{REDACTED}", text)
    return _ECHOED_KEY.sub(rf"\1{REDACTED}", text)


def redacted_excerpt(text: str, limit: int, secrets: Iterable[str | None] = ()) -> str:
    """The first `limit` characters of text, secrets removed.

    The whole text is redacted before it is cut: a secret that straddles the cut
    would otherwise be half kept and no longer match, so its first characters leak.
    """
    return redact(text, secrets)[:limit]


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with secrets removed; never drops a record."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Exception texts from HTTP clients contain the request URL; formatters
            # print exc_text when it is set, so the cleaned copy is what gets out.
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self.secrets
            )
        return True
