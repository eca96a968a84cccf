"""The only writers of the backtesting app's models: runs, sweeps and comparisons."""

from backtesting.services.comparisons import comparison_create
from backtesting.services.runs import backtest_run_answer, backtest_run_create
from backtesting.services.sweeps import sweep_create

__all__ = [
    "backtest_run_answer",
    "backtest_run_create",
    "comparison_create",
    "sweep_create",
]
