r"""Truncated normal draws and log interval probabilities, stable far in the tails.

Shared by the likelihoods whose working response is drawn within bounds: liabilities of
threshold traits (between two cut-points) and censored values (between their bounds).

``draw_truncated_normal`` draws by exact rejection in numba (``bayesgen.kernels.truncated_normal``),
accurate 30 standard deviations out; the number of uniforms per draw varies, but they come from
the chain's generator in a fixed order (same seed, same draws). ``log_interval_probability``
computes :math:`\log(\Phi(b) - \Phi(a))` on the log scale and on the side of the interval nearer
the lower tail (mirrored when a + b > 0), record by record in numba (its log Phi agrees with
scipy's ``log_ndtr`` to 1e-12 relative, ``tests/test_threshold.py``).
"""

from __future__ import annotations

import numpy as np


def log_interval_probability(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    r""":math:`\log(\Phi(b) - \Phi(a))` for standardised bounds a < b (±inf allowed), elementwise
    (numba: ``bayesgen.kernels.truncated_normal.log_interval_probabilities``)."""
    from ..kernels.truncated_normal import log_interval_probabilities

    lower, upper = np.broadcast_arrays(np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
    out = np.empty(lower.shape)
    log_interval_probabilities(
        np.ascontiguousarray(lower).reshape(-1), np.ascontiguousarray(upper).reshape(-1), out.reshape(-1)
    )
    return out


def sum_log_interval_probability(lower: np.ndarray, upper: np.ndarray, mean: np.ndarray) -> float:
    r""":math:`\sum_i \log(\Phi(u_i - m_i) - \Phi(l_i - m_i))` over 1-d arrays of bounds and means (numba)."""
    from ..kernels.truncated_normal import sum_log_interval_probabilities

    return float(
        sum_log_interval_probabilities(
            np.ascontiguousarray(lower, dtype=np.float64),
            np.ascontiguousarray(upper, dtype=np.float64),
            np.ascontiguousarray(mean, dtype=np.float64),
        )
    )


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
        values = np.asarray(values, dtype=np.float64)
        if values.shape != shape:
            values = np.broadcast_to(values, shape)
        return np.ascontiguousarray(values).reshape(-1)

    out = np.empty_like(flat)
    draw_truncated_normals(rng, flat, spread(sd), spread(lower), spread(upper), out)
    return out.reshape(shape)
