"""Timing scripts for the pure (Django-free) parts of StockDesk; see RESULTS.md."""
