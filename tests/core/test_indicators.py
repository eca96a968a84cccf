"""The one trailing moving average behind features, charts and the admin."""

import numpy as np

from core.indicators import trailing_mean


def test_trailing_mean_uses_the_window_up_to_each_day():
    np.testing.assert_allclose(trailing_mean([1, 2, 3, 4], 2), [np.nan, 1.5, 2.5, 3.5])


def test_trailing_mean_is_all_nan_when_the_window_is_longer_than_the_series():
    assert np.isnan(trailing_mean([1.0, 2.0], 3)).all()
