"""The only writers of the backtesting app's models: runs, sweeps and comparisons."""

from backtesting.services.runs import backtest_run_create

__all__ = ["backtest_run_create"]
