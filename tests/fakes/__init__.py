"""Test doubles for what lies outside the project (the Alpha Vantage HTTP service)."""
