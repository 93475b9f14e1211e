r"""The exact blocked ("fast blocks") Gaussian marker sweep.

The idea of BayesR3 (Breen et al. 2022) and JWAS's fast blocks, kept exact. Markers are cut
into consecutive blocks b of at most B markers. Per block, once per model, the weighted
cross-products :math:`G_b = X_b' W X_b` (B x B, centred genotypes) are stored; per sweep
and block:

1. :math:`r = X_b' W e` for the block's markers at once, reading the residual once per eight
   markers instead of once per marker;
2. the block's markers are drawn one by one from their full conditionals on the small system:
   marker j's :math:`x_j'We` is :math:`r_j`, and after its change :math:`\delta_j` every
   :math:`r_k \mathrel{-}= (G_b)_{kj}\,\delta_j` (O(B)), which is exactly
   :math:`x_k'We` after the plain sweep's residual update. So the full conditionals, and
   with the same random numbers the draws, are those of
   :func:`bayesgen.kernels.markers.sweep_markers_gaussian`;
3. :math:`e \mathrel{-}= X_b \Delta\alpha_b` once, eight markers per pass over the residual.

Optionally the small-system sweep of step 2 is repeated (``passes`` > 1): each pass is
again a Gibbs update of the block's effects given everything else, so the chain keeps the
same posterior while the effects of correlated markers move further per pass over the
genotypes (JWAS's fast blocks make as many passes as the block has markers).

Memory: p x B floats for the stored :math:`G_b` (row j holds marker j's cross-products with
its block). Missing genotypes (code 3) are read as 3 in the dense passes and corrected
exactly from a per-marker list of their records.

Packed codes (2 bits per genotype, see ``bayesgen.data._genotype_kernels``) are decoded one
block at a time into a B x n int8 buffer, which the dense passes then read as they read int8
codes: the same arithmetic, so the same draws.
"""

import numpy as np

from .._numba import kernel, reduction
from ..data._genotype_kernels import is_packed, marker_row, n_records, row_scratch, unpack_row
from .markers import _code_residual_dot


@kernel
def block_cross_products(codes, lookup, weights, block_size):
    """``gram[j, a] = x_j' W x_k`` for k the a-th marker of j's block (p x block_size, 0-padded).

    Blocks are consecutive: markers ``[s, s + block_size)`` for s = 0, block_size, ...
    Per block the centred genotypes (missing = 0) are expanded to floats once, then each
    pair's weighted dot product is taken (symmetric: half of them). O(n p B / 2).
    """
    n_markers = codes.shape[0]
    n = weights.size
    scratch = row_scratch(codes, n)
    gram = np.zeros((n_markers, block_size))
    x = np.empty((block_size, n))
    for s in range(0, n_markers, block_size):
        m = min(block_size, n_markers - s)
        for a in range(m):
            j = s + a
            row = marker_row(codes, j, scratch)
            for i in range(n):
                x[a, i] = lookup[j, row[i]]
        for a in range(m):
            for b in range(a, m):
                value = _weighted_dot(x[a], x[b], weights)
                gram[s + a, b] = value
                gram[s + b, a] = value
    return gram


@reduction
def _weighted_dot(u, v, weights):
    total = 0.0
    for i in range(u.size):
        total += u[i] * weights[i] * v[i]
    return total


@kernel
def missing_genotype_lists(codes, n=-1):
    """Per marker, the records whose code is 3 (missing), as CSR arrays ``(ptr, records)``
    (int8 or packed codes; packed need ``n``, the records)."""
    n_markers = codes.shape[0]
    n = n_records(codes, n)
    scratch = row_scratch(codes, n)
    ptr = np.zeros(n_markers + 1, dtype=np.int64)
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        count = 0
        for i in range(n):
            count += row[i] == 3
        ptr[j + 1] = ptr[j] + count
    records = np.empty(ptr[n_markers], dtype=np.int64)
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        k = ptr[j]
        for i in range(n):
            if row[i] == 3:
                records[k] = i
                k += 1
    return ptr, records


@reduction
def _dot8(codes, j, v, out, a):
    """``out[a + k] = sum_i codes[j + k, i] v_i`` for k < 8: eight rows of codes, v read once."""
    c0, c1, c2, c3 = codes[j], codes[j + 1], codes[j + 2], codes[j + 3]
    c4, c5, c6, c7 = codes[j + 4], codes[j + 5], codes[j + 6], codes[j + 7]
    s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = 0.0
    for i in range(v.size):
        x = v[i]
        s0 += c0[i] * x
        s1 += c1[i] * x
        s2 += c2[i] * x
        s3 += c3[i] * x
        s4 += c4[i] * x
        s5 += c5[i] * x
        s6 += c6[i] * x
        s7 += c7[i] * x
    out[a], out[a + 1], out[a + 2], out[a + 3] = s0, s1, s2, s3
    out[a + 4], out[a + 5], out[a + 6], out[a + 7] = s4, s5, s6, s7


@kernel
def _subtract8(codes, j, delta, a, shift, weights, ew):
    """``ew_i -= w_i (sum_k delta[a + k] codes[j + k, i] + shift)`` for k < 8 (residual read once)."""
    c0, c1, c2, c3 = codes[j], codes[j + 1], codes[j + 2], codes[j + 3]
    c4, c5, c6, c7 = codes[j + 4], codes[j + 5], codes[j + 6], codes[j + 7]
    d0, d1, d2, d3 = delta[a], delta[a + 1], delta[a + 2], delta[a + 3]
    d4, d5, d6, d7 = delta[a + 4], delta[a + 5], delta[a + 6], delta[a + 7]
    for i in range(ew.size):
        ew[i] -= weights[i] * (
            (d0 * c0[i] + d1 * c1[i] + d2 * c2[i] + d3 * c3[i])
            + (d4 * c4[i] + d5 * c5[i] + d6 * c6[i] + d7 * c7[i])
            + shift
        )


@kernel
def block_code_dots(codes, c, m, v, out):
    """``out[a] = sum_i codes[c + a, i] v_i`` for a < m: eight markers per pass over v (SIMD sums),
    the last m % 8 one at a time (the raw part of X_b'v: the caller centres it and takes out the
    missing genotypes, read as code 3)."""
    stop8 = m - m % 8
    for a in range(0, stop8, 8):
        _dot8(codes, c + a, v, out, a)
    for a in range(stop8, m):
        out[a] = _code_residual_dot(codes[c + a], v)


@reduction
def _sum(v):
    total = 0.0
    for i in range(v.size):
        total += v[i]
    return total


@kernel
def _subtract1(c, d, shift, weights, ew):
    for i in range(ew.size):
        ew[i] -= weights[i] * (d * c[i] + shift)


@kernel
def block_code_subtract(codes, c, s, m, lookup, delta, weights, v):
    """``v_i -= w_i sum_a delta_a (codes[c + a, i] - mu_{s+a})`` for a < m: eight markers per pass
    over v, the last m % 8 one at a time (missing genotypes, read as code 3, are the caller's to
    put back)."""
    stop8 = m - m % 8
    for a in range(0, stop8, 8):
        shift = 0.0
        for k in range(8):
            shift += delta[a + k] * lookup[s + a + k, 0]
        _subtract8(codes, c + a, delta, a, shift, weights, v)
    for a in range(stop8, m):
        _subtract1(codes[c + a], delta[a], delta[a] * lookup[s + a, 0], weights, v)


@kernel
def sweep_markers_blocked(
    rng,
    alpha,
    var_alpha,
    codes,
    lookup,
    xx,
    gram,
    miss_ptr,
    miss_records,
    resid,
    weights,
    genetic_values,
    sigma2_e,
    passes,
):
    r"""Draw every marker effect from its full conditional, block by block (see the module).

    Same model, arguments and full conditional as
    :func:`bayesgen.kernels.markers.sweep_markers_gaussian`:
    :math:`\alpha_j \mid \cdot \sim N\big((x_j'We + x_j'Wx_j\alpha_j)/l_j,\ \sigma^2_e/l_j\big)`,
    :math:`l_j = x_j'Wx_j + \sigma^2_e/\sigma^2_j`; with ``passes == 1`` the same draws from the
    same generator (up to rounding). Extra arguments: ``gram`` from
    :func:`block_cross_products` (its width is the block size), ``miss_ptr``/``miss_records``
    from :func:`missing_genotype_lists`, ``passes`` small-system sweeps per block.

    The kernel works on :math:`\tilde e = We` (so records with weight 0 drop out of every
    dot product) and recovers the change of the residual at the end: on records with
    :math:`w_i > 0` as :math:`(\tilde e^{start}_i - \tilde e_i)/w_i`, on the others from the
    codes and the total change of alpha. Modifies ``alpha``, ``resid`` and ``genetic_values``
    (plus :math:`X\Delta\alpha`).
    """
    n_markers = codes.shape[0]
    n = resid.size
    size = gram.shape[1]
    packed = is_packed(codes)
    block = np.empty((size, n) if packed else (0, 0), dtype=np.int8)  # a block's codes, decoded
    alpha_start = alpha.copy()
    ew = weights * resid
    start = ew.copy()
    r = np.empty(size)
    delta = np.empty(size)
    for s in range(0, n_markers, size):
        m = min(size, n_markers - s)
        if packed:
            for a in range(m):
                unpack_row(codes[s + a], block[a])
            _block_step(
                rng,
                alpha,
                var_alpha,
                block,
                0,
                s,
                m,
                lookup,
                xx,
                gram,
                miss_ptr,
                miss_records,
                weights,
                sigma2_e,
                passes,
                ew,
                r,
                delta,
            )
        else:
            _block_step(
                rng,
                alpha,
                var_alpha,
                codes,
                s,
                s,
                m,
                lookup,
                xx,
                gram,
                miss_ptr,
                miss_records,
                weights,
                sigma2_e,
                passes,
                ew,
                r,
                delta,
            )
    # Records with weight 0: the change of e from the codes and the total change of alpha,
    # summed over the markers in order (marker-major, so packed codes are decoded once each).
    unweighted = np.zeros(n)
    if np.any(weights == 0.0):
        scratch = row_scratch(codes, n)
        for j in range(n_markers):
            row = marker_row(codes, j, scratch)
            change = alpha[j] - alpha_start[j]
            for i in range(n):
                if weights[i] == 0.0:
                    unweighted[i] += lookup[j, row[i]] * change
    for i in range(n):
        if weights[i] != 0.0:
            change = (start[i] - ew[i]) / weights[i]
        else:
            change = unweighted[i]
        resid[i] -= change
        genetic_values[i] += change


@kernel
def _block_step(
    rng,
    alpha,
    var_alpha,
    codes,
    c,
    s,
    m,
    lookup,
    xx,
    gram,
    miss_ptr,
    miss_records,
    weights,
    sigma2_e,
    passes,
    ew,
    r,
    delta,
):
    """Steps 1-3 of :func:`sweep_markers_blocked` for the block of markers ``[s, s + m)``, whose
    codes are the rows ``[c, c + m)`` of ``codes`` (c = s for int8 codes, 0 for a decoded block)."""
    # 1. r = X_b' W e: sum_i c_ij ew_i - mu_j sum_i ew_i, missing entries (read as 3) taken out.
    sum_ew = _sum(ew)
    block_code_dots(codes, c, m, ew, r)
    for a in range(m):
        j = s + a
        neg_centre = lookup[j, 0]  # -mu_j
        r[a] += neg_centre * sum_ew
        for k in range(miss_ptr[j], miss_ptr[j + 1]):
            r[a] -= (3.0 + neg_centre) * ew[miss_records[k]]
    # 2. The block's markers on the small system.
    for a in range(m):
        delta[a] = 0.0
    for _ in range(passes):
        for a in range(m):
            j = s + a
            lhs = xx[j] + sigma2_e / var_alpha[j]
            mean = (r[a] + xx[j] * alpha[j]) / lhs
            new = mean + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
            d = new - alpha[j]
            if d != 0.0:
                for b in range(m):
                    r[b] -= gram[j, b] * d
                delta[a] += d
            alpha[j] = new
    # 3. e -= X_b delta, eight markers per pass; missing entries put back from their lists.
    block_code_subtract(codes, c, s, m, lookup, delta, weights, ew)
    for a in range(m):
        j = s + a
        for k in range(miss_ptr[j], miss_ptr[j + 1]):
            i = miss_records[k]
            ew[i] += weights[i] * delta[a] * (3.0 + lookup[j, 0])
