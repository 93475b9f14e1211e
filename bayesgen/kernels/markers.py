"""Marker-effect sweeps over int8 genotypes, centred on the fly.

The kernels do not know the prior: a Gaussian sweep takes a per-marker prior variance
vector, which each prior (BayesA, BRR, ...) updates between sweeps.
"""

import numpy as np

from .._numba import kernel


@kernel
def sweep_markers_gaussian(rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic_values, sigma2_e):
    r"""Draw every marker effect from its full conditional, updating the residual in place.

    Model: :math:`y = \dots + X\alpha + e`, :math:`\alpha_j \sim N(0, \sigma^2_j)`,
    :math:`e \sim N(0, \sigma^2_e W^{-1})` (W: 0/1 weights, 0 = missing phenotype), with
    centred genotypes :math:`x_{ij} = \text{lookup}[j, \text{codes}[j, i]]`. Then

    .. math:: \alpha_j \mid \cdot \sim N\Big(\frac{x_j' W e + x_j'Wx_j\,\alpha_j}{x_j'Wx_j + \sigma^2_e/\sigma^2_j},
              \; \frac{\sigma^2_e}{x_j'Wx_j + \sigma^2_e/\sigma^2_j}\Big),

    where e is the residual with the current :math:`\alpha_j` still in the fit.

    ``codes``: int8 (markers x records); ``lookup[j, c]`` the centred value of code c
    (3 = missing, 0); ``xx[j] = x_j' W x_j``. Modifies ``alpha``, ``resid`` (minus the
    change in fit) and ``genetic_values`` (plus the change in X alpha). O(records) per marker.
    """
    n_markers, n = codes.shape
    for j in range(n_markers):
        xe = 0.0
        for i in range(n):
            xe += weights[i] * lookup[j, codes[j, i]] * resid[i]
        lhs = xx[j] + sigma2_e / var_alpha[j]
        mean = (xe + xx[j] * alpha[j]) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        delta = new - alpha[j]
        if delta != 0.0:
            for i in range(n):
                x = lookup[j, codes[j, i]]
                resid[i] -= x * delta
                genetic_values[i] += x * delta
        alpha[j] = new


@kernel
def genetic_values_from_codes(codes, lookup, alpha):
    """X alpha for int8 genotypes (markers x individuals): the genomic values of individuals."""
    n_markers, n = codes.shape
    out = np.zeros(n)
    for j in range(n_markers):
        a = alpha[j]
        for i in range(n):
            out[i] += lookup[j, codes[j, i]] * a
    return out


@kernel
def weighted_cross_products(codes, lookup, weights):
    """Per marker, 1' W x_j and x_j' W x_j (for centring checks and default priors)."""
    n_markers, n = codes.shape
    sums = np.zeros(n_markers)
    squares = np.zeros(n_markers)
    for j in range(n_markers):
        s = 0.0
        ss = 0.0
        for i in range(n):
            x = lookup[j, codes[j, i]]
            s += weights[i] * x
            ss += weights[i] * x * x
        sums[j] = s
        squares[j] = ss
    return sums, squares
