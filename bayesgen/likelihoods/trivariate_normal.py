r"""The log of a trivariate normal rectangle's probability, accurate far into the tails.

:math:`P(a_1 < X_1 \le b_1,\ a_2 < X_2 \le b_2,\ a_3 < X_3 \le b_3)` for standard normals with
correlations :math:`r_{12}, r_{13}, r_{23}`: the probability of a record's three categories (or
two categories and a censored value's window) given its Gaussian traits
(``bayesgen.likelihoods.mixed``). One correlation matrix, many records.

**Orthants** :math:`\Phi_3(h; R) = P(X \le h)`, by Plackett's (1954) identity along the path
:math:`R(t)`, :math:`t \in [0, 1]`, that keeps the largest correlation (called :math:`r_{23}`
after reordering) and scales the other two by t (Genz 2004). :math:`R(t)` is a convex
combination of two positive definite matrices, so positive definite all along, and

.. math:: \Phi_3(h; R) = \Phi(h_1)\Phi_2(h_2, h_3; r_{23}) + \int_0^1 \Big[r_{12}\,
          \varphi_2(h_1, h_2; t r_{12})\,\Phi\Big(\frac{h_3 - \mu_{3\cdot12}(t)}{\sigma_{3\cdot12}(t)}\Big)
          + r_{13}\,\varphi_2(h_1, h_3; t r_{13})\,\Phi\Big(\frac{h_2 - \mu_{2\cdot13}(t)}{\sigma_{2\cdot13}(t)}\Big)\Big]\,dt,

(:math:`\partial\Phi_3/\partial r_{ij} = \varphi_2(h_i, h_j; r_{ij})\,P(X_k \le h_k \mid X_i = h_i, X_j = h_j)`),
by ``NODES``-point Gauss–Legendre: a smooth integrand, absolute error about 1e-16.

**Rectangles.** Each interval is reflected to the lower side (:math:`(a, b) \to (-b, -a)` when
:math:`a + b > 0`, flipping the signs of its correlations), then the eight corners'
orthants are added with alternating signs (a corner with an infinite lower bound is 0, so a
binary category leaves one orthant). Where the result falls below ``CANCELLATION`` of the largest
corner or below ``TAIL`` itself, the absolute error would no longer be small beside it: the log is then
:math:`\log\int_{a_1}^{b_1}\varphi(x)\,P_2(x)\,dx`, with :math:`P_2(x)` the rectangle of
:math:`(X_2, X_3) \mid X_1 = x` (``log_bivariate_normal_rectangle``), by Gauss–Legendre on the
log scale over the window where the log-integrand, concave (Prékopa: a Gaussian measure of a
convex set moved linearly), lies within 60 of its maximum. ``tests/test_trivariate_normal.py``
checks both against adaptive quadrature.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from .bivariate_normal import log_bivariate_normal_cdf, log_bivariate_normal_rectangle
from .log_integral import log_gauss_legendre, narrowed_window

#: Gauss–Legendre points of the Plackett integral.
NODES = 24
#: Below this probability the log-scale integral takes over: the orthants' absolute error (about
#: 1e-16) is then no longer small beside it (down to 1e-10 the log agrees with the integral's to
#: 3e-9, below it to 3e-4 or worse).
TAIL = 1e-10
#: Below this share of the largest corner the inclusion-exclusion has cancelled too much: the
#: log-scale integral again.
CANCELLATION = 1e-7
#: Points of the coarse search for the log-integrand's maximum, and Gauss–Legendre nodes over its
#: window (each point costs a bivariate rectangle, itself often in its tail).
COARSE, FINE = 101, 64

_T, _W = np.polynomial.legendre.leggauss(NODES)
_T, _W = 0.5 * (_T + 1.0), 0.5 * _W


def _phi2(x: np.ndarray, y: np.ndarray, r: np.ndarray) -> np.ndarray:
    """The standard bivariate normal density with correlation r (broadcast)."""
    one_minus = (1.0 - r) * (1.0 + r)
    return np.exp(-0.5 * (x * x - 2.0 * r * x * y + y * y) / one_minus) / (2.0 * np.pi * np.sqrt(one_minus))


def _conditional_cdf(h_k, h_i, h_j, r_ij, r_ik, r_jk) -> np.ndarray:
    r""":math:`P(X_k \le h_k \mid X_i = h_i, X_j = h_j)` with correlations r_ij, r_ik, r_jk (broadcast)."""
    one_minus = (1.0 - r_ij) * (1.0 + r_ij)
    beta_i = (r_ik - r_ij * r_jk) / one_minus
    beta_j = (r_jk - r_ij * r_ik) / one_minus
    variance = 1.0 - r_ik * beta_i - r_jk * beta_j
    return ndtr((h_k - beta_i * h_i - beta_j * h_j) / np.sqrt(variance))


def trivariate_normal_orthant(h: np.ndarray, corr: np.ndarray) -> np.ndarray:
    r""":math:`\Phi_3(h; R)` for rows of h (n x 3, finite) and one correlation matrix (module docstring)."""
    h = np.asarray(h, dtype=np.float64)
    pairs = [(0, 1), (0, 2), (1, 2)]
    # the largest correlation stays fixed along the path: it is called r23
    keep = max(pairs, key=lambda p: abs(corr[p]))
    first = ({0, 1, 2} - set(keep)).pop()
    order = [first, *keep]
    h = h[:, order]
    r12, r13, r23 = corr[order[0], order[1]], corr[order[0], order[2]], corr[order[1], order[2]]
    h1, h2, h3 = h[:, :1], h[:, 1:2], h[:, 2:3]  # (n, 1) against the nodes (NODES,)
    start = ndtr(h[:, 0]) * np.exp(log_bivariate_normal_cdf(h[:, 1], h[:, 2], r23))
    a, b = _T * r12, _T * r13
    along = np.zeros(h.shape[0])
    if r12 != 0.0:
        along += r12 * (_phi2(h1, h2, a) * _conditional_cdf(h3, h1, h2, a, b, r23)) @ _W
    if r13 != 0.0:
        along += r13 * (_phi2(h1, h3, b) * _conditional_cdf(h2, h1, h3, b, a, r23)) @ _W
    return start + along


def log_trivariate_normal_rectangle(lower: np.ndarray, upper: np.ndarray, corr: np.ndarray) -> np.ndarray:
    r""":math:`\log P(a < X \le b)` per row of ``lower`` and ``upper`` (n x 3, ±inf allowed, each
    row's intervals non-empty) for standard normals with correlation matrix ``corr`` (3 x 3)."""
    lower, upper = np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64)
    corr = np.asarray(corr, dtype=np.float64)
    n = lower.shape[0]
    out = np.empty(n)
    flip = lower + upper > 0.0
    a, b = np.where(flip, -upper, lower), np.where(flip, -lower, upper)
    # records sharing a reflection share the reflected correlations
    for signs in np.unique(flip, axis=0):
        rows = np.flatnonzero(np.all(flip == signs, axis=1))
        s = np.where(signs, -1.0, 1.0)
        r = corr * np.outer(s, s)
        total, largest = np.zeros(rows.size), np.zeros(rows.size)
        for corner in range(8):
            pick = [(corner >> j) & 1 for j in range(3)]  # 1: that coordinate's lower bound
            h = np.column_stack([(a if pick[j] else b)[rows, j] for j in range(3)])
            alive = np.all(np.isfinite(h), axis=1)  # an infinite lower bound: the corner is 0
            if not alive.any():
                continue
            value = np.zeros(rows.size)
            value[alive] = trivariate_normal_orthant(h[alive], r)
            total += (-1.0) ** sum(pick) * value
            largest = np.maximum(largest, np.abs(value))
        good = (total > TAIL) & (total > CANCELLATION * largest)
        out[rows[good]] = np.log(total[good])
        for i in rows[~good]:
            out[i] = _log_rectangle_by_integral(a[i], b[i], r)
    return out


def _log_rectangle_by_integral(a: np.ndarray, b: np.ndarray, r: np.ndarray) -> float:
    r""":math:`\log\int_{a_1}^{b_1}\varphi(x)P_2(x)\,dx` by Gauss–Legendre on the log scale (module docstring)."""
    s2, s3 = np.sqrt((1.0 - r[0, 1]) * (1.0 + r[0, 1])), np.sqrt((1.0 - r[0, 2]) * (1.0 + r[0, 2]))
    rho = (r[1, 2] - r[0, 1] * r[0, 2]) / (s2 * s3)

    def log_integrand(x):
        inner = log_bivariate_normal_rectangle(
            (a[1] - r[0, 1] * x) / s2,
            (b[1] - r[0, 1] * x) / s2,
            (a[2] - r[0, 2] * x) / s3,
            (b[2] - r[0, 2] * x) / s3,
            rho,
        )
        return -0.5 * x * x - 0.5 * np.log(2.0 * np.pi) + inner

    finite = np.concatenate([a[np.isfinite(a)], b[np.isfinite(b)]])
    reach = 40.0 + np.abs(finite).max() / min(s2, s3)
    window = narrowed_window(log_integrand, max(a[0], -reach), min(b[0], reach), (COARSE, COARSE))
    return -np.inf if window is None else log_gauss_legendre(log_integrand, *window, FINE)


__all__ = ["log_trivariate_normal_rectangle", "trivariate_normal_orthant"]
