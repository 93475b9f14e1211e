r"""One-dimensional integrals of a log-concave integrand, on the log scale, far into the tails.

:math:`\log\int_a^b e^{f(x)}\,dx` for a concave f (a Gaussian density times the probability of a
convex set moved linearly with x, by Prékopa's theorem): the bivariate normal CDF's and
rectangle's tails (``bivariate_normal``) and the trivariate rectangle's (``trivariate_normal``).
``narrowed_window`` finds, by grid searches, the window where f lies within ``DROP`` of its
maximum (outside it the integrand is below e^-60 of its peak); ``log_simpson`` and
``log_gauss_legendre`` integrate over it with the peak factored out, so nothing underflows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: The window keeps the points where the log-integrand is within this of its maximum.
DROP = 60.0


def narrowed_window(
    log_integrand: Callable[[np.ndarray], np.ndarray], start: float, stop: float, points: tuple[int, ...]
) -> tuple[float, float] | None:
    """[start, stop] narrowed once per entry of ``points`` (a grid of that many points each time:
    the peak can be far narrower than the first grid) to the grid cells where the log-integrand
    is within ``DROP`` of its maximum; None when it is -inf on the whole first grid."""
    lower, upper = start, stop
    for n in points:
        grid = np.linspace(lower, upper, n)
        values = log_integrand(grid)
        top = values.max()
        if not np.isfinite(top):
            return None
        keep = np.flatnonzero(values > top - DROP)
        spacing = grid[1] - grid[0]
        lower, upper = max(grid[keep[0]] - spacing, start), min(grid[keep[-1]] + spacing, stop)
    return lower, upper


def log_simpson(log_integrand: Callable[[np.ndarray], np.ndarray], lower: float, upper: float, points: int) -> float:
    """The log of the integral over [lower, upper] by Simpson's rule on ``points`` (odd) points; the
    step is the window's width over the intervals (a difference of two grid points near each
    other would lose digits)."""
    logs = log_integrand(np.linspace(lower, upper, points))
    weights = np.ones(points)
    weights[1:-1:2], weights[2:-1:2] = 4.0, 2.0
    top = logs.max()
    return float(top + np.log(np.sum(weights * np.exp(logs - top)) * ((upper - lower) / (points - 1)) / 3.0))


def log_gauss_legendre(
    log_integrand: Callable[[np.ndarray], np.ndarray], lower: float, upper: float, nodes: int
) -> float:
    """The log of the integral over [lower, upper] by ``nodes``-point Gauss–Legendre."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    half = 0.5 * (upper - lower)
    logs = log_integrand(lower + half * (t + 1.0))
    top = logs.max()
    return float(top + np.log(half * np.sum(w * np.exp(logs - top))))
