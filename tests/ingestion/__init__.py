"""Tests for ingestion: providers, fetch services, tasks and /fetch/."""
