r"""Approximate minimum degree ordering (Amestoy, Davis & Duff 1996) for sparse Cholesky.

Written here from the published algorithm, so that bayesgen needs no compiled ordering
library. Gaussian elimination is simulated on a *quotient graph*: an eliminated node
becomes an *element* e standing for the clique on its variable list :math:`L_e`; a
variable i keeps a list of adjacent elements :math:`E_i` and of adjacent variables
:math:`A_i`. Eliminating the pivot p forms the new element

.. math:: L_p = \Big(A_p \cup \bigcup_{e \in E_p} L_e\Big) \setminus \{p\},

absorbs the elements of :math:`E_p`, and bounds the external degree of every
:math:`i \in L_p` from above by

.. math:: \bar d_i = \min\Big(n - k,\; \bar d_i^{\,old} + |L_p \setminus i|,\;
          |A_i \setminus i| + |L_p \setminus i| + \sum_{e \in E_i \setminus p} |L_e \setminus L_p|\Big),

where :math:`|L_e \setminus L_p|` comes from one scan of the lists of :math:`L_p`. With it:
*mass elimination* (a variable adjacent only to p is eliminated with p), *aggressive
absorption* (an element with :math:`L_e \subseteq L_p` is absorbed into p),
*supervariables* (variables with identical lists are merged and eliminated together;
found by hashing their lists), and *dense rows* (more than ``dense_threshold``
off-diagonal entries) set aside and ordered last. Storage grows only by the new
element lists and is compacted when full.
"""

import numpy as np

from .._numba import kernel

VARIABLE, ELEMENT, ABSORBED, MERGED, DENSE = 0, 1, 2, 3, 4


@kernel
def _remove_from_degree_list(i, degree, head, nxt, prv):
    if prv[i] >= 0:
        nxt[prv[i]] = nxt[i]
    else:
        head[degree[i]] = nxt[i]
    if nxt[i] >= 0:
        prv[nxt[i]] = prv[i]


@kernel
def _insert_in_degree_list(i, deg, head, nxt, prv):
    nxt[i] = head[deg]
    prv[i] = -1
    if head[deg] >= 0:
        prv[head[deg]] = i
    head[deg] = i


@kernel
def _compact(iw, pe, length, state):
    """Move every live list (variables and elements) to the front of ``iw``; return the free start."""
    n = pe.shape[0]
    live = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if state[i] == VARIABLE or state[i] == ELEMENT:
            live[m] = i
            m += 1
    live = live[:m]
    starts = pe[live]
    order = np.argsort(starts, kind="mergesort")
    dst = 0
    for t in range(m):
        i = live[order[t]]
        src = pe[i]
        for k in range(length[i]):
            iw[dst + k] = iw[src + k]
        pe[i] = dst
        dst += length[i]
    return dst


@kernel
def approximate_minimum_degree(indptr, indices, dense_threshold):
    """Fill-reducing permutation of a structurally symmetric n x n pattern (CSR arrays).

    Returns ``perm`` (int64): ``perm[k]`` is the row of the original matrix eliminated k-th.
    The diagonal is ignored; rows with more than ``dense_threshold`` off-diagonal entries
    are ordered last. Entries of the pattern are not inspected beyond their positions.
    """
    n = indptr.shape[0] - 1
    state = np.zeros(n, dtype=np.int8)
    count = np.zeros(n, dtype=np.int64)
    for i in range(n):
        for q in range(indptr[i], indptr[i + 1]):
            if indices[q] != i:
                count[i] += 1
    n_dense = 0
    for i in range(n):
        if count[i] > dense_threshold:
            state[i] = DENSE
            n_dense += 1
    length = np.zeros(n, dtype=np.int64)
    total = 0
    for i in range(n):
        if state[i] == DENSE:
            continue
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if j != i and state[j] != DENSE:
                length[i] += 1
        total += length[i]
    iwlen = total + total // 2 + 4 * n + 1024
    iw = np.empty(iwlen, dtype=np.int64)
    pe = np.zeros(n, dtype=np.int64)
    pfree = 0
    for i in range(n):
        pe[i] = pfree
        if state[i] == DENSE:
            continue
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            if j != i and state[j] != DENSE:
                iw[pfree] = j
                pfree += 1
    elen = np.zeros(n, dtype=np.int64)  # number of elements at the front of a variable's list
    nv = np.ones(n, dtype=np.int64)  # supervariable sizes
    degree = length.copy()  # variables: approximate external degree; elements: |L_e|
    w = np.ones(n, dtype=np.int64)  # element marks: w[e] - wflg = |L_e \ L_p|; 0 = absorbed
    head = np.full(n + 1, -1, dtype=np.int64)
    nxt = np.full(n, -1, dtype=np.int64)
    prv = np.full(n, -1, dtype=np.int64)
    for i in range(n):
        if state[i] == VARIABLE:
            _insert_in_degree_list(i, degree[i], head, nxt, prv)
    lme_mark = np.full(n, -1, dtype=np.int64)
    elim_step = np.full(n, -1, dtype=np.int64)
    representative = np.full(n, -1, dtype=np.int64)
    hashes = np.empty(n, dtype=np.int64)
    members = np.empty(n, dtype=np.int64)
    n_eff = n - n_dense
    nel = 0
    mindeg = 0
    wflg = 2
    step = 0
    while nel < n_eff:
        # 1. pivot of least approximate degree
        while head[mindeg] < 0:
            mindeg += 1
        me = head[mindeg]
        _remove_from_degree_list(me, degree, head, nxt, prv)
        nvpiv = nv[me]
        nel += nvpiv
        elim_step[me] = step
        state[me] = ELEMENT
        lme_mark[me] = me
        # 2. the new element L_me, in place when me touches no element, else at the free end
        elenme = elen[me]
        degme = 0
        if elenme == 0:
            p = pe[me]
            for k in range(pe[me], pe[me] + length[me]):
                i = iw[k]
                if state[i] == VARIABLE and lme_mark[i] != me:
                    lme_mark[i] = me
                    degme += nv[i]
                    _remove_from_degree_list(i, degree, head, nxt, prv)
                    iw[p] = i
                    p += 1
            lme_start = pe[me]
            lme_end = p
        else:
            bound = 0
            for k in range(pe[me], pe[me] + length[me]):
                x = iw[k]
                if k < pe[me] + elenme:
                    if state[x] == ELEMENT:
                        bound += length[x]
                else:
                    bound += 1
            if pfree + bound > iwlen:
                pfree = _compact(iw, pe, length, state)
                if pfree + bound > iwlen:
                    iwlen = max(2 * iwlen, pfree + bound + n)
                    grown = np.empty(iwlen, dtype=np.int64)
                    grown[:pfree] = iw[:pfree]
                    iw = grown
            lme_start = pfree
            for k in range(pe[me], pe[me] + length[me]):
                x = iw[k]
                if k < pe[me] + elenme:
                    if state[x] != ELEMENT:
                        continue
                    for q in range(pe[x], pe[x] + length[x]):
                        i = iw[q]
                        if state[i] == VARIABLE and lme_mark[i] != me:
                            lme_mark[i] = me
                            degme += nv[i]
                            _remove_from_degree_list(i, degree, head, nxt, prv)
                            iw[pfree] = i
                            pfree += 1
                    state[x] = ABSORBED
                    w[x] = 0
                else:
                    i = x
                    if state[i] == VARIABLE and lme_mark[i] != me:
                        lme_mark[i] = me
                        degme += nv[i]
                        _remove_from_degree_list(i, degree, head, nxt, prv)
                        iw[pfree] = i
                        pfree += 1
            lme_end = pfree
        pe[me] = lme_start
        length[me] = lme_end - lme_start
        elen[me] = 0
        # 3. w[e] - wflg = |L_e \ L_me| for every element e next to L_me
        for k in range(lme_start, lme_end):
            i = iw[k]
            nvi = nv[i]
            for q in range(pe[i], pe[i] + elen[i]):
                e = iw[q]
                if state[e] != ELEMENT:
                    continue
                if w[e] >= wflg:
                    w[e] -= nvi
                else:
                    w[e] = degree[e] + wflg - nvi
        # 4. prune the lists of L_me, bound the degrees, mass-eliminate, hash for supervariables
        n_members = 0
        for k in range(lme_start, lme_end):
            i = iw[k]
            p1 = pe[i]
            p2 = p1 + elen[i]
            p3 = p1 + length[i]
            pn = p1
            deg = 0
            h = 0
            for q in range(p1, p2):
                e = iw[q]
                if state[e] != ELEMENT:
                    continue
                dext = w[e] - wflg
                if dext > 0:
                    deg += dext
                    iw[pn] = e
                    pn += 1
                    h += e
                else:  # L_e inside L_me: aggressive absorption
                    state[e] = ABSORBED
                    w[e] = 0
            n_elements = pn - p1 + 1
            p4 = pn
            for q in range(p2, p3):
                j = iw[q]
                if state[j] == VARIABLE and lme_mark[j] != me:
                    deg += nv[j]
                    iw[pn] = j
                    pn += 1
                    h += j
            if n_elements == 1 and pn == p4:
                # adjacent to me only: eliminate with me, no fill
                nvi = nv[i]
                nel += nvi
                degme -= nvi
                elim_step[i] = step
                state[i] = MERGED
            else:
                if deg < degree[i]:
                    degree[i] = deg
                # me first among the elements; at least one entry was pruned, so there is room
                if p4 < pn:
                    iw[pn] = iw[p4]
                if p4 > p1:
                    iw[p4] = iw[p1]
                iw[p1] = me
                length[i] = pn - p1 + 1
                elen[i] = n_elements
                hashes[n_members] = h
                members[n_members] = i
                n_members += 1
        wflg += n + 2
        # 5. supervariables: identical pruned lists (equal hash, then compared)
        if n_members > 1:
            order = np.argsort(hashes[:n_members], kind="mergesort")
            a = 0
            while a < n_members:
                b = a + 1
                while b < n_members and hashes[order[b]] == hashes[order[a]]:
                    b += 1
                for s in range(a, b - 1):
                    i = members[order[s]]
                    if state[i] != VARIABLE:
                        continue
                    for q in range(pe[i], pe[i] + length[i]):
                        w[iw[q]] = wflg
                    for t in range(s + 1, b):
                        j = members[order[t]]
                        if state[j] != VARIABLE or length[j] != length[i] or elen[j] != elen[i]:
                            continue
                        same = True
                        for q in range(pe[j], pe[j] + length[j]):
                            if w[iw[q]] != wflg:
                                same = False
                                break
                        if same:
                            nv[i] += nv[j]
                            nv[j] = 0
                            state[j] = MERGED
                            representative[j] = i
                            if degree[j] < degree[i]:
                                degree[i] = degree[j]
                    wflg += 1
                a = b
            wflg += 1
        # 6. final degrees, back into the degree lists; L_me keeps live supervariables only
        p = lme_start
        for k in range(lme_start, lme_end):
            i = iw[k]
            if state[i] != VARIABLE:
                continue
            nvi = nv[i]
            deg = min(degree[i] + degme - nvi, n_eff - nel - nvi)
            degree[i] = deg
            _insert_in_degree_list(i, deg, head, nxt, prv)
            if deg < mindeg:
                mindeg = deg
            iw[p] = i
            p += 1
        length[me] = p - lme_start
        degree[me] = degme
        if length[me] == 0:
            state[me] = ABSORBED
            w[me] = 0
        step += 1
    # merged variables are eliminated with their representative; dense rows come last
    for i in range(n):
        if state[i] == DENSE:
            elim_step[i] = step
            continue
        r = i
        while elim_step[r] < 0:
            r = representative[r]
        elim_step[i] = elim_step[r]
    return np.argsort(elim_step, kind="mergesort")
