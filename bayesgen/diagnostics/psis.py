"""Pareto-smoothed importance sampling (PSIS) of one vector of log importance ratios.

Vehtari, Simpson, Gelman, Yao & Gabry (2024), "Pareto smoothed importance sampling", JMLR
25(72). Given S draws θ_s from p and log ratios r_s = log q(θ_s) − log p(θ_s) (up to a
constant), the M = ceil(min(S / 5, 3 √(S / r_eff))) largest ratios are replaced by the
expected order statistics of a generalized Pareto distribution (GPD) fitted to them, then
truncated at the largest raw ratio; the self-normalised weights w_s ∝ exp(r̃_s) estimate
E_q[f] by Σ w_s f(θ_s).

The fitted GPD shape k̂ is the reliability diagnostic: the estimate is trustworthy when
k̂ < min(1 − 1/log10(S), 0.7) (:func:`k_threshold`). The GPD fit is the empirical-Bayes
profile likelihood of Zhang & Stephens (2009, Technometrics 51:316) with the weakly
informative prior of Vehtari et al. pulling k̂ towards 0.5 by 10 pseudo-observations,
the same estimator as ``arviz.psislw`` and R's ``loo``/``posterior`` packages.

Plain numpy: this runs once per call on a vector of S values, nothing to compile.
"""

from __future__ import annotations

import math

import numpy as np

#: The GPD fit's prior: scale of the grid for θ and pseudo-observations pulling k̂ to 0.5.
_PRIOR_GRID_SCALE = 3.0
_PRIOR_K_WEIGHT = 10.0
_PRIOR_K_CENTRE = 0.5


def k_threshold(n_draws: int) -> float:
    """The largest reliable Pareto k̂ for S draws: min(1 − 1/log10(S), 0.7) (Vehtari et al. 2024).

    0.7 from S = 2,154 draws on; fewer draws tolerate less (0.67 for S = 1,000).
    """
    if n_draws < 2:
        return -math.inf
    return min(1.0 - 1.0 / math.log10(n_draws), 0.7)


def _fit_gpd(exceedances: np.ndarray) -> tuple[float, float]:
    """Shape k̂ and scale σ̂ of a GPD fitted to sorted positive exceedances x_1 <= ... <= x_n.

    With θ = −k/σ the GPD log likelihood profiled over k is
    n (log(−θ / k(θ)) − k(θ) − 1) with k(θ) = mean(log(1 − θ x_i)). Zhang & Stephens average θ
    over a grid of m = 30 + ⌊√n⌋ points, weighting each by its profile likelihood
    normalised over the grid, then k̂ = k(θ̄), σ̂ = −k̂ / θ̄, and k̂ is shrunk towards 0.5.
    """
    n = exceedances.size
    m = 30 + int(math.sqrt(n))
    quartile = exceedances[int(n / 4 + 0.5) - 1]
    theta = 1.0 - np.sqrt(m / (np.arange(1, m + 1) - 0.5))
    theta = theta / (_PRIOR_GRID_SCALE * quartile) + 1.0 / exceedances[-1]
    k_grid = np.log1p(-theta[:, None] * exceedances).mean(axis=1)
    profile = n * (np.log(-theta / k_grid) - k_grid - 1.0)
    # Weight of grid point j: 1 / Σ_i exp(l_i − l_j), i.e. softmax without overflow.
    weights = 1.0 / np.exp(profile[None, :] - profile[:, None]).sum(axis=1)
    keep = weights >= 10.0 * np.finfo(float).eps  # negligible points only add rounding noise
    weights, theta = weights[keep], theta[keep]
    theta_mean = float(np.sum(theta * weights) / weights.sum())
    k_hat = float(np.log1p(-theta_mean * exceedances).mean())
    sigma_hat = -k_hat / theta_mean
    k_hat = (n * k_hat + _PRIOR_K_WEIGHT * _PRIOR_K_CENTRE) / (n + _PRIOR_K_WEIGHT)
    return k_hat, sigma_hat


def _gpd_quantiles(probabilities: np.ndarray, k: float, sigma: float) -> np.ndarray:
    """GPD quantile σ((1 − p)^(−k) − 1)/k (σ(−log(1 − p)) when k = 0), for 0 < p < 1."""
    if abs(k) < np.finfo(float).eps:
        return -sigma * np.log1p(-probabilities)
    return sigma * np.expm1(-k * np.log1p(-probabilities)) / k


def psis_log_weights(log_ratios, *, r_eff: float = 1.0) -> tuple[np.ndarray, float]:
    """Normalised Pareto-smoothed log weights of one vector of log importance ratios, and k̂.

    Returns ``(log_weights, k_hat)`` with ``logsumexp(log_weights) == 0``. k̂ is ``inf`` when
    the tail has 4 values or fewer (S < 25, or ties), which is too few to fit; the weights
    are then the raw normalised ratios. ``r_eff`` is the relative efficiency ESS / S of the
    ratios (1 for independent draws; smaller lengthens the tail). ``log_ratios`` is not
    modified.
    """
    values = np.array(log_ratios, dtype=float).ravel()  # a copy: smoothed in place below
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError("log_ratios must be a non-empty vector of finite numbers.")
    if not r_eff > 0:
        raise ValueError(f"r_eff must be > 0, got {r_eff!r}.")
    n_draws = values.size
    values -= values.max()
    tail_length = math.ceil(min(n_draws / 5.0, 3.0 * math.sqrt(n_draws / r_eff)))
    order = np.argsort(values)
    cutoff = max(values[order[max(n_draws - tail_length - 1, 0)]], math.log(np.finfo(float).tiny))
    tail = np.flatnonzero(values > cutoff)
    k_hat = math.inf
    if tail.size > 4:
        tail = tail[np.argsort(values[tail])]
        exp_cutoff = math.exp(cutoff)
        k_hat, sigma_hat = _fit_gpd(np.exp(values[tail]) - exp_cutoff)
        if math.isfinite(k_hat):
            probabilities = (np.arange(tail.size) + 0.5) / tail.size
            values[tail] = np.log(_gpd_quantiles(probabilities, k_hat, sigma_hat) + exp_cutoff)
            # The smoothed tail may not exceed the largest raw ratio (0 after the shift).
            np.minimum(values, 0.0, out=values)
    values -= np.logaddexp.reduce(values)
    return values, k_hat
