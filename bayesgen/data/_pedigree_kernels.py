"""Numba kernels for pedigree algorithms.

Animals are numbered 0..n-1 in an order where parents precede offspring; a parent index
of -1 means unknown.
"""

import heapq

import numpy as np

from .._numba import kernel


@kernel
def inbreeding_meuwissen_luo(sire, dam):
    """Inbreeding coefficients by the algorithm of Meuwissen & Luo (1992, GSE 24:305).

    For each animal i the diagonal of A = L D L' is accumulated over its ancestors:
    A_ii = sum_j L_ij^2 D_j, where L_ij is the contribution of ancestor j to i's genes
    (traced back through parents, halving at each step) and D_j the Mendelian sampling
    variance factor of j: 1 for founders, 0.75 - F_p/4 with one known parent p, and
    0.5 - (F_s + F_d)/4 with both known. F_i = A_ii - 1.
    Ancestors are visited from youngest to oldest with a max-heap, so L_j is complete
    when j is popped. Cost: O(sum over animals of their number of ancestors).
    """
    n = sire.shape[0]
    f = np.zeros(n)
    d = np.zeros(n)
    contrib = np.zeros(n)
    queued = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        s, m = sire[i], dam[i]
        fs = f[s] if s >= 0 else -1.0
        fd = f[m] if m >= 0 else -1.0
        d[i] = 0.5 - 0.25 * (fs + fd)
        # Full sibs of the previous animal share its inbreeding coefficient.
        if i > 0 and s >= 0 and m >= 0 and s == sire[i - 1] and m == dam[i - 1]:
            f[i] = f[i - 1]
            continue
        heap = [-i]
        queued[i] = True
        contrib[i] = 1.0
        diag = 0.0
        while len(heap) > 0:
            j = -heapq.heappop(heap)
            queued[j] = False
            lj = contrib[j]
            contrib[j] = 0.0
            diag += lj * lj * d[j]
            for p in (sire[j], dam[j]):
                if p >= 0:
                    contrib[p] += 0.5 * lj
                    if not queued[p]:
                        queued[p] = True
                        heapq.heappush(heap, -p)
        f[i] = diag - 1.0
    return f, d


@kernel
def relationship_tabular(sire, dam):
    """Dense numerator relationship matrix A by the tabular method (Henderson 1976).

    A_ii = 1 + A_sd / 2 (A_sd = 0 unless both parents known); A_ij = (A_js + A_jd) / 2
    for j older than i. O(n^2) memory: meant for small subsets.
    """
    n = sire.shape[0]
    a = np.zeros((n, n))
    for i in range(n):
        s, m = sire[i], dam[i]
        a[i, i] = 1.0 + (0.5 * a[s, m] if (s >= 0 and m >= 0) else 0.0)
        for j in range(i):
            v = 0.0
            if s >= 0:
                v += 0.5 * a[j, s]
            if m >= 0:
                v += 0.5 * a[j, m]
            a[i, j] = v
            a[j, i] = v
    return a
