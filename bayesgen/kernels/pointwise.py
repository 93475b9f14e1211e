"""Pointwise log-likelihood with each record's own random effects integrated out."""

import numpy as np

from .._numba import kernel


@kernel
def integrate_own_effects(
    levels,
    rec_ptr,
    rec_idx,
    level_offsets,
    prior_precision,
    prior_shift,
    effects,
    resid,
    weights,
    sigma2_e,
    shift,
    extra,
):
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
    Records with weight 0 are skipped (weights enter only as observed / not observed).

    With one term (T = 1) this is closed form per level l with :math:`n_l` observed records,
    residual sum :math:`E_l` and precision :math:`p_l`: :math:`Q = p_l + (n_l - 1)/\sigma^2_e`,
    :math:`\text{rhs} = -\text{prior\_shift}_l + (E_l - e_r + (n_l - 1) b_l)/\sigma^2_e`, so one pass
    over the records (``_one_term``). With T > 1 the T x T precision comes from the
    design's counts of records sharing each pair of r's levels (``shared_level_counts``: a pass
    over the records sharing a level with each record; ``bayesgen.model.pointwise`` computes
    them once per model) and the right-hand side from per-level residual sums
    (``integrate_with_counts``, O(records T^3) per call); the system is solved by a Cholesky
    factorisation written out in work arrays (no LAPACK call or allocation per record).
    """
    if levels.shape[0] == 1:
        _one_term(
            levels[0], rec_ptr, rec_idx, prior_precision, prior_shift, effects, resid, weights, sigma2_e, shift, extra
        )
    else:
        counts = shared_level_counts(levels, rec_ptr, rec_idx, level_offsets, weights)
        integrate_with_counts(
            levels, level_offsets, counts, prior_precision, prior_shift, effects, resid, weights, sigma2_e, shift, extra
        )


@kernel
def _one_term(levels, rec_ptr, rec_idx, prior_precision, prior_shift, effects, resid, weights, sigma2_e, shift, extra):
    """``integrate_own_effects`` for a single term: per-level sums, then the closed form per record."""
    n_levels = rec_ptr.size - 1
    count = np.zeros(n_levels)
    resid_sum = np.zeros(n_levels)
    for level in range(n_levels):
        for k in range(rec_ptr[level], rec_ptr[level + 1]):
            other = rec_idx[k]
            if weights[other] != 0.0:
                count[level] += 1.0
                resid_sum[level] += resid[other]
    for r in range(levels.size):
        if weights[r] == 0.0:
            continue
        level = levels[r]
        others = count[level] - 1.0
        q = prior_precision[level] + others / sigma2_e
        rhs = -prior_shift[level] + (resid_sum[level] - resid[r] + others * effects[level]) / sigma2_e
        shift[r] = effects[level] - rhs / q
        extra[r] = 1.0 / q


@kernel
def shared_level_counts(levels, rec_ptr, rec_idx, level_offsets, weights):
    r"""``counts[r, a, b]``: the observed records other than r with r's level in both terms a and b
    (``counts[r, a, a]``: those sharing r's level of term a). They fix the precision of r's
    effects in ``integrate_own_effects`` and depend only on the design: computed once per model
    (a pass over the records sharing a level with each record)."""
    n_terms, n = levels.shape
    counts = np.zeros((n, n_terms, n_terms))
    for r in range(n):
        if weights[r] == 0.0:
            continue
        for t in range(n_terms):
            row = level_offsets[t] + levels[t, r]
            for k in range(rec_ptr[row], rec_ptr[row + 1]):
                other = rec_idx[k]
                if other == r or weights[other] == 0.0:
                    continue
                first = -1
                for s in range(n_terms):
                    if levels[s, other] == levels[s, r]:
                        first = s
                        break
                if first != t:
                    continue  # counted at the first shared term
                for a in range(n_terms):
                    if levels[a, other] == levels[a, r]:
                        for b in range(n_terms):
                            if levels[b, other] == levels[b, r]:
                                counts[r, a, b] += 1.0
    return counts


@kernel
def integrate_with_counts(
    levels, level_offsets, counts, prior_precision, prior_shift, effects, resid, weights, sigma2_e, shift, extra
):
    r"""``integrate_own_effects`` for T > 1 terms from the design's ``shared_level_counts`` C.

    Summing the other records' contributions by level: with :math:`E_l` the residual sum of
    level l's observed records and :math:`b_s` record r's effect in term s,
    :math:`Q_{ab} = p_a[a = b] + C_{r,ab}/\sigma^2_e` and
    :math:`\text{rhs}_a = -\text{prior\_shift}_a + (E_{l_a(r)} - e_r + \sum_s b_s C_{r,as})/\sigma^2_e`
    (each record r' sharing the set S of r's levels adds :math:`e_{r'} + \sum_{s \in S} b_s` to every
    a in S). Then Q = LL' by Cholesky in work arrays, m = Q^{-1} rhs and Q^{-1} 1: O(T^3) per record."""
    n_terms, n = levels.shape
    level_sum = np.zeros(prior_precision.size)
    for r in range(n):
        if weights[r] != 0.0:
            for t in range(n_terms):
                level_sum[level_offsets[t] + levels[t, r]] += resid[r]
    q = np.zeros((n_terms, n_terms))
    rhs = np.zeros(n_terms)
    own_effects = np.zeros(n_terms)
    mean = np.zeros(n_terms)
    ones = np.zeros(n_terms)
    for r in range(n):
        if weights[r] == 0.0:
            continue
        own = 0.0
        for t in range(n_terms):
            own_effects[t] = effects[level_offsets[t] + levels[t, r]]
            own += own_effects[t]
        for a in range(n_terms):
            row = level_offsets[a] + levels[a, r]
            total = level_sum[row] - resid[r]
            for b in range(n_terms):
                total += own_effects[b] * counts[r, a, b]
                q[a, b] = counts[r, a, b] / sigma2_e
            q[a, a] += prior_precision[row]
            rhs[a] = -prior_shift[row] + total / sigma2_e
        # Q = L L' in place (lower triangle of q), then m = Q^{-1} rhs and Q^{-1} 1.
        for a in range(n_terms):
            for b in range(a + 1):
                total = q[a, b]
                for c in range(b):
                    total -= q[a, c] * q[b, c]
                q[a, b] = np.sqrt(total) if a == b else total / q[b, b]
        for a in range(n_terms):  # forward: L z = rhs, L v = 1
            z = rhs[a]
            v = 1.0
            for c in range(a):
                z -= q[a, c] * mean[c]
                v -= q[a, c] * ones[c]
            mean[a] = z / q[a, a]
            ones[a] = v / q[a, a]
        for a in range(n_terms - 1, -1, -1):  # backward: L' x = z
            z = mean[a]
            v = ones[a]
            for c in range(a + 1, n_terms):
                z -= q[c, a] * mean[c]
                v -= q[c, a] * ones[c]
            mean[a] = z / q[a, a]
            ones[a] = v / q[a, a]
        shift[r] = own - mean.sum()
        extra[r] = ones.sum()
