"""Input checks for path and query parameters; failures raise InvalidInput (400)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from core.errors import InvalidInput
from core.models import TICKER_PATTERN

_TICKER = re.compile(TICKER_PATTERN)


def normalise_ticker(raw: str) -> str:
    """Upper-case a ticker and check it is 1-10 of A-Z 0-9 . - ."""
    ticker = (raw or "").strip().upper()
    if not _TICKER.fullmatch(ticker):
        shown = raw if len(raw or "") <= 40 else raw[:40] + "…"
        raise InvalidInput(
            f"{shown!r} is not a valid symbol: use 1 to 10 characters, "
            "letters A-Z, digits, '.' or '-'.",
            code="invalid_symbol",
            details={"symbol": shown},
        )
    return ticker


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_flag(params: Mapping[str, str], name: str) -> bool:
    """A yes/no query parameter; anything else than the usual spellings is a 400."""
    raw = params.get(name)
    if raw is None:
        return False
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InvalidInput(
        f"{name} must be 1 or 0 (or true/false), not {raw[:20]!r}.",
        code="invalid_parameter",
        details={"parameter": name},
    )
