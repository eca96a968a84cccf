"""backtesting.py's bare in-process SMA 50/200 run on GOOG, timed on request: the peer
that benchmarks/request.py puts beside a whole HTTP /backtest/ request.

Run only as a child process with `python -I benchmarks/peer_backtesting_py.py`: its
top-level import name, `backtesting`, is also our own app's, and isolated mode keeps
the repository off sys.path so the import finds the installed package (0.6.6, from
requirements-dev.txt; any other interpreter that has it works too, see
`--peer-python`). It imports nothing of ours.

Line protocol on stdin/stdout, so the parent can interleave its rounds with the HTTP
ones: it prints one JSON line describing the run and the bars ("ready"), then for
each line `run N` it times N runs and prints {"samples": [seconds, ...]}; `quit` or
the end of stdin ends it.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path

import pandas as pd
from backtesting.lib import crossover

import backtesting
from backtesting import Backtest, Strategy

FAST, SLOW = 50, 200
CASH = 10_000


def _sma(values: pd.Series, window: int) -> pd.Series:
    return pd.Series(values).rolling(window).mean()


class SmaCross(Strategy):
    """Long only: buy on the golden cross, close on the death cross (as our engine)."""

    def init(self) -> None:
        self.fast = self.I(_sma, self.data.Close, FAST)
        self.slow = self.I(_sma, self.data.Close, SLOW)

    def next(self) -> None:
        if crossover(self.fast, self.slow):
            self.buy()
        elif crossover(self.slow, self.fast) and self.position:
            self.position.close()


def goog_bars() -> pd.DataFrame:
    """GOOG's daily bars as shipped inside the package (backtesting/test/GOOG.csv)."""
    path = Path(backtesting.__file__).parent / "test" / "GOOG.csv"
    return pd.read_csv(path, index_col=0, parse_dates=True)


def one_run(bars: pd.DataFrame) -> pd.Series:
    test = Backtest(
        bars,
        SmaCross,
        cash=CASH,
        commission=0,
        trade_on_close=False,
        exclusive_orders=True,
        finalize_trades=True,
    )
    return test.run()


def main() -> int:
    warnings.simplefilter("ignore")  # its progress and fractional-share notes
    bars = goog_bars()
    stats = one_run(bars)  # also the warm-up
    ready = {
        "ready": True,
        "version": metadata.version("backtesting"),
        "bars": len(bars),
        "first": bars.index[0].date().isoformat(),
        "last": bars.index[-1].date().isoformat(),
        "trades": int(stats["# Trades"]),
        "final_equity": float(stats["Equity Final [$]"]),
    }
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        command, _, count = line.strip().partition(" ")
        if command != "run":
            break
        samples = []
        for _ in range(int(count or 1)):
            started = time.perf_counter()
            one_run(bars)
            samples.append(time.perf_counter() - started)
        print(json.dumps({"samples": samples}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
