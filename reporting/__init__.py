"""Reporting: one report builder, JSON and PDF views and /report/ (see docs/architecture.md)."""
