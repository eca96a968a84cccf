"""What a ticker and a daily bar are, for the models, the API and the providers.

No Django import: the price providers use it too.
"""

from __future__ import annotations

import re

from core.errors import InvalidInput

TICKER_PATTERN = r"^[A-Z0-9.\-]{1,10}$"
BAR_COLUMNS = ("date", "open", "high", "low", "close", "volume")

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
