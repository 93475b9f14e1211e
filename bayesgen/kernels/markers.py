"""Marker-effect sweeps over int8 genotypes, centred on the fly.

The kernels do not know the prior: a Gaussian sweep takes a per-marker prior variance
vector, which each prior (BayesA, BRR, ...) updates between sweeps.

Every kernel here takes ``codes`` either as int8 codes (markers x records) or packed, 2 bits
per genotype in the PLINK .bed layout (uint8, markers x ceil(records / 4); see
``bayesgen.data._genotype_kernels``). A sweep reads marker j's codes through ``marker_row``:
the int8 row itself, or the packed bytes decoded into one scratch row of n int8 (a 256-entry
table, byte -> 4 codes). The arithmetic after that is the same, so packed and int8 codes give
the same draws bit for bit.
"""

import numpy as np

from .._numba import kernel, reduction
from ..data._genotype_kernels import marker_row, n_records, row_scratch


def sweep_markers_gaussian(
    rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic_values, sigma2_e, code_stats=None
):
    r"""Draw every marker effect from its full conditional, updating the residual in place.

    Model: :math:`y = \dots + X\alpha + e`, :math:`\alpha_j \sim N(0, \sigma^2_j)`,
    :math:`e \sim N(0, \sigma^2_e W^{-1})` (W: 0/1 weights, 0 = missing phenotype), with
    centred genotypes :math:`x_{ij} = \text{lookup}[j, \text{codes}[j, i]]`. Then

    .. math:: \alpha_j \mid \cdot \sim N\Big(\frac{x_j' W e + x_j'Wx_j\,\alpha_j}{x_j'Wx_j + \sigma^2_e/\sigma^2_j},
              \; \frac{\sigma^2_e}{x_j'Wx_j + \sigma^2_e/\sigma^2_j}\Big),

    where e is the residual with the current :math:`\alpha_j` still in the fit.

    ``codes``: int8 (markers x records), 0/1/2 or 3 = missing, or the same packed 2 bits each
    (module docstring); ``lookup[j, c]`` the centred
    value of code c (``c + lookup[j, 0]`` for c < 3, 0 for missing); ``xx[j] = x_j' W x_j``;
    ``code_stats``: :func:`marker_code_stats` of ``codes`` (constant per matrix, so callers
    keep it between sweeps; computed here when not given). Modifies ``alpha``, ``resid``
    (minus the change in fit, on every record) and ``genetic_values`` (plus the change in
    X alpha). O(records) per marker.

    Speed: the inner loops read the raw codes, never the lookup table. With
    :math:`x_{ij} = c_{ij} - \mu_j` on observed genotypes,
    :math:`x_j'We = \sum_{i \in O} c_{ij} e_i - \mu_j \sum_{i \in O} e_i` over O, the
    phenotyped records with an observed genotype: one pass gives the code-weighted sum of e
    over all records (a SIMD reduction), then the few unphenotyped records (a list) and the
    marker's missing genotypes (a list in ``code_stats``; a masked pass for a marker missing
    more than 1/64 of its genotypes) are taken out. The residual update
    :math:`e_i \mathrel{-}= \delta c_{ij} - \delta\mu_j` runs over all records, with the
    residual at missing genotypes saved before and put back after, bit for bit. The genetic
    values are updated once per sweep from the total change of the residual (the sweep
    changes e by -X dalpha and the genetic values by +X dalpha). Weights other than 0/1
    take a direct loop.
    """
    if code_stats is None:
        code_stats = marker_code_stats(codes, resid.size)
    _sweep_markers_gaussian(
        rng, alpha, var_alpha, codes, lookup, xx, code_stats, resid, weights, genetic_values, sigma2_e
    )


@kernel
def _sweep_markers_gaussian(
    rng, alpha, var_alpha, codes, lookup, xx, code_stats, resid, weights, genetic_values, sigma2_e
):
    """:func:`sweep_markers_gaussian` once ``code_stats`` is known: picks the 0/1 or the general path."""
    unobserved = unobserved_records(weights)
    if unobserved.size > 0 and unobserved[0] < 0:  # weights other than 0/1
        _sweep_markers_weighted(rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic_values, sigma2_e)
        return
    start = resid.copy()
    _sweep_markers_binary(rng, alpha, var_alpha, codes, lookup, xx, code_stats, resid, unobserved, sigma2_e)
    for i in range(resid.size):
        genetic_values[i] += start[i] - resid[i]


@kernel
def unobserved_records(weights):
    """Indices of the records with weight 0, or ``[-1]`` if some weight is neither 0 nor 1."""
    n_unobserved = 0
    for i in range(weights.size):
        if weights[i] == 0.0:
            n_unobserved += 1
        elif weights[i] != 1.0:
            return np.full(1, -1, dtype=np.int64)
    out = np.empty(n_unobserved, dtype=np.int64)
    k = 0
    for i in range(weights.size):
        if weights[i] == 0.0:
            out[k] = i
            k += 1
    return out


#: A marker's missing genotypes are listed when at most 1 in LIST_FRACTION of its records is
#: missing: the lists then cost at most 8 / 64 bytes per genotype (1/8 of the int8 matrix).
#: Markers missing more take a masked pass instead (exact too, about twice the time).
LIST_FRACTION = 64


@kernel
def marker_code_stats(codes, n=-1):
    """Per marker: the sum of its observed codes, its count of missing genotypes and their list, packed.

    One int64 array for p markers: ``[0, p)`` the sums of the codes 0/1/2, ``[p, 2p)`` the
    counts of missing genotypes (code 3), ``[2p, 3p + 1)`` offsets into the tail, and from
    ``3p + 1`` the record indices with code 3, marker by marker: marker j's list is
    ``out[3p + 1 + out[2p + j] : 3p + 1 + out[2p + j + 1]]``, empty unless the marker has
    missing genotypes in at most 1 / ``LIST_FRACTION`` of the records (else its list is
    empty and the sweeps mask code 3 in a pass). Built once per matrix; O(markers x
    records) time, O(p + listed missing) memory. Packed ``codes`` need ``n``, the records.
    """
    n_markers = codes.shape[0]
    n = n_records(codes, n)
    scratch = row_scratch(codes, n)
    n_listed_total = 0
    for j in range(n_markers):
        n_missing = _code_sums(marker_row(codes, j, scratch))[1]
        if n_missing * LIST_FRACTION <= n:
            n_listed_total += n_missing
    head = 3 * n_markers + 1
    out = np.empty(head + n_listed_total, dtype=np.int64)
    k = 0
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        total, n_missing = _code_sums(row)
        out[j] = total - 3 * n_missing
        out[n_markers + j] = n_missing
        out[2 * n_markers + j] = k
        if n_missing > 0 and n_missing * LIST_FRACTION <= n:
            for i in range(n):
                if row[i] == 3:
                    out[head + k] = i
                    k += 1
    out[3 * n_markers] = k
    return out


@kernel
def _missing_range(code_stats, n_markers, j):
    """``(start, stop, n_missing)``: marker j's listed missing-genotype records are
    ``code_stats[start:stop]`` (empty if not listed: ``stop - start < n_missing``), and its
    count of missing genotypes. Index bounds rather than a slice, so the sweeps' per-marker
    loops create no array view (each costs reference counting, about 30-70 ns per marker)."""
    head = 3 * n_markers + 1
    return (head + code_stats[2 * n_markers + j], head + code_stats[2 * n_markers + j + 1], code_stats[n_markers + j])


@kernel
def _residual_total(resid):
    """sum_i e_i in record order (the 0/1-weight sweeps' running total starts from this exact value)."""
    total = 0.0
    for i in range(resid.size):
        total += resid[i]
    return total


@kernel
def _hold_unobserved(resid, unobserved):
    """Set e to 0 at the unphenotyped records for a sparse sweep; returns their values.

    Why: with e_i = 0 there, the SIMD sums of a marker's x_j'We over all records are sums
    over the phenotyped records, so a marker whose effect stays 0 (spike-and-slab, BayesR)
    needs no per-record correction. Each residual update moves e at those records; it is
    collected by :func:`_collect_unobserved` and put back by :func:`_release_unobserved`.
    """
    held = np.empty(unobserved.size)
    for k in range(unobserved.size):
        held[k] = resid[unobserved[k]]
        resid[unobserved[k]] = 0.0
    return held


@kernel
def _collect_unobserved(resid, unobserved, drift):
    """After a residual update: add e at the unphenotyped records (the update's change there)
    to ``drift``, reset them to 0, and return the sum of those changes."""
    total = 0.0
    for k in range(unobserved.size):
        i = unobserved[k]
        change = resid[i]
        drift[k] += change
        total += change
        resid[i] = 0.0
    return total


@kernel
def _release_unobserved(resid, unobserved, held, drift):
    """End of a sparse sweep: e at the unphenotyped records = held value + accumulated change."""
    for k in range(unobserved.size):
        resid[unobserved[k]] = held[k] + drift[k]


@kernel
def _max_missing(code_stats, n_markers):
    top = 0
    for j in range(n_markers):
        top = max(top, code_stats[2 * n_markers + j + 1] - code_stats[2 * n_markers + j])
    return top


@kernel
def _observed_xe(row, resid, code_stats, n_markers, j, unobserved, sum_e, neg_centre):
    """x_j'We for 0/1 weights: sum of c_i e_i and of e_i over phenotyped records with an observed genotype.

    ``row`` holds marker j's codes, ``sum_e`` the sum of e over all records. Missing
    genotypes (code 3) enter the SIMD sum as 3 e_i and are taken out from their list in
    ``code_stats`` (:func:`marker_code_stats`), or, for a marker with more than its list
    holds, by a masked pass; unphenotyped records are taken out from their list.
    """
    return _observed_xe_from(
        _code_residual_dot(row, resid), row, resid, code_stats, n_markers, j, unobserved, sum_e, neg_centre
    )


@kernel
def _observed_xe_from(sum_ce, row, resid, code_stats, n_markers, j, unobserved, sum_e, neg_centre):
    """:func:`_observed_xe` given ``sum_ce`` = sum_i c_i e_i over all records (the SIMD part): the
    missing genotypes and the unphenotyped records taken out, the centring applied."""
    obs_e = sum_e
    start, stop, n_missing = _missing_range(code_stats, n_markers, j)
    if stop - start == n_missing:
        for k in range(start, stop):
            e = resid[code_stats[k]]
            sum_ce -= 3.0 * e
            obs_e -= e
    else:
        missing_e = _missing_residual_sum(row, resid)
        sum_ce -= 3.0 * missing_e
        obs_e -= missing_e
    for k in range(unobserved.size):
        i = unobserved[k]
        if row[i] != 3:  # missing genotypes were taken out above
            sum_ce -= row[i] * resid[i]
            obs_e -= resid[i]
    return sum_ce + neg_centre * obs_e


@reduction
def _missing_residual_sum(row, resid):
    """Sum of e_i over the records whose code is 3 (missing genotype), without branches."""
    s = 0.0
    for i in range(row.size):
        s += (row[i] == 3) * resid[i]
    return s


@kernel
def _subtract_code_change(row, resid, delta, neg_centre, code_stats, n_markers, j, saved):
    """e_i -= delta x_ij for marker j, x_ij = c_i - centre (0 where the genotype is missing).

    The update runs over every record (vectorised); e at marker j's listed missing records
    (``code_stats``, :func:`marker_code_stats`) is saved into ``saved`` first and restored
    after, so it is unchanged bit for bit; a marker whose missing genotypes are not all listed
    masks code 3 instead. Returns the change taken off sum_i e_i: delta (c_i - centre) over
    the observed genotypes. Modifies ``resid`` and ``saved``.
    """
    n = row.size
    shift = delta * neg_centre
    start, stop, n_missing = _missing_range(code_stats, n_markers, j)
    if stop - start == n_missing:
        _save_listed(resid, code_stats, start, stop, saved)
        for i in range(n):
            resid[i] -= row[i] * delta + shift
        _restore_listed(resid, code_stats, start, stop, saved)
    else:
        for i in range(n):
            resid[i] -= (row[i] != 3) * (row[i] * delta + shift)
    return delta * code_stats[j] + shift * (n - n_missing)


@kernel
def _subtract_code_change_pair(
    row, resid_a, resid_b, delta_a, delta_b, neg_centre, code_stats, n_markers, j, saved_a, saved_b
):
    """:func:`_subtract_code_change` for two residual columns in one pass over the codes (each
    genotype read and converted once for both): ``e_a -= delta_a x_j``, ``e_b -= delta_b x_j``,
    element for element the same arithmetic, so the same values bit for bit. Returns the two
    changes taken off the columns' sums."""
    n = row.size
    shift_a = delta_a * neg_centre
    shift_b = delta_b * neg_centre
    start, stop, n_missing = _missing_range(code_stats, n_markers, j)
    if stop - start == n_missing:
        _save_listed(resid_a, code_stats, start, stop, saved_a)
        _save_listed(resid_b, code_stats, start, stop, saved_b)
        for i in range(n):
            c = row[i]
            resid_a[i] -= c * delta_a + shift_a
            resid_b[i] -= c * delta_b + shift_b
        _restore_listed(resid_a, code_stats, start, stop, saved_a)
        _restore_listed(resid_b, code_stats, start, stop, saved_b)
    else:
        for i in range(n):
            c = row[i]
            observed = c != 3
            resid_a[i] -= observed * (c * delta_a + shift_a)
            resid_b[i] -= observed * (c * delta_b + shift_b)
    observed_codes = code_stats[j]
    n_observed = n - n_missing
    return (delta_a * observed_codes + shift_a * n_observed, delta_b * observed_codes + shift_b * n_observed)


@kernel
def _save_listed(resid, code_stats, start, stop, saved):
    """Keep e at a marker's listed missing-genotype records (``code_stats[start:stop]``) in ``saved``."""
    for k in range(start, stop):
        saved[k - start] = resid[code_stats[k]]


@kernel
def _restore_listed(resid, code_stats, start, stop, saved):
    """Put back e at the listed records from ``saved`` (:func:`_save_listed`), bit for bit."""
    for k in range(start, stop):
        resid[code_stats[k]] = saved[k - start]


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


@reduction
def _code_residual_dot(row, resid):
    """``sum_i c_i e_i`` over all records, reassociated into SIMD partial sums (rounding only differs)."""
    s = 0.0
    for i in range(row.size):
        s += row[i] * resid[i]
    return s


@reduction
def _code_residual_dot_pair(row, resid_a, resid_b):
    """``(sum_i c_i e_ai, sum_i c_i e_bi)`` in one pass, each code read and converted once (SIMD partial sums)."""
    s_a = 0.0
    s_b = 0.0
    for i in range(row.size):
        c = row[i]
        s_a += c * resid_a[i]
        s_b += c * resid_b[i]
    return s_a, s_b


@kernel
def _sweep_markers_binary(rng, alpha, var_alpha, codes, lookup, xx, code_stats, resid, unobserved, sigma2_e):
    """The sweep of :func:`sweep_markers_gaussian` for 0/1 weights (``unobserved``: records with 0)."""
    n_markers = codes.shape[0]
    saved = np.empty(_max_missing(code_stats, n_markers))
    scratch = row_scratch(codes, resid.size)
    sum_e = _residual_total(resid)  # sum_i e_i over all records, kept up to date through the sweep
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        neg_centre = lookup[j, 0]  # -mu_j
        xe = _observed_xe(row, resid, code_stats, n_markers, j, unobserved, sum_e, neg_centre)
        lhs = xx[j] + sigma2_e / var_alpha[j]
        mean = (xe + xx[j] * alpha[j]) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        delta = new - alpha[j]
        if delta != 0.0:
            sum_e -= _subtract_code_change(row, resid, delta, neg_centre, code_stats, n_markers, j, saved)
        alpha[j] = new


@kernel
def _sweep_markers_weighted(rng, alpha, var_alpha, codes, lookup, xx, resid, weights, genetic_values, sigma2_e):
    """The sweep of :func:`sweep_markers_gaussian` for any weights, element by element."""
    n_markers = codes.shape[0]
    n = resid.size
    scratch = row_scratch(codes, n)
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        xe = 0.0
        for i in range(n):
            xe += weights[i] * lookup[j, row[i]] * resid[i]
        lhs = xx[j] + sigma2_e / var_alpha[j]
        mean = (xe + xx[j] * alpha[j]) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        delta = new - alpha[j]
        if delta != 0.0:
            for i in range(n):
                x = lookup[j, row[i]]
                resid[i] -= x * delta
                genetic_values[i] += x * delta
        alpha[j] = new


@kernel
def genetic_values_from_codes(codes, lookup, alpha, n=-1):
    """X alpha for int8 or packed genotypes (markers x individuals; packed need ``n``): the
    genomic values of individuals."""
    n_markers = codes.shape[0]
    n = n_records(codes, n)
    scratch = row_scratch(codes, n)
    out = np.zeros(n)
    for j in range(n_markers):
        a = alpha[j]
        row = marker_row(codes, j, scratch)
        for i in range(n):
            out[i] += lookup[j, row[i]] * a
    return out


@kernel
def weighted_cross_products(codes, lookup, weights):
    """Per marker, 1' W x_j and x_j' W x_j (for centring checks and default priors)."""
    n_markers = codes.shape[0]
    n = weights.size
    scratch = row_scratch(codes, n)
    sums = np.zeros(n_markers)
    squares = np.zeros(n_markers)
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        s = 0.0
        ss = 0.0
        for i in range(n):
            x = lookup[j, row[i]]
            s += weights[i] * x
            ss += weights[i] * x * x
        sums[j] = s
        squares[j] = ss
    return sums, squares
