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

    ``codes``: int8 (markers x records), 0/1/2 or 3 = missing; ``lookup[j, c]`` the centred
    value of code c (``c + lookup[j, 0]`` for c < 3, 0 for missing); ``xx[j] = x_j' W x_j``.
    Modifies ``alpha``, ``resid`` (minus the change in fit, on every record) and
    ``genetic_values`` (plus the change in X alpha). O(records) per marker.

    Speed: the inner loops read the raw codes, never the lookup table. With
    :math:`x_{ij} = c_{ij} - \mu_j` on observed genotypes,
    :math:`x_j'We = \sum_{i \in O} c_{ij} e_i - \mu_j \sum_{i \in O} e_i` over O, the
    phenotyped records with an observed genotype: one pass gives the code-weighted and the
    plain sum of e over all records, then the few unphenotyped records (a list) and, only for
    markers that have them, the missing genotypes (a second scan) are taken out. The residual
    update :math:`e_i \mathrel{-}= \delta c_{ij} - \delta\mu_j` runs over all records and
    the missing entries are put back the same way. The genetic values are updated once per
    sweep from the total change of the residual (the sweep changes e by -X dalpha and the
    genetic values by +X dalpha). Weights other than 0/1 take a direct loop.
    """
    n = codes.shape[1]
    binary = True
    n_unobserved = 0
    for i in range(n):
        if weights[i] == 0.0:
            n_unobserved += 1
        elif weights[i] != 1.0:
            binary = False
    if not binary:
        _sweep_markers_weighted(rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic_values, sigma2_e)
        return
    unobserved = np.empty(n_unobserved, dtype=np.int64)
    k = 0
    for i in range(n):
        if weights[i] == 0.0:
            unobserved[k] = i
            k += 1
    start = resid.copy()
    _sweep_markers_binary(rng, alpha, var_alpha, codes, lookup, xx, resid, unobserved, sigma2_e)
    for i in range(n):
        genetic_values[i] += start[i] - resid[i]


@kernel
def _subtract_code_change(row, resid, delta, neg_centre, n_missing, code_sum):
    """e_i -= delta x_ij for one marker, x_ij = c_i - centre (0 where the genotype is missing).

    Returns the change taken off sum_i e_i: delta (c_i - centre) summed over the
    n - n_missing observed genotypes. Modifies ``resid``.
    """
    n = row.size
    shift = delta * neg_centre
    if n_missing == 0:
        for i in range(n):
            resid[i] -= row[i] * delta + shift
    else:
        for i in range(n):
            resid[i] -= (row[i] != 3) * (row[i] * delta + shift)
    return delta * (code_sum - 3 * n_missing) + shift * (n - n_missing)


@kernel
def _code_sums(row):
    """``(sum_i c_i, count of c_i == 3)`` over a row of codes (integer, vectorises)."""
    total = 0
    n_missing = 0
    for i in range(row.size):
        c = np.int64(row[i])
        total += c
        n_missing += c == 3
    return total, n_missing


@kernel
def _code_residual_dot(row, resid):
    """``sum_i c_i e_i`` over all records, in four partial sums so the additions do not wait
    on each other (the summation order differs from a plain loop only by rounding)."""
    n = row.size
    s0 = s1 = s2 = s3 = 0.0
    stop = n - n % 4
    for i in range(0, stop, 4):
        s0 += row[i] * resid[i]
        s1 += row[i + 1] * resid[i + 1]
        s2 += row[i + 2] * resid[i + 2]
        s3 += row[i + 3] * resid[i + 3]
    for i in range(stop, n):
        s0 += row[i] * resid[i]
    return (s0 + s1) + (s2 + s3)


@kernel
def _missing_residual_sum(row, resid):
    """Sum of e_i over the records whose code is 3 (missing genotype), without branches."""
    n = row.size
    s0 = s1 = s2 = s3 = 0.0
    stop = n - n % 4
    for i in range(0, stop, 4):
        s0 += (row[i] == 3) * resid[i]
        s1 += (row[i + 1] == 3) * resid[i + 1]
        s2 += (row[i + 2] == 3) * resid[i + 2]
        s3 += (row[i + 3] == 3) * resid[i + 3]
    for i in range(stop, n):
        s0 += (row[i] == 3) * resid[i]
    return (s0 + s1) + (s2 + s3)


@kernel
def _sweep_markers_binary(rng, alpha, var_alpha, codes, lookup, xx, resid, unobserved, sigma2_e):
    """The sweep of :func:`sweep_markers_gaussian` for 0/1 weights (``unobserved``: records with 0)."""
    n_markers, n = codes.shape
    sum_e = 0.0  # sum_i e_i over all records, kept up to date through the sweep
    for i in range(n):
        sum_e += resid[i]
    for j in range(n_markers):
        row = codes[j]
        neg_centre = lookup[j, 0]  # -mu_j
        code_sum, n_missing = _code_sums(row)
        # Over all records, code 3 (missing) counted as 3; taken out below.
        sum_ce = _code_residual_dot(row, resid)
        obs_e = sum_e
        if n_missing > 0:
            missing_e = _missing_residual_sum(row, resid)
            sum_ce -= 3.0 * missing_e
            obs_e -= missing_e
        for k in range(unobserved.size):
            i = unobserved[k]
            if row[i] != 3:  # missing genotypes were taken out above
                sum_ce -= row[i] * resid[i]
                obs_e -= resid[i]
        xe = sum_ce + neg_centre * obs_e
        lhs = xx[j] + sigma2_e / var_alpha[j]
        mean = (xe + xx[j] * alpha[j]) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        delta = new - alpha[j]
        if delta != 0.0:
            sum_e -= _subtract_code_change(row, resid, delta, neg_centre, n_missing, code_sum)
        alpha[j] = new


@kernel
def _sweep_markers_weighted(rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic_values, sigma2_e):
    """The sweep of :func:`sweep_markers_gaussian` for any weights, element by element."""
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
