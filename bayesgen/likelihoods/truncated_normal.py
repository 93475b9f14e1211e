r"""Truncated normal draws and log interval probabilities, stable far in the tails.

Shared by the likelihoods whose working response is drawn within bounds: liabilities of
threshold traits (between two cut-points) and censored values (between their bounds).

``draw_truncated_normal`` draws by exact rejection in numba (``bayesgen.kernels.truncated_normal``),
accurate 30 standard deviations out; the number of uniforms per draw varies, but they come from
the chain's generator in a fixed order (same seed, same draws). ``log_interval_probability``
computes :math:`\log(\Phi(b) - \Phi(a))` on the log scale (``log_ndtr``) and on the side of the
interval nearer the lower tail (mirrored when a + b > 0), vectorised over records.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr


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


def draw_truncated_normal(
    rng: np.random.Generator, mean: np.ndarray, sd, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    r"""Draws of :math:`N(\text{mean}, \text{sd}^2)` truncated to (lower, upper), elementwise, by exact
    rejection in numba (``bayesgen.kernels.truncated_normal``; ``sd``, ``lower`` and ``upper`` broadcast
    against ``mean``)."""
    from ..kernels.truncated_normal import draw_truncated_normals

    mean = np.ascontiguousarray(mean, dtype=np.float64)
    shape = mean.shape
    flat = mean.reshape(-1)

    def spread(values):
        return np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), shape).reshape(-1))

    out = np.empty_like(flat)
    draw_truncated_normals(rng, flat, spread(sd), spread(lower), spread(upper), out)
    return out.reshape(shape)
