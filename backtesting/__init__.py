"""Backtesting: the SMA-crossover engine, stored runs and /backtest/."""
