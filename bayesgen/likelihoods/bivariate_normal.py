r"""The log of the standard bivariate normal CDF, accurate far into the lower tail.

:math:`\Phi_2(h, k; \rho) = P(X \le h, Y \le k)` for standard normals with correlation
:math:`\rho`: the probability of a record's two binary categories given its other traits
(``bayesgen.likelihoods.mixed``), once each liability is oriented so that its category is
"below 0".

Owen's (1956) formula through his T function (``scipy.special.owens_t``),

.. math:: \Phi_2(h, k; \rho) = \tfrac12\Phi(h) + \tfrac12\Phi(k) - T(h, a_h) - T(k, a_k) - \beta,\quad
          a_h = \frac{k - \rho h}{h\sqrt{1-\rho^2}},\ a_k = \frac{h - \rho k}{k\sqrt{1-\rho^2}},

with :math:`\beta = \tfrac12` when h and k have opposite signs (or one is 0 and h + k < 0), else 0.
When h < 0 < k it is used as :math:`\Phi(h) - \Phi_2(h, -k; -\rho)`, which does not cancel. Its
error is absolute (about 1e-16), so below ``TAIL`` the log is recomputed from the one-dimensional
integral :math:`\Phi_2 = \int_{-\infty}^{h} \varphi(x)\,\Phi\big((k - \rho x)/\sqrt{1-\rho^2}\big)\,dx`,
whose log-integrand is concave, by Simpson's rule on the log scale over the window where it lies
within 60 of its maximum (``tests/test_bivariate_normal.py`` checks both against adaptive
quadrature to relative 1e-9, log-probabilities down to -911).
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr, ndtr, owens_t

#: Below this probability Owen's formula (absolute error ~1e-16) gives way to the log-scale integral.
TAIL = 1e-8
#: Points of the coarse search for the integrand's maximum, and of Simpson's rule (odd).
COARSE, FINE = 1201, 4001


def _owen(h: np.ndarray, k: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Owen's formula (module docstring), elementwise; h and k finite."""
    s = np.sqrt((1.0 - rho) * (1.0 + rho))
    with np.errstate(divide="ignore", invalid="ignore"):
        a_h = np.where(h == 0.0, np.copysign(np.inf, k - rho * h), (k - rho * h) / (h * s))
        a_k = np.where(k == 0.0, np.copysign(np.inf, h - rho * k), (h - rho * k) / (k * s))
    opposite = (h * k < 0.0) | ((h * k == 0.0) & (h + k < 0.0))
    value = 0.5 * ndtr(h) + 0.5 * ndtr(k) - owens_t(h, a_h) - owens_t(k, a_k) - np.where(opposite, 0.5, 0.0)
    # h = k = 0, where a_h and a_k have no limit: Sheppard's 1/4 + arcsin(rho) / (2 pi)
    return np.where((h == 0.0) & (k == 0.0), 0.25 + np.arcsin(rho) / (2.0 * np.pi), value)


def _tail_log_integral(h: float, k: float, rho: float) -> float:
    r""":math:`\log \int_{-\infty}^{h} \varphi(x)\Phi((k - \rho x)/s)\,dx` by Simpson's rule on the log scale."""
    s = np.sqrt((1.0 - rho) * (1.0 + rho))

    def log_integrand(x):
        return -0.5 * x * x - 0.5 * np.log(2.0 * np.pi) + log_ndtr((k - rho * x) / s)

    # the log-integrand is concave: its maximum on (-inf, h] lies within 40 + |h| + |k| / s of h
    reach = 40.0 + abs(h) + abs(k) / s
    lower, upper, points = h - reach, h, COARSE
    for _ in range(2):  # narrow the window twice: the peak can be far narrower than the first grid
        grid = np.linspace(lower, upper, points)
        values = log_integrand(grid)
        keep = np.nonzero(values > values.max() - 60.0)[0]
        spacing = grid[1] - grid[0]
        lower, upper, points = max(grid[keep[0]] - spacing, h - reach), min(grid[keep[-1]] + spacing, h), FINE
    fine = np.linspace(lower, upper, FINE)
    logs = log_integrand(fine)
    weights = np.ones(FINE)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    top = logs.max()
    return float(top + np.log(np.sum(weights * np.exp(logs - top)) * (fine[1] - fine[0]) / 3.0))


def log_bivariate_normal_cdf(h, k, rho) -> np.ndarray:
    r""":math:`\log\Phi_2(h, k; \rho)` elementwise (module docstring); h, k may be ±inf, -1 < ρ < 1."""
    h, k, rho = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in (h, k, rho)))
    out = np.empty(h.shape)
    # an infinite bound: Phi2 reduces to one margin (or is 0)
    finite = np.isfinite(h) & np.isfinite(k)
    out[~finite] = np.where((h == -np.inf) | (k == -np.inf), -np.inf, np.where(h == np.inf, log_ndtr(k), log_ndtr(h)))[
        ~finite
    ]
    hf, kf, rf = h[finite], k[finite], rho[finite]
    # Phi(h) - Phi2(h, -k; -rho) where h < 0 < k (and its mirror), which does not cancel
    first = (hf < 0.0) & (kf > 0.0)
    second = (kf < 0.0) & (hf > 0.0)
    value = _owen(hf, kf, rf)
    value[first] = ndtr(hf[first]) - _owen(hf[first], -kf[first], -rf[first])
    value[second] = ndtr(kf[second]) - _owen(-hf[second], kf[second], -rf[second])
    logs = np.log(np.where(value > TAIL, value, 1.0))
    for i in np.nonzero(value <= TAIL)[0]:
        logs[i] = _tail_log_integral(hf[i], kf[i], rf[i])
    out[finite] = logs
    return out
