r"""Truncated normal draws and log interval probabilities, stable far in the tails.

Shared by the likelihoods whose working response is drawn within bounds: liabilities of
threshold traits (between two cut-points) and censored values (between their bounds).

For standardised bounds a < b, :math:`x \sim N(0, 1)` truncated to (a, b) is drawn by inversion,
:math:`x = \Phi^{-1}(\Phi(a) + U(\Phi(b) - \Phi(a)))`, computed on the log scale
(``log_ndtr``, ``ndtri_exp``) and on the side of the interval nearer the lower tail (the
interval is mirrored when a + b > 0), so that intervals 30 standard deviations out are as
accurate as central ones. One uniform per draw: the draws are a fixed function of the
generator's stream (same seed, same draws). Vectorised over records (scipy's special
functions); no Python loop.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr, ndtri_exp


def _mirror(lower: np.ndarray, upper: np.ndarray):
    """(a, b, mirrored): the interval, mirrored to (-upper, -lower) where it lies mostly above 0."""
    lower, upper = np.broadcast_arrays(np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
    with np.errstate(invalid="ignore"):
        centre = lower + upper  # NaN for (-inf, inf): not mirrored
    mirrored = centre > 0
    return np.where(mirrored, -upper, lower), np.where(mirrored, -lower, upper), mirrored


def log_interval_probability(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    r""":math:`\log(\Phi(b) - \Phi(a))` for standardised bounds a < b (±inf allowed), elementwise."""
    a, b, _ = _mirror(lower, upper)
    # The interval lies mostly below 0: log Phi(b) is accurate and Phi(a) / Phi(b) < 1.
    log_b = log_ndtr(b)
    with np.errstate(divide="ignore"):
        return log_b + np.log1p(-np.exp(log_ndtr(a) - log_b))


def truncated_standard_normal(uniform: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    r"""Inverse-CDF draws of N(0, 1) truncated to (lower, upper), one per uniform (elementwise)."""
    a, b, mirrored = _mirror(lower, upper)
    log_a, log_b = log_ndtr(a), log_ndtr(b)
    # log(Phi(a) + U (Phi(b) - Phi(a))) = log Phi(b) + log(U + (1 - U) Phi(a)/Phi(b)).
    log_p = log_b + np.log(uniform + (1.0 - uniform) * np.exp(log_a - log_b))
    x = ndtri_exp(np.minimum(log_p, 0.0))
    # Rounding can put x a hair outside (a, b) when the interval is narrower than the grid of doubles.
    x = np.clip(x, a, b)
    return np.where(mirrored, -x, x)


def draw_truncated_normal(
    rng: np.random.Generator, mean: np.ndarray, sd, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    r"""Draws of :math:`N(\text{mean}, \text{sd}^2)` truncated to (lower, upper), elementwise."""
    mean = np.asarray(mean, dtype=np.float64)
    uniform = rng.random(mean.shape)
    with np.errstate(invalid="ignore"):
        z = truncated_standard_normal(uniform, (lower - mean) / sd, (upper - mean) / sd)
    return mean + sd * z
