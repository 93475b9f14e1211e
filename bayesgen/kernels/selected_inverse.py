r"""Entries of :math:`C^{-1}` on the pattern of the Cholesky factor (Takahashi's selected inverse).

With :math:`C = LL'` (supernodal, ``bayesgen.kernels.sparse_cholesky``) the entries of
:math:`Z = C^{-1}` on the pattern of L satisfy, supernode by supernode from the last (columns S,
rows R below them, :math:`Y = L_{RS}L_{SS}^{-1}`),

.. math:: Z_{RS} = -Z_{RR}Y,\qquad Z_{SS} = (L_{SS}L_{SS}')^{-1} - Y'Z_{RS}

(Takahashi, Fagan & Chen 1973; Erisman & Tinney 1975): :math:`Z_{RR}` lies on the pattern (R is
a clique of the filled graph) and belongs to later supernodes. The cost is of the order of
the factorisation's. The derivative of :math:`\log|C|` along a matrix D with the pattern of C
is :math:`\mathrm{tr}(C^{-1}D)`, a sum over these entries only: the gradients of the collapsed
sampler's target and of REML's log-likelihood need no dense inverse.
"""

import numpy as np

from .._numba import kernel
from .sparse_cholesky import SMALL_PRODUCT

#: Supernodes at most this wide form (L_SS L_SS')^-1 in plain loops.
NARROW = 16
#: Rows of L_SS inverted at a time in a wide supernode (then two matrix products for the rows left of them).
BLOCK = 32


@kernel
def _position(rows, start, stop, row):
    """Index of ``row`` in the sorted ``rows[start:stop]``, counted from ``start`` (binary search)."""
    lo, hi = start, stop
    while lo < hi:
        mid = (lo + hi) // 2
        if rows[mid] < row:
            lo = mid + 1
        else:
            hi = mid
    return lo - start


@kernel
def _lower_inverse(block, nc, linv):
    """linv[:nc, :nc] = L^-1 for the lower-triangular block[:nc, :nc] (rows of width nc).
    Blocks of BLOCK rows: the diagonal block by forward substitution, the rows left of it by
    X_I,<I = -X_II (L_I,<I X_<I,<I) in two matrix products."""
    for i0 in range(0, nc, BLOCK):
        i1 = min(i0 + BLOCK, nc)
        for c in range(i0, i1):
            linv[c, c] = 1.0 / block[c, c]
            for i in range(c + 1, i1):
                acc = 0.0
                for t in range(c, i):
                    acc += block[i, t] * linv[t, c]
                linv[i, c] = -acc / block[i, i]
            for i in range(i0, c):
                linv[i, c] = 0.0
        if i0 > 0:
            left = np.dot(np.ascontiguousarray(block[i0:i1, :i0]), np.ascontiguousarray(linv[:i0, :i0]))
            linv[i0:i1, :i0] = -np.dot(np.ascontiguousarray(linv[i0:i1, i0:i1]), left)
        for i in range(i0):
            for c in range(i0, i1):
                linv[i, c] = 0.0


@kernel
def _gram_lower(linv, nc, zss):
    """zss[:nc, :nc] = X'X for the lower-triangular X = linv[:nc, :nc]: (X'X)_IJ sums rows K >= max(I, J)."""
    if nc <= NARROW:
        for i in range(nc):
            for c in range(i + 1):
                acc = 0.0
                for k in range(i, nc):
                    acc += linv[k, i] * linv[k, c]
                zss[i, c] = acc
                zss[c, i] = acc
        return
    for i0 in range(0, nc, BLOCK):
        i1 = min(i0 + BLOCK, nc)
        part = np.dot(np.ascontiguousarray(linv[i0:nc, i0:i1].T), np.ascontiguousarray(linv[i0:nc, :i1]))
        zss[i0:i1, :i1] = part
        zss[:i1, i0:i1] = part.T


@kernel
def supernodal_selected_inverse(super_ptr, col_to_super, row_ptr, rows, val_ptr, factor, inverse):
    """Overwrite ``inverse`` (the factor's layout) with the entries of C^-1 on the pattern of L (module docstring).

    Products of fewer than SMALL_PRODUCT multiply-adds are plain loops, larger ones BLAS calls on
    scratch sized once for the largest supernode: most supernodes of a pedigree's equations are a
    few columns wide, where a BLAS call and an allocation cost more than the arithmetic.
    """
    ns = super_ptr.shape[0] - 1
    max_nc = 1
    max_m = 1
    for s in range(ns):
        nc = super_ptr[s + 1] - super_ptr[s]
        max_nc = max(max_nc, nc)
        max_m = max(max_m, row_ptr[s + 1] - row_ptr[s] - nc)
    linv_all = np.zeros((max_nc, max_nc))
    zss_all = np.empty((max_nc, max_nc))
    y_all = np.empty(max_m * max_nc)
    zrs_all = np.empty(max_m * max_nc)
    zrs_t_all = np.empty(max_m * max_nc)
    zrr_all = np.empty(max_m * max_m)
    for s in range(ns - 1, -1, -1):
        f = super_ptr[s]
        nc = super_ptr[s + 1] - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        m = nr - nc
        block = factor[val_ptr[s] : val_ptr[s] + nr * nc].reshape(nr, nc)
        out = inverse[val_ptr[s] : val_ptr[s] + nr * nc].reshape(nr, nc)
        linv = linv_all[:nc, :nc]
        zss = zss_all[:nc, :nc]
        _lower_inverse(block, nc, linv)
        _gram_lower(linv, nc, zss)
        if m > 0:
            y = y_all[: m * nc].reshape(m, nc)
            zrs = zrs_all[: m * nc].reshape(m, nc)
            zrr = zrr_all[: m * m].reshape(m, m)
            if m * nc * nc <= SMALL_PRODUCT:
                for r in range(m):
                    for c in range(nc):
                        acc = 0.0
                        for t in range(c, nc):
                            acc += block[nc + r, t] * linv[t, c]
                        y[r, c] = acc
            else:
                y[:, :] = np.dot(np.ascontiguousarray(block[nc:, :]), np.ascontiguousarray(linv))
            for j in range(m):  # Z_RR from the later supernodes: R[j:] are rows of column R[j]'s supernode
                col = rows[r0 + nc + j]
                s2 = col_to_super[col]
                f2 = super_ptr[s2]
                nc2 = super_ptr[s2 + 1] - f2
                base = val_ptr[s2] + (col - f2)
                p = row_ptr[s2] + (col - f2)  # the rows of s2 are sorted: walk them with R
                for i in range(j, m):
                    row = rows[r0 + nc + i]
                    while rows[p] < row:
                        p += 1
                    v = inverse[base + (p - row_ptr[s2]) * nc2]
                    zrr[i, j] = v
                    zrr[j, i] = v
            if m * m * nc <= SMALL_PRODUCT:
                # Z_RS' accumulated row by row of the symmetric Z_RR: the inner loop runs along
                # contiguous memory (an axpy the compiler vectorises), each entry summed over j in order
                zrs_t = zrs_t_all[: nc * m].reshape(nc, m)
                zrs_t[:, :] = 0.0
                for j in range(m):
                    for c in range(nc):
                        a = y[j, c]
                        for i in range(m):
                            zrs_t[c, i] += zrr[j, i] * a
                for i in range(m):
                    for c in range(nc):
                        zrs[i, c] = -zrs_t[c, i]
            else:
                np.dot(zrr, y, zrs)
                for i in range(m):
                    for c in range(nc):
                        zrs[i, c] = -zrs[i, c]
            out[nc:, :] = zrs
            if m * nc * nc <= SMALL_PRODUCT:
                for i in range(nc):
                    for c in range(i + 1):
                        acc = 0.0
                        for j in range(m):
                            acc += y[j, i] * zrs[j, c]
                        zss[i, c] -= acc
            else:
                zss[:, :] -= np.dot(np.ascontiguousarray(y.T), zrs)
        for i in range(nc):
            for c in range(i + 1):
                out[i, c] = zss[i, c]


@kernel
def pattern_positions(indptr, indices, inverse_perm, super_ptr, col_to_super, row_ptr, rows, val_ptr):
    """For each entry (i, j) of a CSR pattern of C, its position in the factor's storage of
    (P C P')'s lower triangle: entry (max(p_i, p_j), min(p_i, p_j)), p the inverse permutation."""
    n = indptr.shape[0] - 1
    out = np.empty(indptr[n], dtype=np.int64)
    for i in range(n):
        for k in range(indptr[i], indptr[i + 1]):
            a = inverse_perm[i]
            b = inverse_perm[indices[k]]
            if a < b:
                a, b = b, a
            s = col_to_super[b]
            f = super_ptr[s]
            nc = super_ptr[s + 1] - f
            out[k] = val_ptr[s] + _position(rows, row_ptr[s], row_ptr[s + 1], a) * nc + (b - f)
    return out
