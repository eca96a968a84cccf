"""Reporting: one report builder, JSON and PDF views, /report/ and the archive."""
