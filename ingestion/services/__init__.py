"""The only writers of ingestion's data: fetches (`fetch`), the corporate actions
fetched with them (`corporate_actions`) and provider metering (`metering`).

Bars and actions themselves are written through `core.services` (`prices_upsert`,
`corporate_actions_store`).
"""
