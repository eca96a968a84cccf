"""Backtesting: the SMA-crossover engine, stored runs and /backtest/ (see docs/architecture.md)."""
