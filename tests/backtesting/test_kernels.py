"""backtesting.kernels: the compiled reductions give numpy's own figures to the last
bit, and the compiled code is cached outside the checkout, or not at all."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from backtesting import kernels
from backtesting.metrics import compute_metrics, daily_returns, drawdown


@pytest.mark.parametrize("bars", [2, 3, 9, 129, 130, 1_000, 5_040, 9_000])
def test_the_metrics_are_numpys_figures_to_the_last_bit(bars):
    rng = np.random.default_rng(bars)
    equity = 1_000.0 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, bars)))
    dates = np.datetime64("2001-01-01") + np.arange(bars)
    pnls = rng.normal(0.0, 50.0, 37)
    returns_pct = rng.normal(0.0, 4.0, 37)

    metrics = compute_metrics(
        dates=dates,
        equity=equity,
        closes=equity,
        initial_investment=1_000.0,
        trade_pnls=pnls,
        trade_returns_pct=returns_pct,
        bars_in_market=bars // 2,
    )

    daily = daily_returns(equity)
    scale = math.sqrt(252)
    spread = float(daily.std(ddof=1)) if bars > 2 else 0.0
    if spread > 0:
        assert metrics.volatility_pct == spread * scale * 100.0
        assert metrics.sharpe == float(daily.mean()) / spread * scale
        downside = math.sqrt(float(np.mean(np.minimum(daily, 0.0) ** 2)))
        assert metrics.sortino == float(daily.mean()) / downside * scale
    assert metrics.max_drawdown_pct == float(drawdown(equity).min()) * 100.0
    assert metrics.avg_trade_pct == float(returns_pct.mean())
    assert metrics.profit_factor == float(pnls[pnls > 0].sum()) / -float(
        pnls[pnls < 0].sum()
    )


def test_the_cache_is_numbas_own_setting_when_given(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "chosen"))
    assert kernels._cache_folder() == str(tmp_path / "chosen")


def test_the_cache_goes_to_the_users_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = kernels._cache_folder()
    assert folder == str(tmp_path / "stockdesk-numba")
    assert Path(folder).is_dir()


def test_no_cache_when_the_folder_cannot_be_made(monkeypatch, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert kernels._cache_folder() is None
