"""Pointwise log-likelihood with each record's own random effects integrated out."""

import numpy as np

from .._numba import kernel


@kernel
def integrate_own_effects(levels, rec_ptr, rec_idx, level_offsets, prior_precision, prior_shift, effects, resid,
                          weights, sigma2_e, shift, extra):
    r"""For each observed record r, integrate its T random effects out given the other records.

    Terms t = 0..T-1 give record r the level ``levels[t, r]``; stacked over terms (level
    ``l`` of term t is row ``level_offsets[t] + l``), each level has a conditional prior
    :math:`b_l \mid b_{-l} \sim N(-\text{prior\_shift}_l / \text{prior\_precision}_l,\ 1/\text{prior\_precision}_l)`
    (row l of the prior precision :math:`P/\sigma^2_t`, ``prior_shift`` :math:`= \sum_{k \ne l} P_{lk} b_k/\sigma^2_t`).
    The records of level l are ``rec_idx[rec_ptr[l]:rec_ptr[l+1]]``.

    With the vector :math:`b_r` of record r's T effects and every other effect fixed, each
    other observed record r' that shares a subset S of r's levels contributes
    :math:`1_S 1_S'/\sigma^2_e` to the precision Q and :math:`1_S(e_{r'} + \sum_{s\in S} b_s)/\sigma^2_e`
    to the right-hand side (counted once, at the first term of S); the prior adds
    ``prior_precision`` to the diagonal and ``-prior_shift`` to the right-hand side. Then
    :math:`b_r \mid y_{-r}, \phi \sim N(m, Q^{-1})`, :math:`m = Q^{-1} \text{rhs}`, and
    :math:`y_r \mid y_{-r}, \phi \sim N(y_r - e_r - 1'b_r + 1'm,\ \sigma^2_e + 1'Q^{-1}1)`:
    ``shift[r]`` :math:`= 1'b_r - 1'm` (added to :math:`e_r`), ``extra[r]`` :math:`= 1'Q^{-1}1`.
    Records with weight 0 are skipped. Cost: the number of records sharing a level with each record.
    """
    n_terms, n = levels.shape
    q = np.zeros((n_terms, n_terms))
    rhs = np.zeros(n_terms)
    shared = np.zeros(n_terms, dtype=np.bool_)
    for r in range(n):
        if weights[r] == 0.0:
            continue
        q[:, :] = 0.0
        own = 0.0
        for t in range(n_terms):
            row = level_offsets[t] + levels[t, r]
            q[t, t] = prior_precision[row]
            rhs[t] = -prior_shift[row]
            own += effects[row]
        for t in range(n_terms):
            row = level_offsets[t] + levels[t, r]
            for k in range(rec_ptr[row], rec_ptr[row + 1]):
                other = rec_idx[k]
                if other == r or weights[other] == 0.0:
                    continue
                first = -1
                partial = resid[other]
                for s in range(n_terms):
                    shared[s] = levels[s, other] == levels[s, r]
                    if shared[s]:
                        if first < 0:
                            first = s
                        partial += effects[level_offsets[s] + levels[s, r]]
                if first != t:
                    continue  # counted at the first shared term
                for a in range(n_terms):
                    if shared[a]:
                        rhs[a] += partial / sigma2_e
                        for b in range(n_terms):
                            if shared[b]:
                                q[a, b] += 1.0 / sigma2_e
        both = np.empty((n_terms, 2))
        both[:, 0] = rhs
        both[:, 1] = 1.0
        solved = np.linalg.solve(q, both)
        shift[r] = own - solved[:, 0].sum()
        extra[r] = solved[:, 1].sum()
