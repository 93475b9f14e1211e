"""Spike-and-slab marker sweep: draw (delta_j, alpha_j) jointly, skipping excluded markers' updates."""

import numpy as np

from .._numba import kernel


@kernel
def sweep_markers_spike_slab(rng, alpha, var_alpha, log_prior_odds, codes, lookup, xx, resid, weights,
                             genetic_values, sigma2_e):
    r"""Draw every (delta_j, alpha_j) from its joint full conditional; return the number included.

    Prior: :math:`\alpha_j = \delta_j \beta_j`, :math:`\delta_j \sim \text{Bernoulli}(\pi)`,
    :math:`\beta_j \sim N(0, \sigma^2_j)` (``var_alpha``; common for BayesC, per marker for
    BayesB); ``log_prior_odds`` is :math:`\log(\pi/(1-\pi))` (``inf`` for :math:`\pi = 1`).
    With :math:`r_j = x_j'W(e + x_j\alpha_j)` (the residual without marker j) and
    :math:`C_j = x_j'Wx_j + \sigma^2_e/\sigma^2_j`, integrating :math:`\beta_j` out gives

    .. math:: \log\frac{P(\delta_j=1\mid\cdot)}{P(\delta_j=0\mid\cdot)} = \log\frac{\pi}{1-\pi}
              + \tfrac12\log\frac{\sigma^2_e}{C_j\sigma^2_j} + \frac{r_j^2}{2\sigma^2_e C_j},

    then :math:`\alpha_j \mid \delta_j = 1 \sim N(r_j/C_j, \sigma^2_e/C_j)` and
    :math:`\alpha_j = 0` otherwise. The inclusion probability is the logistic function of the
    log odds, evaluated on the side that cannot overflow. Random numbers per marker: one
    uniform (``rng.random()``), then one standard normal only if the marker is included.

    The residual (and ``genetic_values``) change only when :math:`\alpha_j` changes, so a
    marker excluded before and after costs one pass (for :math:`r_j`), not two.
    ``codes``/``lookup``/``xx``/``weights`` as in :func:`sweep_markers_gaussian`.
    """
    n_markers, n = codes.shape
    n_included = 0
    for j in range(n_markers):
        row = codes[j]
        values = lookup[j]
        xe = 0.0
        for i in range(n):
            xe += weights[i] * values[row[i]] * resid[i]
        lhs = xx[j] + sigma2_e / var_alpha[j]
        rhs = xe + xx[j] * alpha[j]
        log_odds = log_prior_odds + 0.5 * np.log(sigma2_e / (lhs * var_alpha[j])) + 0.5 * rhs * rhs / (sigma2_e * lhs)
        if log_odds >= 0.0:
            p_in = 1.0 / (1.0 + np.exp(-log_odds))
        else:
            odds = np.exp(log_odds)
            p_in = odds / (1.0 + odds)
        if rng.random() < p_in:
            new = rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
            n_included += 1
        else:
            new = 0.0
        delta = new - alpha[j]
        if delta != 0.0:
            for i in range(n):
                change = values[row[i]] * delta
                resid[i] -= change
                genetic_values[i] += change
        alpha[j] = new
    return n_included
