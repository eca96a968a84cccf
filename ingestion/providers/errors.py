"""The one exception family every price provider raises."""

from __future__ import annotations

from core.errors import StockDeskError


class ProviderError(StockDeskError):
    """A provider could not give usable bars; nothing was written."""

    status = 502
    code = "provider_error"


class SymbolNotFound(ProviderError):
    status = 404
    code = "unknown_symbol"


class NoData(ProviderError):
    status = 404
    code = "no_data"


class RateLimited(ProviderError):
    """The provider's quota or burst limit, or our own daily budget, is used up."""

    status = 429
    code = "rate_limited"


class ProviderConfigurationError(ProviderError):
    """Bad or missing key, demo key, premium-only function: retrying will not help."""

    status = 503
    code = "provider_configuration"


class ProviderUnavailable(ProviderError):
    """Timeouts, refused connections and 5xx answers, after the bounded retries."""

    status = 503
    code = "provider_unavailable"


class ProviderTimeout(ProviderUnavailable):
    """The fetch ran out of the time it was given (a synchronous request's deadline)."""

    status = 504
    code = "provider_timeout"


class MalformedResponse(ProviderError):
    """An answer that is not the documented shape, or a row that is not a valid bar."""

    status = 502
    code = "provider_bad_response"
