r"""The log of the standard bivariate normal CDF, accurate far into the lower tail, and of a rectangle's probability.

:math:`\Phi_2(h, k; \rho) = P(X \le h, Y \le k)` for standard normals with correlation
:math:`\rho`: the probability of a record's two binary categories given its other traits
(``bayesgen.likelihoods.mixed``), once each liability is oriented so that its category is
"below 0". ``log_bivariate_normal_rectangle`` gives :math:`P(a_1 < X \le b_1, a_2 < Y \le b_2)`
(two categories of which one or both are ordinal) from it.

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

from .log_integral import log_simpson, narrowed_window

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
    window = narrowed_window(log_integrand, h - reach, h, (COARSE, FINE))
    return -np.inf if window is None else log_simpson(log_integrand, *window, FINE)


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


#: Below this share of the largest term the rectangle's inclusion-exclusion has cancelled too
#: much: the probability is then integrated numerically.
CANCELLATION = 1e-6


def log_bivariate_normal_rectangle(lower1, upper1, lower2, upper2, rho) -> np.ndarray:
    r""":math:`\log P(a_1 < X \le b_1,\ a_2 < Y \le b_2)` for standard normals with correlation
    :math:`\rho`, elementwise (bounds may be ±inf).

    Each interval is first reflected to the lower side (:math:`(a, b) \to (-b, -a)` when
    :math:`a + b > 0`, flipping the sign of :math:`\rho` once per reflected coordinate), so that
    the four terms of :math:`\Phi_2(b_1, b_2) - \Phi_2(a_1, b_2) - \Phi_2(b_1, a_2) + \Phi_2(a_1, a_2)`
    are lower-tail probabilities, each from ``log_bivariate_normal_cdf``; a term with an infinite
    lower bound is 0, so a half-line (a binary category) leaves one or two terms. Where the terms
    cancel to below ``CANCELLATION`` of the largest, the probability is
    :math:`\int_{a_1}^{b_1} \varphi(x)[\Phi((b_2 - \rho x)/s) - \Phi((a_2 - \rho x)/s)]\,dx`,
    :math:`s = \sqrt{1 - \rho^2}`, by Simpson's rule on the log scale (``_rectangle_by_quadrature``).
    """
    lower1, upper1, lower2, upper2, rho = np.broadcast_arrays(
        *(np.asarray(x, dtype=np.float64) for x in (lower1, upper1, lower2, upper2, rho))
    )
    flip1, flip2 = lower1 + upper1 > 0.0, lower2 + upper2 > 0.0
    a1, b1 = np.where(flip1, -upper1, lower1), np.where(flip1, -lower1, upper1)
    a2, b2 = np.where(flip2, -upper2, lower2), np.where(flip2, -lower2, upper2)
    r = np.where(flip1 != flip2, -rho, rho)
    top = log_bivariate_normal_cdf(b1, b2, r)
    with np.errstate(invalid="ignore"):
        rest = (
            np.exp(log_bivariate_normal_cdf(a1, b2, r) - top)
            + np.exp(log_bivariate_normal_cdf(b1, a2, r) - top)
            - np.exp(log_bivariate_normal_cdf(a1, a2, r) - top)
        )
    rest = np.where(np.isfinite(top), rest, 0.0)
    share = 1.0 - rest
    out = np.where(share > CANCELLATION, top + np.log1p(-np.minimum(rest, 1.0 - CANCELLATION)), -np.inf)
    out = np.where(np.isfinite(top), out, -np.inf)
    for i in np.flatnonzero(np.isfinite(top) & (share <= CANCELLATION)):
        out.flat[i] = _rectangle_by_quadrature(a1.flat[i], b1.flat[i], a2.flat[i], b2.flat[i], r.flat[i])
    return out


def _rectangle_by_quadrature(a1: float, b1: float, a2: float, b2: float, rho: float) -> float:
    r"""log of the rectangle's probability, :math:`\log\int_{a_1}^{b_1}\varphi(x)\,P(a_2 < Y \le b_2 \mid x)\,dx`,
    by Simpson's rule on the log scale over the window where the log-integrand lies within 60 of
    its maximum (it is concave: a Gaussian measure of an interval moved linearly). The inner
    probability comes from ``log_interval_probability``, on the side of its interval nearer the
    lower tail: a plain difference of two CDFs near 1 would cancel to 0."""
    from .truncated_normal import log_interval_probability

    s = np.sqrt((1.0 - rho) * (1.0 + rho))

    def log_integrand(x):
        return (
            -0.5 * x * x - 0.5 * np.log(2.0 * np.pi) + log_interval_probability((a2 - rho * x) / s, (b2 - rho * x) / s)
        )

    finite = [abs(v) for v in (a1, b1, a2, b2) if np.isfinite(v)]
    reach = 40.0 + max(finite, default=0.0) / s
    window = narrowed_window(log_integrand, max(a1, -reach), min(b1, reach), (COARSE, COARSE))
    return -np.inf if window is None else log_simpson(log_integrand, *window, FINE)
