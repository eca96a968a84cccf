"""Error reporting to Sentry, only when SENTRY_DSN is set, and never with a secret in it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from core.log_config import NO_REQUEST_ID, request_id_get
from core.redaction import REDACTED, redact

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

# Names whose values are credentials wherever they appear in an event: request
# headers (Django's META spells them HTTP_...), cookies, frame variables.
_CREDENTIAL_NAMES = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "http_authorization",
        "http_proxy_authorization",
        "x-api-key",
        "http_x_api_key",
        "cookie",
        "http_cookie",
        "set-cookie",
    }
)
# StockDesk API tokens (core.services.TOKEN_PREFIX and token_urlsafe(32)), wherever
# one was pasted: a query string, a message, a local variable.
_API_TOKEN = re.compile(r"\bsdk_[A-Za-z0-9_-]{20,}")


class EventSecretScrubber:
    """A before_send hook: every string of the event redacted (the Alpha Vantage
    key, apikey=..., API tokens), credential headers replaced whole, and the
    request id added as a tag so the event leads to its log lines."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = tuple(secret for secret in secrets if secret)

    def __call__(self, event: Event, hint: Hint) -> Event:
        scrubbed: Event = self._scrub(event)
        request_id = request_id_get()
        if request_id != NO_REQUEST_ID:
            tags = scrubbed.get("tags")
            if isinstance(tags, dict):
                tags.setdefault("request_id", request_id)
            else:
                scrubbed["tags"] = {"request_id": request_id}
        return scrubbed

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return _API_TOKEN.sub(REDACTED, redact(value, self.secrets))
        if isinstance(value, dict):
            return {
                key: (
                    REDACTED
                    if isinstance(key, str) and key.lower() in _CREDENTIAL_NAMES
                    else self._scrub(item)
                )
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            # Headers may come as [name, value] pairs.
            if (
                len(value) == 2
                and isinstance(value[0], str)
                and value[0].lower() in _CREDENTIAL_NAMES
            ):
                return [value[0], REDACTED]
            return [self._scrub(item) for item in value]
        return value


def error_reporting_init(
    *,
    dsn: str,
    environment: str = "",
    release: str = "",
    traces_sample_rate: float = 0.0,
    secrets: Iterable[str | None] = (),
) -> bool:
    """Start the Sentry SDK when a DSN is given; True if it was started.

    No personal data (send_default_pii off: no cookies, user or client address),
    and every event passes through EventSecretScrubber before it leaves.
    """
    if not dsn:
        return False
    # Imported only when used: with reporting off, the SDK is not even loaded.
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    scrubber = EventSecretScrubber(secrets)
    sentry_sdk.init(
        dsn=dsn,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        environment=environment or None,
        release=release or None,
        traces_sample_rate=traces_sample_rate,
        before_send=scrubber,
        before_send_transaction=scrubber,
    )
    return True
