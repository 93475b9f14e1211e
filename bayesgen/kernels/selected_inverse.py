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
def supernodal_selected_inverse(super_ptr, col_to_super, row_ptr, rows, val_ptr, factor, inverse):
    """Overwrite ``inverse`` (the factor's layout) with the entries of C^-1 on the pattern of L (module docstring)."""
    ns = super_ptr.shape[0] - 1
    for s in range(ns - 1, -1, -1):
        f = super_ptr[s]
        nc = super_ptr[s + 1] - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        m = nr - nc
        block = factor[val_ptr[s] : val_ptr[s] + nr * nc].reshape(nr, nc)
        out = inverse[val_ptr[s] : val_ptr[s] + nr * nc].reshape(nr, nc)
        if nc > 16:
            linv = np.linalg.inv(np.ascontiguousarray(block[:nc, :]))  # LAPACK on the (lower) diagonal block
        else:
            linv = np.zeros((nc, nc))  # L_SS^-1, lower triangular, by forward substitution
            for c in range(nc):
                linv[c, c] = 1.0 / block[c, c]
                for i in range(c + 1, nc):
                    acc = 0.0
                    for t in range(c, i):
                        acc += block[i, t] * linv[t, c]
                    linv[i, c] = -acc / block[i, i]
        linv = np.ascontiguousarray(linv)
        zss = np.dot(np.ascontiguousarray(linv.T), linv)  # (L_SS L_SS')^-1
        if m > 0:
            y = np.dot(np.ascontiguousarray(block[nc:, :]), linv)  # Y = L_RS L_SS^-1
            zrr = np.empty((m, m))  # Z_RR from the later supernodes: R[j:] are rows of column R[j]'s supernode
            for j in range(m):
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
            zrs = -np.dot(zrr, y)
            out[nc:, :] = zrs
            zss -= np.dot(y.T, zrs)
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
