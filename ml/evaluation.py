"""The forecast's honesty checks, pure numpy: the Diebold-Mariano test of two
forecasts' errors (HAC variance with h-1 lags and the Harvey-Leybourne-Newbold
small-sample correction), the verdict it supports, the drift baseline and the
rolling split-conformal calibration of the 80 % band."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SIGNIFICANCE = 0.05
BEATS_NAIVE = "beats naive (p < 0.05)"
NO_EVIDENCE = "no evidence of skill"
WORSE_THAN_NAIVE = "worse than naive (p < 0.05)"
VERDICTS = (BEATS_NAIVE, NO_EVIDENCE, WORSE_THAN_NAIVE)
# The band is calibrated on (up to) the last two years of residuals known at each
# origin: long enough that 30-day errors, which overlap, are not too few.
CALIBRATION_WINDOW = 504
MIN_CALIBRATION = 20
# A flat series has no volatility; its errors are then measured as they are.
_TINY_VOLATILITY = 1e-9


@dataclass(frozen=True)
class DieboldMariano:
    """The test of equal accuracy of forecast A and forecast B.

    `mean_difference` is the mean of loss(A) - loss(B): negative when A is the
    more accurate; `p_value` is two-sided (Student t with n-1 degrees of freedom).
    """

    statistic: float
    p_value: float
    mean_difference: float
    observations: int
    horizon: int
    variance: str  # "hac-rectangular" or "hac-bartlett" (the fallback)

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "statistic": self.statistic,
            "p_value": self.p_value,
            "mean_loss_difference": self.mean_difference,
            "observations": self.observations,
            "lags": self.horizon - 1,
            "variance": self.variance,
        }


def _autocovariances(d: np.ndarray, lags: int) -> np.ndarray:
    """gamma_0..gamma_lags of d, each divided by n (not n - k), as in DM (1995)."""
    n = len(d)
    centred = d - d.mean()
    return np.array(
        [float(np.dot(centred[k:], centred[: n - k])) / n for k in range(lags + 1)]
    )


def diebold_mariano(
    loss_a: np.ndarray, loss_b: np.ndarray, horizon: int
) -> DieboldMariano | None:
    """Diebold-Mariano (1995) with the Harvey-Leybourne-Newbold (1997) correction.

    h-step errors overlap, so the loss differences are autocorrelated up to lag
    h - 1: the long-run variance is gamma_0 + 2 sum_{k=1}^{h-1} gamma_k (the
    rectangular kernel of DM 1995). That sum can come out non-positive on short
    samples; the Bartlett (Newey-West) weights 1 - k/h, always non-negative, are
    used then. The statistic is scaled by sqrt((n + 1 - 2h + h(h-1)/n) / n) and
    read against Student's t with n - 1 degrees of freedom.
    None when the test cannot be computed: fewer than h + 2 pairs, or losses that
    differ by a constant (no variance).
    """
    d = np.asarray(loss_a, dtype=np.float64) - np.asarray(loss_b, dtype=np.float64)
    n = len(d)
    if horizon < 1 or n < horizon + 2:
        return None
    gammas = _autocovariances(d, horizon - 1)
    long_run = gammas[0] + 2.0 * float(np.sum(gammas[1:]))
    kind = "hac-rectangular"
    if long_run <= 0.0:
        weights = 1.0 - np.arange(1, horizon) / horizon
        long_run = gammas[0] + 2.0 * float(np.sum(weights * gammas[1:]))
        kind = "hac-bartlett"
    # Below this the differences are a constant up to rounding.
    if long_run <= 1e-24 * max(1.0, float(np.mean(d**2))):
        return None
    mean = float(d.mean())
    dm = mean / math.sqrt(long_run / n)
    h = horizon
    correction = math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    statistic = dm * correction
    p_value = student_t_two_sided(statistic, n - 1)
    return DieboldMariano(
        statistic=float(statistic),
        p_value=min(p_value, 1.0),
        mean_difference=mean,
        observations=n,
        horizon=h,
        variance=kind,
    )


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 1000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return fraction


def regularized_incomplete_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), by its continued fraction (Numerical Recipes, 6.4)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(
        math.lgamma(a + b)
        - math.lgamma(a)
        - math.lgamma(b)
        + a * math.log(x)
        + b * math.log1p(-x)
    )
    # The fraction converges fast on this side of the mean; use symmetry past it.
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _incomplete_beta_fraction(a, b, x) / a
    return 1.0 - front * _incomplete_beta_fraction(b, a, 1.0 - x) / b


def student_t_two_sided(statistic: float, df: int) -> float:
    """P(|T| >= |statistic|) for Student's t with `df` degrees of freedom."""
    t2 = statistic * statistic
    return min(1.0, regularized_incomplete_beta(df / 2.0, 0.5, df / (df + t2)))


def verdict(test: DieboldMariano | None, baseline: str = "naive") -> str:
    """The model (A) against a baseline (B): against naive one of VERDICTS, against
    another baseline the same words with its name."""
    if test is None or test.p_value >= SIGNIFICANCE:
        return NO_EVIDENCE
    if test.mean_difference < 0:
        return f"beats {baseline} (p < {SIGNIFICANCE})"
    return f"worse than {baseline} (p < {SIGNIFICANCE})"


def overall_verdict(verdicts: list[str]) -> str:
    """One verdict for several horizons: skill is claimed only when every horizon
    shows it, and any horizon significantly worse than naive says so."""
    if not verdicts:
        return NO_EVIDENCE
    if WORSE_THAN_NAIVE in verdicts:
        return WORSE_THAN_NAIVE
    if all(v == BEATS_NAIVE for v in verdicts):
        return BEATS_NAIVE
    return NO_EVIDENCE


def drift_log_returns(closes: np.ndarray, fitted_through: np.ndarray) -> np.ndarray:
    """The drift baseline's daily log return for each origin: the mean daily log
    return of the closes 0..d the origin's model was fitted on (d = its refit day),
    i.e. log(close[d] / close[0]) / d. The h-day drift forecast from origin t is
    close[t] * exp(h * that)."""
    log_close = np.log(np.asarray(closes, dtype=np.float64))
    days = np.asarray(fitted_through, dtype=np.int64)
    drift: np.ndarray = (log_close[days] - log_close[0]) / np.maximum(days, 1)
    return drift


@dataclass(frozen=True)
class BandCalibration:
    """One horizon's band: calibrated on one part of the residuals, tested on another.

    `half_width` is in units of the origin's volatility: a forecast's band is its
    point forecast (a log return) +- half_width x the 20-day volatility of daily log
    returns at its origin. `coverage_pct` is the share of tested origins whose
    actual log return fell inside the band calibrated before them; None when there
    were too few origins to test.
    """

    half_width: float
    calibration: int
    tested: int
    coverage_pct: float | None


def calibrate_band(
    residuals: np.ndarray,
    volatility: np.ndarray,
    horizon: int,
    level: float,
    *,
    window: int = CALIBRATION_WINDOW,
) -> BandCalibration:
    """Rolling split-conformal calibration of one horizon's band (normalised scores).

    `residuals` are the out-of-sample log errors of consecutive origins, oldest
    first; `volatility` each origin's trailing volatility (known at the origin). The
    score is |residual| / volatility, so the band widens when the market is
    volatile. The residual of origin j is known h days after j, so origin j's band
    is the `level` quantile of the scores of the `window` origins up to j - h: the
    calibration set, never overlapping what it is tested on. At most half of the
    scores (after the h-day gap) calibrate, so at least as many are tested. The band
    of a forecast from the last day is the quantile of the last `window` scores.
    """
    scale = np.maximum(np.asarray(volatility, dtype=np.float64), _TINY_VOLATILITY)
    scores = np.abs(np.asarray(residuals, dtype=np.float64)) / scale
    m = len(scores)
    size = min(window, (m - horizon + 1) // 2)
    if size < MIN_CALIBRATION:
        # Too few to test: the band from every score, its coverage unknown.
        width = float(np.quantile(scores, level)) if m else 0.0
        return BandCalibration(width, m, 0, None)
    tested = m - size - horizon + 1
    windows = sliding_window_view(scores, size)[:tested]
    bands = np.quantile(windows, level, axis=1)
    inside = scores[size + horizon - 1 :] <= bands
    return BandCalibration(
        half_width=float(np.quantile(scores[-size:], level)),
        calibration=size,
        tested=tested,
        coverage_pct=float(np.mean(inside) * 100.0),
    )
