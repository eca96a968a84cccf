"""What a ticker and a daily bar are, for the models, the API and the providers.

No Django import: the price providers use it too.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

from core.errors import InvalidInput

TICKER_PATTERN = r"^[A-Z0-9.\-]{1,10}$"
BAR_COLUMNS = ("date", "open", "high", "low", "close", "volume")

# PriceBar stores prices as NUMERIC(14, 4): rounded to 4 decimals (half to even,
# as core.services.prices_upsert does), and below 10**10 once rounded.
PRICE_DIGITS = 14
PRICE_DECIMALS = 4
PRICE_STEP = Decimal(1).scaleb(-PRICE_DECIMALS)
PRICE_ROUNDING = ROUND_HALF_EVEN
PRICE_LIMIT = Decimal(10) ** (PRICE_DIGITS - PRICE_DECIMALS)

_TICKER = re.compile(TICKER_PATTERN)


def normalise_ticker(raw: str) -> str:
    """Upper-case a ticker and check it is 1-10 of A-Z 0-9 . - .

    Anything not ASCII is refused before upper-casing, which would turn a dotless
    i ("\\u0131bm") into "IBM" and a long s into "S".
    """
    text = raw or ""
    ticker = text.strip().upper() if text.isascii() else ""
    if not _TICKER.fullmatch(ticker):
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise InvalidInput(
            f"{shown!r} is not a valid symbol: use 1 to 10 characters, "
            "letters A-Z, digits, '.' or '-'.",
            code="invalid_symbol",
            details={"symbol": shown},
        )
    return ticker
