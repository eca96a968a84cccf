"""The only writers of ingestion's data: fetches (`fetch`) and provider metering (`metering`).

Bars themselves are written through `core.services.prices_upsert`.
"""
