"""The engine against its peers, side by side in one run: the 147-pair sweep against
vectorbt, one run with every metric against a compiled loop (numba); writes the
Peers section of RESULTS.md.

The peers are not project dependencies: `pip install -r
benchmarks/requirements-peers.txt` into the environment that runs this (see
benchmarks/README.md). A peer that is not installed is skipped with a line saying
so. From the repository root: `python -m benchmarks.peers [--no-write]`.
"""

from __future__ import annotations

import importlib.util
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if not __package__:  # run as `python benchmarks/peers.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from backtesting.engine import (
    PriceArrays,
    parameter_grid,
    prepare_bars,
    run_prepared,
    sweep,
)
from backtesting.metrics import TRADING_DAYS_PER_YEAR
from backtesting.sweeps import sweep_analysis
from benchmarks.backtest import (
    FAST,
    INITIAL_INVESTMENT,
    SLOW,
    SWEEP_FASTS,
    SWEEP_SLOWS,
    synthetic_bars,
)
from benchmarks.results import Section, format_seconds, machine, machine_line

SECTION = Section("peers", heading="Peers: vectorbt and a compiled loop")

SWEEP_BARS = 5_040
SINGLE_BARS = (2_148, 5_040)
SWEEP_SPEEDUP_TARGET = 8.0  # vectorbt's time / ours, at least
SINGLE_RATIO_TARGET = 5.0  # our time / the compiled loop's, at most
INSTALL = "pip install -r benchmarks/requirements-peers.txt"


def installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def paired(
    ours: Callable[[], object], theirs: Callable[[], object], *, runs: int
) -> tuple[float, float]:
    """(our median, their median) in seconds, the two calls alternating so both see
    the same moments of a noisy machine; one unrecorded call of each first."""
    ours()
    theirs()
    mine: list[float] = []
    peer: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        ours()
        mine.append(time.perf_counter() - started)
        started = time.perf_counter()
        theirs()
        peer.append(time.perf_counter() - started)
    return statistics.median(mine), statistics.median(peer)


# --- vectorbt -------------------------------------------------------------------------


def vectorbt_grid(bars: pd.DataFrame, pairs: list[tuple[int, int]]) -> Any:
    """A function running the same grid in vectorbt: both SMAs of every pair, their
    crosses, one portfolio of all pairs filled at the next open (whole shares, all
    cash) and the same figures as our metrics table."""
    import vectorbt as vbt

    # Annualise as we do: returns over 252 trading days a year.
    vbt.settings.returns["year_freq"] = f"{TRADING_DAYS_PER_YEAR} days"
    index = pd.DatetimeIndex(pd.to_datetime(bars["date"]))
    close = pd.Series(bars["close"].to_numpy(dtype=float), index=index)
    opens = bars["open"].to_numpy(dtype=float)[:, None]
    fasts = [fast for fast, _ in pairs]
    slows = [slow for _, slow in pairs]

    def run() -> dict[str, Any]:
        fast = vbt.MA.run(close, fasts, short_name="fast")
        slow = vbt.MA.run(close, slows, short_name="slow")
        entries = fast.ma_crossed_above(slow.ma.values)
        exits = fast.ma_crossed_below(slow.ma.values)
        # A cross at a close is filled at the next bar's open.
        portfolio = vbt.Portfolio.from_signals(
            close,
            entries.vbt.fshift(1),
            exits.vbt.fshift(1),
            price=opens,
            size=np.inf,
            size_granularity=1,
            init_cash=INITIAL_INVESTMENT,
            fees=0.0,
            freq="1D",
        )
        trades = portfolio.trades
        return {
            "final_equity": portfolio.final_value(),
            "total_return": portfolio.total_return(),
            "cagr": portfolio.annualized_return(),
            "max_drawdown": portfolio.max_drawdown(),
            "max_drawdown_days": portfolio.drawdowns.max_duration(),
            "trades": trades.count(),
            "win_rate": trades.win_rate(),
            "best_trade": trades.returns.max(),
            "worst_trade": trades.returns.min(),
            "avg_trade": trades.returns.mean(),
            "profit_factor": trades.profit_factor(),
            "exposure": portfolio.position_mask().mean(),
            "volatility": portfolio.annualized_volatility(),
            "sharpe": portfolio.sharpe_ratio(),
            "sortino": portfolio.sortino_ratio(),
        }

    return run


# --- the compiled loop ----------------------------------------------------------------


def compiled_loop() -> Any:
    """One SMA-crossover run with every metric as one numba loop over the bars (and
    one more over the equity), the way one would write it by hand to be fast."""
    from numba import njit

    @njit(cache=False)
    def run(
        opens: Any,
        closes: Any,
        ticks: Any,
        day_numbers: Any,
        fast: int,
        slow: int,
        cash0: float,
        commission: float,
    ) -> Any:
        n = closes.size
        equity = np.empty(n)
        buy_cost, sell_keep = 1.0 + commission, 1.0 - commission
        fast_sum = slow_sum = 0
        previous = 0
        pending = 0
        cash, shares, entry, entry_value = cash0, 0, 0, 0.0
        trades = wins = held = 0
        gains = losses = total_pct = 0.0
        best, worst = -math.inf, math.inf
        for day in range(n):
            exit_value = -1.0
            if pending > 0 and shares == 0:
                count = math.floor(cash / (opens[day] * buy_cost))
                if count > 0:
                    shares, entry = count, day
                    entry_value = count * opens[day] * buy_cost
                    cash -= entry_value
            elif pending < 0 and shares > 0:
                exit_value = shares * opens[day] * sell_keep
                held += day - entry
            pending = 0
            if day == n - 1 and shares > 0 and exit_value < 0:
                exit_value = shares * closes[day] * sell_keep
                held += day - entry + 1
            if exit_value >= 0:
                pnl = exit_value - entry_value
                pct = pnl / entry_value * 100.0
                cash += exit_value
                shares = 0
                trades += 1
                if pnl > 0:
                    wins += 1
                    gains += pnl
                elif pnl < 0:
                    losses -= pnl
                total_pct += pct
                best, worst = max(best, pct), min(worst, pct)
            fast_sum += ticks[day]
            slow_sum += ticks[day]
            if day >= fast:
                fast_sum -= ticks[day - fast]
            if day >= slow:
                slow_sum -= ticks[day - slow]
            if day >= slow - 1:
                difference = fast_sum * slow - slow_sum * fast
                state = 1 if difference > 0 else (-1 if difference < 0 else 0)
                if slow <= day < n - 1:
                    if state > 0 and previous <= 0:
                        pending = 1
                    elif state < 0 and previous >= 0:
                        pending = -1
                previous = state
            equity[day] = cash + shares * closes[day]
        peak, deepest, longest, start = -math.inf, 0.0, 0, -1
        total = downside = 0.0
        for day in range(n):
            value = equity[day]
            if value >= peak:
                if start >= 0:
                    longest = max(longest, day_numbers[day] - day_numbers[start - 1])
                    start = -1
                peak = value
            else:
                if start < 0:
                    start = day
                deepest = min(deepest, value / peak - 1.0)
            if day > 0:
                change = equity[day] / equity[day - 1] - 1.0
                total += change
                downside += min(change, 0.0) ** 2
        if start >= 0:
            longest = max(longest, day_numbers[n - 1] - day_numbers[start - 1])
        mean = total / (n - 1)
        spread = 0.0
        for day in range(1, n):
            centred = equity[day] / equity[day - 1] - 1.0 - mean
            spread += centred * centred
        spread = math.sqrt(spread / (n - 2))
        scale = math.sqrt(252.0)
        years = (day_numbers[n - 1] - day_numbers[0]) / 365.25
        final = equity[n - 1]
        figures = np.array(
            [
                final,
                (final / cash0 - 1.0) * 100.0,
                (closes[n - 1] / closes[0] - 1.0) * 100.0,
                ((final / cash0) ** (1.0 / years) - 1.0) * 100.0,
                deepest * 100.0,
                longest,
                trades,
                wins / trades * 100.0 if trades else math.nan,
                best,
                worst,
                total_pct / trades if trades else math.nan,
                gains / losses if losses > 0 else math.nan,
                held / n * 100.0,
                spread * scale * 100.0,
                mean / spread * scale,
                mean / math.sqrt(downside / (n - 1)) * scale,
            ]
        )
        return equity, figures

    return run


LOOP_FIGURES = (
    "final_equity",
    "total_return_pct",
    "buy_hold_return_pct",
    "cagr_pct",
    "max_drawdown_pct",
    "max_drawdown_days",
    "trades",
    "win_rate_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "avg_trade_pct",
    "profit_factor",
    "exposure_pct",
    "volatility_pct",
    "sharpe",
    "sortino",
)


def loop_arguments(prices: PriceArrays) -> tuple[Any, ...]:
    return (
        prices.opens,
        prices.closes,
        prices.close_ticks,
        prices.dates.view(np.int64),
    )


# --- the run --------------------------------------------------------------------------


def run_all(*, runs: int, sweep_runs: int) -> dict[str, Any]:
    pairs = parameter_grid(SWEEP_FASTS, SWEEP_SLOWS)
    money = {"initial_investment": INITIAL_INVESTMENT}
    facts: dict[str, Any] = {"pairs": len(pairs), "rows": [], "skipped": []}
    rows: list[dict[str, Any]] = facts["rows"]

    bars = synthetic_bars(SWEEP_BARS)
    prices = prepare_bars(bars)
    if installed("vectorbt"):
        import vectorbt

        facts["vectorbt"] = vectorbt.__version__
        grid = vectorbt_grid(bars, pairs)
        theirs = grid()
        table = sweep(bars, pairs, **money)
        facts["vbt_same_trades"] = int(
            (theirs["trades"].to_numpy() == table["trades"].to_numpy()).sum()
        )
        facts["vbt_same_final"] = int(
            np.isclose(
                theirs["final_equity"].to_numpy(),
                table["final_equity"].to_numpy(),
                rtol=1e-9,
                atol=1e-6,
            ).sum()
        )
        mine, peer = paired(lambda: sweep(bars, pairs, **money), grid, runs=sweep_runs)
        rows.append(
            {
                "case": f"{len(pairs)}-pair sweep, every metric: `engine.sweep` "
                "(DataFrame in, table out) vs vectorbt (both SMAs, crosses, "
                "`Portfolio.from_signals`, the same 15 figures)",
                "bars": SWEEP_BARS,
                "runs": sweep_runs,
                "ours": mine,
                "peer": peer,
                "speedup": peer / mine,
                "target": f"≥ {SWEEP_SPEEDUP_TARGET:.0f}x faster",
                "met": peer / mine >= SWEEP_SPEEDUP_TARGET,
            }
        )
        mine, peer = paired(
            lambda: sweep_analysis(prices, pairs, commission=0.0, oos=0.3, **money),
            grid,
            runs=sweep_runs,
        )
        rows.append(
            {
                "case": "the whole sweep job's analysis: `sweeps.sweep_analysis` "
                "(the grid, in-sample ranking, held-out test, walk-forward) vs "
                "vectorbt's full-period grid alone",
                "bars": SWEEP_BARS,
                "runs": sweep_runs,
                "ours": mine,
                "peer": peer,
                "speedup": peer / mine,
                "target": "",
                "met": None,
            }
        )
    else:
        facts["skipped"].append(f"vectorbt is not installed ({INSTALL}): skipped.")
        print(facts["skipped"][-1])

    if installed("numba"):
        import numba

        facts["numba"] = numba.__version__
        loop = compiled_loop()
        agreement = []
        for size in SINGLE_BARS:
            window = prepare_bars(synthetic_bars(size))
            arguments = loop_arguments(window)
            kwargs = {"fast": FAST, "slow": SLOW, **money}
            mine_result = run_prepared(window, **kwargs)
            _, figures = loop(*arguments, FAST, SLOW, INITIAL_INVESTMENT, 0.0)
            ours_figures = mine_result.metrics.as_dict()
            agreement.append(
                sum(
                    math.isclose(float(ours_figures[name]), value, rel_tol=1e-9)
                    for name, value in zip(LOOP_FIGURES, figures.tolist(), strict=True)
                )
            )
            mine, peer = paired(
                lambda w=window, k=kwargs: run_prepared(w, **k),
                lambda a=arguments: loop(*a, FAST, SLOW, INITIAL_INVESTMENT, 0.0),
                runs=runs,
            )
            rows.append(
                {
                    "case": f"one SMA {FAST}/{SLOW} run, every metric and the trade "
                    "list: `run_prepared` (bars prepared once) vs the compiled loop",
                    "bars": size,
                    "runs": runs,
                    "ours": mine,
                    "peer": peer,
                    "speedup": peer / mine,
                    "target": f"≤ {SINGLE_RATIO_TARGET:.0f}x the loop's time",
                    "met": mine / peer <= SINGLE_RATIO_TARGET,
                }
            )
        facts["loop_agreement"] = agreement
        arguments = loop_arguments(prices)

        def every_pair() -> None:
            for fast, slow in pairs:
                loop(*arguments, fast, slow, INITIAL_INVESTMENT, 0.0)

        mine, peer = paired(
            lambda: sweep(bars, pairs, **money), every_pair, runs=sweep_runs
        )
        rows.append(
            {
                "case": f"{len(pairs)}-pair sweep: `engine.sweep` vs the compiled "
                "loop called for each pair",
                "bars": SWEEP_BARS,
                "runs": sweep_runs,
                "ours": mine,
                "peer": peer,
                "speedup": peer / mine,
                "target": "",
                "met": None,
            }
        )
    else:
        facts["skipped"].append(
            "numba is not installed (pip install -r requirements.txt: the engine "
            "needs it too): skipped."
        )
        print(facts["skipped"][-1])
    return facts


def ratio_text(row: dict[str, Any]) -> str:
    speedup = row["speedup"]
    return f"{speedup:.1f}x faster" if speedup >= 1 else f"{1 / speedup:.1f}x slower"


def table_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| case | bars | runs | ours (median) | peer (median) | ours vs peer | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        verdict = ""
        if row["met"] is not None:
            verdict = f"{row['target']}: " + ("met" if row["met"] else "**MISSED**")
        lines.append(
            f"| {row['case']} | {row['bars']:,} | {row['runs']} "
            f"| {format_seconds(row['ours'])} | {format_seconds(row['peer'])} "
            f"| {ratio_text(row)} | {verdict} |"
        )
    return lines


def section(facts: dict[str, Any], info: dict[str, str]) -> str:
    versions = ", ".join(
        f"{name} {facts[name]}" for name in ("vectorbt", "numba") if name in facts
    )
    lines = [
        f"- Machine: {info['nproc']} CPUs (`nproc`), {info['cpu']}",
        f"- Python {info['python']}, numpy {info['numpy']}, pandas {info['pandas']}"
        + (f", {versions}" if versions else "")
        + f"; OPENBLAS settings: {info['openblas']}",
        "- Data: `benchmarks.backtest.synthetic_bars` (the Backtest section's bars); "
        f"{INITIAL_INVESTMENT:,.0f} invested, no commission; the grid is fast 5..70 "
        f"step 5 by slow 20..240 step 20, fast < slow ({facts['pairs']} pairs).",
        "- Each pair of calls alternates (ours, then the peer's) so both see the same "
        "load; medians of wall-clock `time.perf_counter` after one unrecorded call of "
        "each (numba's compile time is not counted, ours neither).",
    ]
    if "vbt_same_trades" in facts:
        lines.append(
            f"- vectorbt computes the same grid: trade counts equal in "
            f"{facts['vbt_same_trades']} of {facts['pairs']} pairs, final equity equal "
            f"(1e-9) in {facts['vbt_same_final']} of {facts['pairs']}. Its signals "
            "are `MA.ma_crossed_above/below`, shifted a bar and filled at that open "
            "(`price=open`, `size=inf`, `size_granularity=1`); Sharpe, Sortino and "
            "volatility annualised over 252 days as ours."
        )
    if "loop_agreement" in facts:
        agreed = " and ".join(f"{count} of 16" for count in facts["loop_agreement"])
        lines.append(
            "- The compiled loop (numba, written in `benchmarks/peers.py`) does one "
            "pass over the bars for the averages, signals, fills and equity and two "
            "over the equity for the metrics; it builds no trade list. Its 16 "
            f"figures equal ours (1e-9) in {agreed} on the "
            + " and ".join(f"{size:,}" for size in SINGLE_BARS)
            + "-bar runs."
        )
    lines.extend(f"- {line}" for line in facts["skipped"])
    lines.extend(["", *table_lines(facts["rows"])])
    return SECTION.body(info, lines)


def main(argv: list[str] | None = None) -> int:
    from benchmarks.results import arguments

    parser = arguments(
        __doc__.splitlines()[0], runs=200, runs_help="repetitions per single run"
    )
    parser.add_argument("--sweep-runs", type=int, default=7, help="sweep repetitions")
    args = parser.parse_args(argv)
    info = machine()
    facts = run_all(runs=args.runs, sweep_runs=args.sweep_runs)
    print(machine_line(info, f"pandas {info['pandas']}"))
    print("\n".join(table_lines(facts["rows"])))
    if not args.no_write:
        SECTION.write(section(facts, info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
