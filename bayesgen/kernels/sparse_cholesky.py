r"""Numba kernels of a supernodal sparse Cholesky factorisation :math:`P C P' = L L'`.

C is symmetric positive definite; B = P C P' is described by index arrays into the
caller's CSR value array of C, so that new values on the same pattern are factorised
without building any matrix.

Symbolic analysis (once per pattern):

* the elimination tree: the parent of column j is the row of the first off-diagonal
  nonzero of :math:`L_{:,j}`; row k of L is nonzero exactly at the nodes reached from the
  nonzeros of :math:`B_{k,0:k}` walking up the tree until node k (its "row reach");
* column counts :math:`|L_{:,j}|` from the row reaches (O(nnz(L)) time);
* supernodes: runs of columns j, j+1, ... each the only child of the next with nested
  patterns, relaxed by merging along tree chains when the added explicit zeros are few.
  Each supernode is one dense block (its rows x its columns, row-major) of L.

Numeric factorisation (every time the values change), left-looking by supernode:

.. math:: \begin{bmatrix} L_{11} \\ L_{21} \end{bmatrix} \text{ of block } s:\quad
          B_{:,s} - \sum_{d} L_{:,d} L_{s,d}' = \begin{bmatrix} L_{11}L_{11}' \\ L_{21}L_{11}' \end{bmatrix},

the sum over earlier blocks d with rows among the columns of s, each update one matrix
product (BLAS through numba's ``np.dot``) scattered into s, then a dense Cholesky of the
diagonal part and a triangular solve for the rows below. Cost about
:math:`\sum_j |L_{:,j}|^2` multiply-adds.
"""

import numpy as np

from .._numba import kernel


@kernel
def permuted_triangle(indptr, indices, perm, inverse, lower):
    """CSR of one triangle of B = P C P' as (row pointers, column indices, source positions).

    Row k of B is row ``perm[k]`` of C; entry (k, inverse[c]) of B comes from position q of
    C's CSR arrays (``indices[q] == c``), and ``source[t]`` is that q. ``lower``: keep the
    entries with column <= k (the lower triangle by rows), else column >= k (the upper
    triangle by rows, i.e. the lower triangle by columns). Each off-diagonal pair of C is
    read once, diagonal included.
    """
    n = perm.shape[0]
    ptr = np.zeros(n + 1, dtype=np.int64)
    for k in range(n):
        r = perm[k]
        m = 0
        for q in range(indptr[r], indptr[r + 1]):
            j = inverse[indices[q]]
            if (j <= k) if lower else (j >= k):
                m += 1
        ptr[k + 1] = ptr[k] + m
    cols = np.empty(ptr[n], dtype=np.int32)
    source = np.empty(ptr[n], dtype=np.int64)
    for k in range(n):
        r = perm[k]
        t = ptr[k]
        for q in range(indptr[r], indptr[r + 1]):
            j = inverse[indices[q]]
            if (j <= k) if lower else (j >= k):
                cols[t] = j
                source[t] = q
                t += 1
    return ptr, cols, source


@kernel
def elimination_tree(ptr, cols):
    """Parent of each column in the elimination tree of B (-1 for a root), from B's lower CSR."""
    n = ptr.shape[0] - 1
    parent = np.full(n, -1, dtype=np.int64)
    ancestor = np.full(n, -1, dtype=np.int64)
    for k in range(n):
        for t in range(ptr[k], ptr[k + 1]):
            i = cols[t]
            while i != -1 and i < k:  # climb with path compression
                nxt = ancestor[i]
                ancestor[i] = k
                if nxt == -1:
                    parent[i] = k
                i = nxt
    return parent


@kernel
def tree_postorder(parent):
    """A postorder of the forest ``parent`` (children before parents, subtrees contiguous)."""
    n = parent.shape[0]
    head = np.full(n, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    for j in range(n - 1, -1, -1):  # children lists in increasing order
        p = parent[j]
        if p >= 0:
            nxt[j] = head[p]
            head[p] = j
    post = np.empty(n, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    k = 0
    for root in range(n):
        if parent[root] != -1:
            continue
        top = 0
        stack[0] = root
        while top >= 0:
            p = stack[top]
            child = head[p]
            if child == -1:
                top -= 1
                post[k] = p
                k += 1
            else:
                head[p] = nxt[child]
                top += 1
                stack[top] = child
    return post


@kernel
def _row_reach(k, ptr, cols, parent, flag, stack, out):
    """Columns j < k with L[k, j] != 0, written to out[top:n] in topological order; returns top."""
    n = parent.shape[0]
    top = n
    flag[k] = k
    for t in range(ptr[k], ptr[k + 1]):
        i = cols[t]
        if i >= k:
            continue
        m = 0
        while flag[i] != k:
            stack[m] = i
            m += 1
            flag[i] = k
            i = parent[i]
        while m > 0:
            m -= 1
            top -= 1
            out[top] = stack[m]
    return top


@kernel
def factor_column_counts(ptr, cols, parent):
    """Number of nonzeros in each column of L (diagonal included). O(nnz(L)) time."""
    n = parent.shape[0]
    counts = np.ones(n, dtype=np.int64)
    flag = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    for k in range(n):
        top = _row_reach(k, ptr, cols, parent, flag, stack, out)
        for t in range(top, n):
            counts[out[t]] += 1
    return counts


@kernel
def check_symmetric_values(values, indptr, indices, transpose, diagonal, tolerance):
    """First position q whose value is not finite or differs from its transpose by more than
    ``tolerance * sqrt(|C_ii C_jj|)``; -1 when all agree."""
    n = indptr.shape[0] - 1
    for i in range(n):
        for q in range(indptr[i], indptr[i + 1]):
            v = values[q]
            if not np.isfinite(v):
                return q
            j = indices[q]
            if j > i:
                scale = np.sqrt(abs(values[diagonal[i]] * values[diagonal[j]]))
                if abs(v - values[transpose[q]]) > tolerance * scale:
                    return q
    return -1


@kernel
def fundamental_supernodes(parent, counts):
    """First column of each supernode, plus n at the end.

    Column j+1 joins j's supernode when it is j's parent, j is its only child, and
    :math:`|L_{:,j}| = |L_{:,j+1}| + 1`: then the two columns share their row pattern
    below the diagonal block and are stored as one dense block.
    """
    n = parent.shape[0]
    children = np.zeros(n, dtype=np.int64)
    for j in range(n):
        if parent[j] >= 0:
            children[parent[j]] += 1
    starts = np.empty(n + 1, dtype=np.int64)
    ns = 0
    for j in range(n):
        if j == 0 or not (parent[j - 1] == j and counts[j - 1] == counts[j] + 1 and children[j] == 1):
            starts[ns] = j
            ns += 1
    starts[ns] = n
    return starts[: ns + 1].copy()


@kernel
def relax_supernodes(super_ptr, parent, counts):
    """Amalgamate supernodes along chains of the elimination tree (relaxed supernodes).

    A group of columns gf..f-1 absorbs the next supernode f..l-1 when column f-1's parent
    is f (so the merged block has rows gf..f-1 plus the rows of column f) and the merged
    block's explicit zeros are a small enough fraction of its stored entries: any for
    up to 4 columns, 80% up to 16, 10% up to 48, 5% beyond (the defaults of CHOLMOD's
    amalgamation). Fewer, larger dense blocks mean fewer and larger matrix products at
    the price of some multiplications by zero. Returns the new ``super_ptr``.
    """
    ns = super_ptr.shape[0] - 1
    new_ptr = np.empty(ns + 1, dtype=np.int64)
    new_ptr[0] = 0
    m = 0
    real = 0  # true nonzeros of the current group
    for s in range(ns):
        f = super_ptr[s]
        block_real = 0
        for j in range(f, super_ptr[s + 1]):
            block_real += counts[j]
        if s > 0 and parent[f - 1] == f:
            gf = new_ptr[m]
            merged_nc = super_ptr[s + 1] - gf
            merged_nr = (f - gf) + counts[f]
            stored = merged_nc * merged_nr - merged_nc * (merged_nc - 1) // 2
            zeros = stored - (real + block_real)
            if merged_nc <= 4:
                limit = stored
            elif merged_nc <= 16:
                limit = 0.8 * stored
            elif merged_nc <= 48:
                limit = 0.1 * stored
            else:
                limit = 0.05 * stored
            if zeros <= limit:
                real += block_real
                continue
        if s > 0:
            m += 1
            new_ptr[m] = f
        real = block_real
    m += 1
    new_ptr[m] = super_ptr[ns]
    return new_ptr[: m + 1].copy()


@kernel
def column_supernodes(super_ptr, n):
    """The supernode of each column."""
    col_to_super = np.empty(n, dtype=np.int64)
    for s in range(super_ptr.shape[0] - 1):
        for j in range(super_ptr[s], super_ptr[s + 1]):
            col_to_super[j] = s
    return col_to_super


@kernel
def supernode_structure(ptr, cols, parent, super_ptr, col_to_super):
    r"""Rows of each supernode's block: its own columns, then every later row k with
    :math:`L_{kj} \ne 0` for some column j of the supernode (increasing). O(nnz(L))."""
    n = parent.shape[0]
    ns = super_ptr.shape[0] - 1
    below = np.zeros(ns, dtype=np.int64)
    mark = np.full(ns, -1, dtype=np.int64)
    flag = np.full(n, -1, dtype=np.int64)
    stack = np.empty(n, dtype=np.int64)
    out = np.empty(n, dtype=np.int64)
    for k in range(n):
        top = _row_reach(k, ptr, cols, parent, flag, stack, out)
        for t in range(top, n):
            s = col_to_super[out[t]]
            if super_ptr[s + 1] <= k and mark[s] != k:
                mark[s] = k
                below[s] += 1
    row_ptr = np.zeros(ns + 1, dtype=np.int64)
    for s in range(ns):
        row_ptr[s + 1] = row_ptr[s] + (super_ptr[s + 1] - super_ptr[s]) + below[s]
    rows = np.empty(row_ptr[ns], dtype=np.int32)
    fill = np.empty(ns, dtype=np.int64)
    for s in range(ns):
        p = row_ptr[s]
        for j in range(super_ptr[s], super_ptr[s + 1]):
            rows[p] = j
            p += 1
        fill[s] = p
    mark[:] = -1
    flag[:] = -1
    for k in range(n):
        top = _row_reach(k, ptr, cols, parent, flag, stack, out)
        for t in range(top, n):
            s = col_to_super[out[t]]
            if super_ptr[s + 1] <= k and mark[s] != k:
                mark[s] = k
                rows[fill[s]] = k
                fill[s] += 1
    return row_ptr, rows


@kernel
def symbolic_analysis(indptr, indices, perm, postorder, max_factor_nonzeros):
    """The whole symbolic analysis of C's pattern under the permutation ``perm``, in one kernel.

    The steps above in order: the lower triangle of B = P C P' and its elimination tree;
    with ``postorder``, ``perm`` followed by a postorder of that tree (same fill, subtrees
    contiguous) and the two again; the column counts; then, unless the factor would have more
    than ``max_factor_nonzeros`` nonzeros, the relaxed supernodes, each column's supernode, the
    supernodes' rows and the upper triangle of B by rows. One kernel rather than eight: a
    process loads each cached kernel on its first call (about 3-5 ms each at start-up), and
    these eight only ever run together, once per pattern.

    Returns (perm, counts, super_ptr, col_to_super, row_ptr, rows, up_ptr, up_cols,
    up_source); the last six are empty when the factor is too large.
    """
    n = perm.shape[0]
    inverse = np.empty(n, dtype=np.int64)
    inverse[perm] = np.arange(n)
    ptr, cols, _ = permuted_triangle(indptr, indices, perm, inverse, True)
    parent = elimination_tree(ptr, cols)
    if postorder:
        perm = perm[tree_postorder(parent)]
        inverse[perm] = np.arange(n)
        ptr, cols, _ = permuted_triangle(indptr, indices, perm, inverse, True)
        parent = elimination_tree(ptr, cols)
    counts = factor_column_counts(ptr, cols, parent)
    empty = np.zeros(0, dtype=np.int64)
    if counts.sum() > max_factor_nonzeros:
        return perm, counts, empty, empty, empty, np.zeros(0, dtype=np.int32), empty, np.zeros(0, dtype=np.int32), empty
    super_ptr = relax_supernodes(fundamental_supernodes(parent, counts), parent, counts)
    col_to_super = column_supernodes(super_ptr, n)
    row_ptr, rows = supernode_structure(ptr, cols, parent, super_ptr, col_to_super)
    up_ptr, up_cols, up_source = permuted_triangle(indptr, indices, perm, inverse, False)
    return perm, counts, super_ptr, col_to_super, row_ptr, rows, up_ptr, up_cols, up_source


SMALL_PRODUCT = 4096  # multiply-adds below which a block update is a plain loop, not a BLAS call
PANEL = 32  # columns factored at a time inside a block before a BLAS update of the rest


@kernel
def _factor_block(block, nc, panel, work):
    r"""Cholesky of the top nc x nc of ``block`` (nr x nc, lower part) and the rows below:
    :math:`L_{11} = \mathrm{chol}(B_{11})`, :math:`L_{21} = B_{21} L_{11}'^{-1}`, in panels of
    PANEL columns with a matrix product for the trailing columns. Returns (-1, 0.0) or
    (c, d) for the first column c whose pivot d is not positive."""
    nr = block.shape[0]
    for p0 in range(0, nc, PANEL):
        p1 = min(p0 + PANEL, nc)
        for c in range(p0, p1):
            d = block[c, c]
            for t in range(p0, c):
                d -= block[c, t] * block[c, t]
            if not d > 0.0:
                return c, d
            d = np.sqrt(d)
            block[c, c] = d
            for i in range(c + 1, nr):
                acc = block[i, c]
                for t in range(p0, c):
                    acc -= block[i, t] * block[c, t]
                block[i, c] = acc / d
        if p1 == nc:
            break
        m = nr - p1
        width = p1 - p0
        rest = nc - p1
        if m * rest * width <= SMALL_PRODUCT:
            for i in range(m):
                for j in range(min(i + 1, rest)):
                    acc = 0.0
                    for t in range(p0, p1):
                        acc += block[p1 + i, t] * block[p1 + j, t]
                    block[p1 + i, p1 + j] -= acc
        else:
            pan = panel[: m * width].reshape(m, width)
            for i in range(m):
                for t in range(width):
                    pan[i, t] = block[p1 + i, p0 + t]
            upd = work[: m * rest].reshape(m, rest)
            np.dot(pan, pan[:rest].T, upd)
            for i in range(m):
                for j in range(min(i + 1, rest)):
                    block[p1 + i, p1 + j] -= upd[i, j]
    return -1, 0.0


@kernel
def supernodal_cholesky(
    values, up_ptr, up_cols, up_source, super_ptr, col_to_super, row_ptr, rows, val_ptr, factor, relative, work, panel
):
    """Left-looking supernodal Cholesky of B into ``factor`` (dense row-major blocks).

    Block s (``rows[row_ptr[s]:row_ptr[s+1]]`` x columns ``super_ptr[s]..super_ptr[s+1]-1``)
    starts as the lower part of B's columns (entry (i, c) of B is ``values[up_source[t]]``
    for ``up_cols[t] == i`` in row c of B's upper triangle), receives
    :math:`-L_{r,d} L_{c,d}'` from each earlier block d with rows among its columns (each
    block is kept on a list of the next block it updates), and is then factored.
    Returns (-1, 0.0), or (k, d) for the first pivot k whose value d is not positive.
    ``relative`` (n ints), ``work`` (largest block) and ``panel`` (largest block height x
    PANEL) are scratch.
    """
    ns = super_ptr.shape[0] - 1
    head = np.full(ns, -1, dtype=np.int64)
    link = np.full(ns, -1, dtype=np.int64)
    next_pos = np.zeros(ns, dtype=np.int64)
    for s in range(ns):
        f = super_ptr[s]
        last = super_ptr[s + 1]
        nc = last - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        block = factor[val_ptr[s] : val_ptr[s] + nr * nc].reshape(nr, nc)
        block[:, :] = 0.0
        for i in range(nr):
            relative[rows[r0 + i]] = i
        for c in range(f, last):
            for t in range(up_ptr[c], up_ptr[c + 1]):
                block[relative[up_cols[t]], c - f] = values[up_source[t]]
        d = head[s]
        while d != -1:
            d_next = link[d]
            ncd = super_ptr[d + 1] - super_ptr[d]
            rd0 = row_ptr[d]
            nrd = row_ptr[d + 1] - rd0
            ld = factor[val_ptr[d] : val_ptr[d] + nrd * ncd].reshape(nrd, ncd)
            start = next_pos[d]
            mid = start
            while mid < nrd and rows[rd0 + mid] < last:
                mid += 1
            m1 = nrd - start
            m2 = mid - start
            if m1 * m2 * ncd <= SMALL_PRODUCT:
                for ii in range(start, nrd):
                    ri = relative[rows[rd0 + ii]]
                    for jj in range(start, min(ii + 1, mid)):
                        acc = 0.0
                        for t in range(ncd):
                            acc += ld[ii, t] * ld[jj, t]
                        block[ri, rows[rd0 + jj] - f] -= acc
            else:
                upd = work[: m1 * m2].reshape(m1, m2)
                np.dot(ld[start:nrd], ld[start:mid].T, upd)
                for ii in range(m1):
                    ri = relative[rows[rd0 + start + ii]]
                    for jj in range(min(ii + 1, m2)):
                        block[ri, rows[rd0 + start + jj] - f] -= upd[ii, jj]
            if mid < nrd:
                next_pos[d] = mid
                target = col_to_super[rows[rd0 + mid]]
                link[d] = head[target]
                head[target] = d
            d = d_next
        bad, pivot = _factor_block(block, nc, panel, work)
        if bad >= 0:
            return f + bad, pivot
        if nr > nc:
            next_pos[s] = nc
            target = col_to_super[rows[r0 + nc]]
            link[s] = head[target]
            head[target] = s
    return -1, 0.0


@kernel
def supernodal_lower_solve(super_ptr, row_ptr, rows, val_ptr, factor, b):
    """Overwrite b (n x m) with L^{-1} b."""
    m = b.shape[1]
    for s in range(super_ptr.shape[0] - 1):
        f = super_ptr[s]
        nc = super_ptr[s + 1] - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        block = factor[val_ptr[s] : val_ptr[s] + nr * nc].reshape(nr, nc)
        for c in range(nc):
            for t in range(c):
                for q in range(m):
                    b[f + c, q] -= block[c, t] * b[f + t, q]
            for q in range(m):
                b[f + c, q] /= block[c, c]
        for i in range(nc, nr):
            r = rows[r0 + i]
            for t in range(nc):
                for q in range(m):
                    b[r, q] -= block[i, t] * b[f + t, q]


@kernel
def supernodal_upper_solve(super_ptr, row_ptr, rows, val_ptr, factor, b):
    """Overwrite b (n x m) with L'^{-1} b."""
    m = b.shape[1]
    for s in range(super_ptr.shape[0] - 2, -1, -1):
        f = super_ptr[s]
        nc = super_ptr[s + 1] - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        block = factor[val_ptr[s] : val_ptr[s] + nr * nc].reshape(nr, nc)
        for i in range(nc, nr):
            r = rows[r0 + i]
            for t in range(nc):
                for q in range(m):
                    b[f + t, q] -= block[i, t] * b[r, q]
        for c in range(nc - 1, -1, -1):
            for q in range(m):
                b[f + c, q] /= block[c, c]
            for t in range(c):
                for q in range(m):
                    b[f + t, q] -= block[c, t] * b[f + c, q]


@kernel
def supernodal_lower_solve_vector(super_ptr, row_ptr, rows, val_ptr, factor, b):
    """Overwrite the vector b with L^{-1} b: ``supernodal_lower_solve`` for one column, in the
    same order of operations (the same result to the bit), 2-3x faster without the column loop."""
    for s in range(super_ptr.shape[0] - 1):
        f = super_ptr[s]
        nc = super_ptr[s + 1] - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        base = val_ptr[s]
        for c in range(nc):
            v = b[f + c]
            for t in range(c):
                v -= factor[base + c * nc + t] * b[f + t]
            b[f + c] = v / factor[base + c * nc + c]
        for i in range(nc, nr):
            r = rows[r0 + i]
            v = b[r]
            for t in range(nc):
                v -= factor[base + i * nc + t] * b[f + t]
            b[r] = v


@kernel
def supernodal_upper_solve_vector(super_ptr, row_ptr, rows, val_ptr, factor, b):
    """Overwrite the vector b with L'^{-1} b: ``supernodal_upper_solve`` for one column, in the
    same order of operations."""
    for s in range(super_ptr.shape[0] - 2, -1, -1):
        f = super_ptr[s]
        nc = super_ptr[s + 1] - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        base = val_ptr[s]
        for i in range(nc, nr):
            r = rows[r0 + i]
            br = b[r]
            for t in range(nc):
                b[f + t] -= factor[base + i * nc + t] * br
        for c in range(nc - 1, -1, -1):
            b[f + c] /= factor[base + c * nc + c]
            bc = b[f + c]
            for t in range(c):
                b[f + t] -= factor[base + c * nc + t] * bc


@kernel
def supernodal_log_determinant(super_ptr, row_ptr, val_ptr, factor):
    """log|C| = 2 sum_j log L_jj."""
    total = 0.0
    for s in range(super_ptr.shape[0] - 1):
        nc = super_ptr[s + 1] - super_ptr[s]
        for c in range(nc):
            total += np.log(factor[val_ptr[s] + c * nc + c])
    return 2.0 * total


@kernel
def supernodal_to_csc(super_ptr, row_ptr, rows, val_ptr, factor):
    """L as CSC arrays (column pointers, row indices, values), stored zeros included."""
    ns = super_ptr.shape[0] - 1
    n = super_ptr[ns]
    col_ptr = np.zeros(n + 1, dtype=np.int64)
    for s in range(ns):
        nr = row_ptr[s + 1] - row_ptr[s]
        for c in range(super_ptr[s + 1] - super_ptr[s]):
            j = super_ptr[s] + c
            col_ptr[j + 1] = col_ptr[j] + nr - c
    row_idx = np.empty(col_ptr[n], dtype=np.int64)
    data = np.empty(col_ptr[n])
    for s in range(ns):
        f = super_ptr[s]
        nc = super_ptr[s + 1] - f
        r0 = row_ptr[s]
        nr = row_ptr[s + 1] - r0
        for c in range(nc):
            p = col_ptr[f + c]
            for i in range(c, nr):
                row_idx[p] = rows[r0 + i]
                data[p] = factor[val_ptr[s] + i * nc + c]
                p += 1
    return col_ptr, row_idx, data
