"""Error types every layer raises; the API layer turns them into the JSON error shape."""

from __future__ import annotations

from typing import Any


class StockDeskError(Exception):
    """An expected failure with a status, a stable code and a message safe to show."""

    status: int = 400
    code: str = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details or {}
        self.retry_after = retry_after


class InvalidInput(StockDeskError):
    status = 400
    code = "invalid_input"


class NotFound(StockDeskError):
    status = 404
    code = "not_found"


class Conflict(StockDeskError):
    status = 409
    code = "conflict"


class NotEnoughData(StockDeskError):
    status = 422
    code = "not_enough_data"


class UnknownSymbol(NotFound):
    """A ticker with no stored Symbol: the one message every caller shows."""

    code = "unknown_symbol"

    def __init__(self, ticker: str) -> None:
        super().__init__(
            f"There is no symbol {ticker}; fetch its prices first.",
            details={"symbol": ticker},
        )
