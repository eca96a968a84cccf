"""Ingestion: price providers, fetch and upsert services, tasks and /fetch/."""
