"""Features look only backwards; the evaluation is out of sample and honest."""

from __future__ import annotations

import numpy as np
import pytest

from ml.features import FEATURE_NAMES, LOOKBACK, make_features, make_targets
from ml.forecaster import (
    HORIZON,
    MIN_HISTORY,
    NotEnoughHistory,
    evaluate,
    fit,
    forecast,
    walk_forward,
)
from tests.factories import price_closes


def random_walk(
    n: int, seed: int = 1, drift: float = 0.0, vol: float = 0.01
) -> np.ndarray:
    return np.asarray(
        price_closes(n, drift=drift, volatility=vol, seed=seed, decimals=None)
    )


def test_features_at_day_t_do_not_change_when_later_prices_do():
    closes = random_walk(300)
    t = 180
    changed = closes.copy()
    changed[t + 1 :] *= np.random.default_rng(9).uniform(0.5, 2.0, len(closes) - t - 1)

    original, altered = make_features(closes), make_features(changed)

    np.testing.assert_array_equal(original[: t + 1], altered[: t + 1])
    assert not np.allclose(original[t + 1 :], altered[t + 1 :])


def test_features_are_complete_from_the_lookback_on():
    features = make_features(random_walk(120))
    assert features.shape == (120, len(FEATURE_NAMES))
    assert np.isnan(features[LOOKBACK - 1]).any()
    assert not np.isnan(features[LOOKBACK:]).any()


def test_targets_are_future_log_returns():
    closes = np.array([100.0, 110.0, 121.0, 133.1])
    targets = make_targets(closes, 2)
    np.testing.assert_allclose(targets[0], [np.log(1.1), np.log(1.21)])
    assert np.isnan(targets[3]).all() and np.isnan(targets[2, 1])


def test_the_walk_forward_never_uses_a_price_after_its_origin():
    closes = random_walk(700, seed=4)
    cut = 600
    changed = closes.copy()
    changed[cut + 1 :] = changed[cut + 1 :] * 3.0  # a wild future

    original, altered = walk_forward(closes), walk_forward(changed)

    known = original.origins <= cut
    assert known.sum() > 100
    np.testing.assert_array_equal(original.origins, altered.origins)
    np.testing.assert_allclose(original.predicted[known], altered.predicted[known])
    assert not np.allclose(original.predicted[~known], altered.predicted[~known])


def test_on_a_strong_trend_the_model_beats_naive_at_30_days():
    rng = np.random.default_rng(2)
    closes = 100 * np.exp(0.002 * np.arange(900) + rng.normal(0, 0.003, 900))
    horizons = evaluate(closes)["horizons"]
    assert horizons["30"]["beats_naive"]
    assert horizons["30"]["model"]["mae"] < 0.5 * horizons["30"]["naive"]["mae"]


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_on_a_random_walk_the_model_is_within_10_percent_of_naive(seed):
    evaluation = evaluate(random_walk(2000, seed=seed))
    for h in ("1", "5", "30"):
        scores = evaluation["horizons"][h]
        assert scores["origins"] > 200
        ratio = scores["model"]["mae"] / scores["naive"]["mae"]
        assert 0.9 <= ratio <= 1.1, (h, ratio)
        assert scores["naive"]["direction_hit_rate_pct"] is None
        for key in ("mae", "rmse", "mape_pct"):
            assert scores["model"][key] > 0 and scores["naive"][key] > 0


def test_model_and_naive_are_scored_on_the_same_origins():
    closes = random_walk(800, seed=5)
    evaluation = evaluate(closes)
    n_origins = evaluation["origins"]
    assert evaluation["horizons"]["1"]["origins"] == n_origins
    assert evaluation["horizons"]["30"]["origins"] == n_origins - (HORIZON - 1)
    # Recompute naive's 30-day MAE from the origins by hand.
    first = evaluation["first_origin_index"]
    origins = np.arange(first, len(closes) - HORIZON)
    naive_mae = np.mean(np.abs(closes[origins] - closes[origins + HORIZON]))
    assert evaluation["horizons"]["30"]["naive"]["mae"] == pytest.approx(naive_mae)


def test_the_forecast_has_30_steps_inside_an_ordered_band():
    closes = random_walk(600, seed=6)
    evaluation = evaluate(closes)
    points = forecast(fit(closes), closes, evaluation["band"])
    assert [p.step for p in points] == list(range(1, 31))
    assert all(p.lower <= p.predicted <= p.upper for p in points)
    # The band widens with the horizon, as uncertainty does.
    assert (points[-1].upper - points[-1].lower) > (points[0].upper - points[0].lower)
    assert points[0].predicted == pytest.approx(closes[-1], rel=0.05)


def test_too_little_history_is_refused_with_the_number_needed():
    with pytest.raises(NotEnoughHistory) as excinfo:
        evaluate(random_walk(MIN_HISTORY - 1))
    assert excinfo.value.needed == MIN_HISTORY
