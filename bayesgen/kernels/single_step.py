r"""The marker sweep of single-step Bayesian regression: observed int8 genotypes and imputed floats.

Records of genotyped animals read centred int8 codes (``lookup[j, codes[j, r]]``, as
``bayesgen.kernels.markers``); records of ungenotyped animals read their imputed genotypes
:math:`\hat m_{rj}` (``imputed[j, r]``, float32 or float64, markers x records). The full
conditionals are those of ``bayesgen.kernels.markers`` (Gaussian, given per-marker prior
variances) and ``bayesgen.kernels.spike_slab`` (the spike-and-slab draw of
:math:`(\delta_j, \alpha_j)` with :math:`\alpha_j` integrated out of :math:`\delta_j`), whose
per-marker draw :func:`bayesgen.kernels.spike_slab._draw_inclusion` is reused.
"""

import numpy as np

from .._numba import kernel, reduction
from .spike_slab import _draw_inclusion


@kernel
def sweep_single_step_markers(
    rng,
    alpha,
    var_alpha,
    log_prior_odds,
    spike,
    codes,
    lookup,
    genotyped_records,
    imputed,
    imputed_records,
    xx,
    resid,
    weights,
    genetic_values,
    sigma2_e,
):
    r"""Draw every :math:`\alpha_j` (``spike``: every :math:`(\delta_j, \alpha_j)`) in order; returns the number
    of non-zero effects.

    With :math:`r_j = x_j'We + x_j'Wx_j\,\alpha_j` and :math:`C_j = x_j'Wx_j + \sigma^2_e/\sigma^2_j`:
    Gaussian :math:`\alpha_j \mid \cdot \sim N(r_j/C_j, \sigma^2_e/C_j)`; spike and slab:
    :math:`\log\frac{P(\delta_j=1\mid\cdot)}{P(\delta_j=0\mid\cdot)} = \log\frac{\pi}{1-\pi}
    + \tfrac12\log\frac{\sigma^2_e}{C_j\sigma^2_j} + \frac{r_j^2}{2\sigma^2_eC_j}`, then
    :math:`\alpha_j` as above if included, else 0. ``x_j`` is ``lookup[j, codes[j, k]]`` on record
    ``genotyped_records[k]`` and ``imputed[j, k]`` on record ``imputed_records[k]``; ``xx[j]`` its
    weighted sum of squares (fixed once bound). ``resid`` and ``genetic_values`` change in place.

    Speed: the residuals and weights of the two groups of records are gathered once into contiguous
    arrays (in the order of the columns of ``codes`` and ``imputed``), swept there, and scattered back
    at the end (the genetic values from the total change of the residual), so that the per-marker
    loops run over contiguous memory (the imputed rows' dot products as SIMD reductions).
    """
    n_markers = alpha.shape[0]
    n_g = genotyped_records.size
    n_n = imputed_records.size
    e_g = np.empty(n_g)
    w_g = np.empty(n_g)
    for k in range(n_g):
        e_g[k] = resid[genotyped_records[k]]
        w_g[k] = weights[genotyped_records[k]]
    e_n = np.empty(n_n)
    w_n = np.empty(n_n)
    for k in range(n_n):
        e_n[k] = resid[imputed_records[k]]
        w_n[k] = weights[imputed_records[k]]
    start_g = e_g.copy()
    start_n = e_n.copy()
    n_included = 0
    for j in range(n_markers):
        values = lookup[j]
        row = codes[j]
        imputed_row = imputed[j]
        xe = _coded_dot(values, row, w_g, e_g) + _imputed_dot(imputed_row, w_n, e_n)
        lhs = xx[j] + sigma2_e / var_alpha[j]
        rhs = xe + xx[j] * alpha[j]
        if spike:
            new = _draw_inclusion(rng, rhs, lhs, var_alpha[j], log_prior_odds, sigma2_e)
        else:
            new = rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        if new != 0.0:
            n_included += 1
        delta = new - alpha[j]
        if delta != 0.0:
            for k in range(n_g):
                e_g[k] -= values[row[k]] * delta
            for k in range(n_n):
                e_n[k] -= imputed_row[k] * delta
        alpha[j] = new
    for k in range(n_g):
        r = genotyped_records[k]
        resid[r] = e_g[k]
        genetic_values[r] += start_g[k] - e_g[k]
    for k in range(n_n):
        r = imputed_records[k]
        resid[r] = e_n[k]
        genetic_values[r] += start_n[k] - e_n[k]
    return n_included


@reduction
def _coded_dot(values, row, w, e):
    """sum_k w_k x_k e_k with x_k = values[row[k]] (int8 codes centred by the lookup)."""
    s = 0.0
    for k in range(row.size):
        s += values[row[k]] * w[k] * e[k]
    return s


@reduction
def _imputed_dot(row, w, e):
    """sum_k w_k x_k e_k over the imputed genotypes of one marker."""
    s = 0.0
    for k in range(row.size):
        s += row[k] * w[k] * e[k]
    return s


@kernel
def single_step_cross_products(codes, lookup, genotyped_records, imputed, imputed_records, weights):
    """Per marker, 1'Wx_j and x_j'Wx_j over the records (int8 codes and imputed values)."""
    n_markers = codes.shape[0]
    sums = np.zeros(n_markers)
    squares = np.zeros(n_markers)
    for j in range(n_markers):
        s = 0.0
        ss = 0.0
        for k in range(genotyped_records.size):
            x = lookup[j, codes[j, k]]
            w = weights[genotyped_records[k]]
            s += w * x
            ss += w * x * x
        for k in range(imputed_records.size):
            x = np.float64(imputed[j, k])
            w = weights[imputed_records[k]]
            s += w * x
            ss += w * x * x
        sums[j] = s
        squares[j] = ss
    return sums, squares


@kernel
def single_step_genetic_values(codes, lookup, genotyped_records, imputed, imputed_records, alpha, n_records):
    """X alpha over the records (int8 codes and imputed values)."""
    out = np.zeros(n_records)
    for j in range(alpha.shape[0]):
        a = alpha[j]
        if a == 0.0:
            continue
        for k in range(genotyped_records.size):
            out[genotyped_records[k]] += lookup[j, codes[j, k]] * a
        for k in range(imputed_records.size):
            out[imputed_records[k]] += imputed[j, k] * a
    return out
