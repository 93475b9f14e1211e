"""Multi-trait marker-effect sweep over int8 genotypes: each marker's t effects drawn jointly."""

import numpy as np

from .._numba import kernel
from ..data._genotype_kernels import marker_row, n_records, row_scratch
from .markers import (
    _code_residual_dot_pair,
    _max_missing,
    _observed_xe,
    _observed_xe_from,
    _subtract_code_change,
    _subtract_code_change_pair,
    genetic_values_from_codes,
    marker_code_stats,
    unobserved_records,
)


def genetic_values(codes, lookup, alpha, n=-1):
    """X A (records x t) for int8 or packed genotypes (markers x records; packed need ``n``, the
    records) and effects A (markers x t); for one trait the one-trait kernel (its fast path)."""
    if alpha.shape[1] == 1:
        return genetic_values_from_codes(codes, lookup, np.ascontiguousarray(alpha[:, 0]), n)[:, None]
    return genetic_values_multitrait(codes, lookup, alpha, n)


def sweep_markers_multitrait(
    rng,
    alpha,
    codes,
    lookup,
    xx,
    resid,
    weights,
    genetic_values,
    residual_precision,
    effect_precision,
    code_stats=None,
    log_prior_odds=np.inf,
):
    r"""Draw every marker's effect vector :math:`\alpha_j \in \mathbb{R}^t` from its full conditional.

    Model: :math:`Y = \dots + X A + E` with t traits, rows of A (:math:`\alpha_j'`) iid
    :math:`N(0, \Sigma_\alpha)`, record r's residual vector :math:`e_r \sim N(0, R / w_r)`
    (w: one weight per record, ``weights`` (records,); 0 = no phenotype; with several traits the
    residual term has completed every record with some trait observed). Centred genotypes
    :math:`x_{ij} = \text{lookup}[j, \text{codes}[j, i]]` (0 where missing). With E the
    residual with the current :math:`\alpha_j` still in the fit and :math:`x_j'Wx_j` = ``xx[j]``,

    .. math:: \alpha_j \mid \cdot \sim N(P_j^{-1} b_j, P_j^{-1}),\quad
              P_j = (x_j'Wx_j) R^{-1} + \Sigma_\alpha^{-1},\quad
              b_j = R^{-1}(E'Wx_j + x_j'Wx_j\,\alpha_j).

    Spike and slab (multi-trait BayesC, ``log_prior_odds`` finite): :math:`\alpha_j = 0` with
    prior probability :math:`1 - \pi` (a joint indicator for the t traits), else
    :math:`N(0, \Sigma_\alpha)`. With :math:`\alpha_j` integrated out, the log-odds of inclusion are

    .. math:: \log\frac{\pi}{1 - \pi} - \tfrac12\log|\Sigma_\alpha| - \tfrac12\log|P_j|
              + \tfrac12 b_j'P_j^{-1}b_j,

    where ``log_prior_odds`` holds the first two terms; then :math:`\alpha_j` is drawn as above
    if included. Returns the number of markers included (all of them when ``log_prior_odds``
    is +inf, the default: BRR).

    ``alpha``: (markers x t); ``resid``, ``genetic_values``: (records x t), Fortran order;
    ``residual_precision`` :math:`R^{-1}`, ``effect_precision`` :math:`\Sigma_\alpha^{-1}`.
    Modifies ``alpha``, ``resid`` (minus the change of fit) and ``genetic_values`` (plus it).

    For 0/1 weights each :math:`x_j'We_k` is the exact centred dot product of the one-trait
    sweep (``kernels.markers._observed_xe``: raw codes, the marker's missing genotypes and
    the unphenotyped records taken out from their lists) on the contiguous column
    :math:`e_k`, and the residual update is its ``_subtract_code_change``. The traits go in
    pairs, so that each pass over the marker's codes serves two columns (the codes read and
    converted once for both: ``_code_residual_dot_pair``, ``_subtract_code_change_pair``), and an
    odd last trait alone; other weights take one pass over the marker's codes computing the t
    dot products together.
    O(records x t) per marker plus a t x t Cholesky factorisation (O(t^3), written out).
    """
    if code_stats is None:
        code_stats = marker_code_stats(codes, resid.shape[0])
    return _sweep_markers_multitrait(
        rng,
        alpha,
        codes,
        lookup,
        xx,
        code_stats,
        resid,
        np.ascontiguousarray(weights),
        genetic_values,
        residual_precision,
        effect_precision,
        float(log_prior_odds),
    )


@kernel
def _draw_effect_vector(rng, current, xe, xx_j, residual_precision, effect_precision, log_prior_odds, chol, half, out):
    """One draw of (delta, alpha_j) into ``out``: alpha_j ~ N(P^-1 b, P^-1) with P = xx R^-1 + S^-1,
    b = R^-1 (xe + xx current), included with the probability of :func:`sweep_markers_multitrait`
    (always when ``log_prior_odds`` is +inf), else 0. Returns whether it is included.

    t is small: the Cholesky factor P = L L' and the two triangular solves are written out in
    the caller's work arrays (``chol``: t x t, ``half``: t), with no allocation per marker.
    """
    t = current.size
    for a in range(t):  # b = R^-1 (xe + xx current)
        total = 0.0
        for c in range(t):
            total += residual_precision[a, c] * (xe[c] + xx_j * current[c])
        half[a] = total
    for a in range(t):  # P = L L'
        for c in range(a + 1):
            total = xx_j * residual_precision[a, c] + effect_precision[a, c]
            for k in range(c):
                total -= chol[a, k] * chol[c, k]
            chol[a, c] = np.sqrt(total) if a == c else total / chol[c, c]
    for a in range(t):  # L h = b: then b'P^-1 b = h'h and the mean is L^-T h
        total = half[a]
        for k in range(a):
            total -= chol[a, k] * half[k]
        half[a] = total / chol[a, a]
    if log_prior_odds < np.inf:
        log_odds = log_prior_odds  # + b'P^-1 b / 2 - log|P| / 2, log|P| = 2 sum log L_aa
        for a in range(t):
            log_odds += 0.5 * half[a] * half[a] - np.log(chol[a, a])
        if not rng.random() * (1.0 + np.exp(-log_odds)) < 1.0:
            out[:] = 0.0
            return False
    for a in range(t):
        out[a] = half[a] + rng.standard_normal()
    for a in range(t - 1, -1, -1):  # L' alpha = h + z: the noise L^-T z has covariance P^-1
        total = out[a]
        for k in range(a + 1, t):
            total -= chol[k, a] * out[k]
        out[a] = total / chol[a, a]
    return True


@kernel
def _sweep_markers_multitrait(
    rng,
    alpha,
    codes,
    lookup,
    xx,
    code_stats,
    resid,
    weights,
    genetic_values,
    residual_precision,
    effect_precision,
    log_prior_odds,
):
    n_markers = codes.shape[0]
    n = resid.shape[0]
    scratch = row_scratch(codes, n)
    t = alpha.shape[1]
    unobserved = unobserved_records(weights)
    binary = not (unobserved.size > 0 and unobserved[0] < 0)
    xe = np.zeros(t)
    current = np.zeros(t)
    new = np.zeros(t)
    chol = np.zeros((t, t))
    half = np.zeros(t)
    n_included = 0
    start = resid.copy()
    saved = np.empty(_max_missing(code_stats, n_markers))
    saved_b = np.empty(saved.size)
    sum_e = np.zeros(t)  # per trait, sum_i e_ik over all records, kept up to date (0/1 weights)
    for k in range(t):
        for i in range(n):
            sum_e[k] += resid[i, k]
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        for k in range(t):
            current[k] = alpha[j, k]
        neg_centre = lookup[j, 0]  # -mu_j
        if binary:
            for k in range(0, t - 1, 2):  # pairs of traits: one pass over the codes for both
                e_a, e_b = resid[:, k], resid[:, k + 1]
                sum_a, sum_b = _code_residual_dot_pair(row, e_a, e_b)
                xe[k] = _observed_xe_from(sum_a, row, e_a, code_stats, n_markers, j, unobserved, sum_e[k], neg_centre)
                xe[k + 1] = _observed_xe_from(
                    sum_b, row, e_b, code_stats, n_markers, j, unobserved, sum_e[k + 1], neg_centre
                )
            if t % 2 == 1:
                xe[t - 1] = _observed_xe(
                    row, resid[:, t - 1], code_stats, n_markers, j, unobserved, sum_e[t - 1], neg_centre
                )
        else:
            xe[:] = 0.0
            for i in range(n):
                wx = weights[i] * lookup[j, row[i]]
                if wx != 0.0:
                    for k in range(t):
                        xe[k] += wx * resid[i, k]
        included = _draw_effect_vector(
            rng, current, xe, xx[j], residual_precision, effect_precision, log_prior_odds, chol, half, new
        )
        n_included += included
        if binary:
            for k in range(0, t - 1, 2):
                delta_a, delta_b = new[k] - current[k], new[k + 1] - current[k + 1]
                if delta_a != 0.0 or delta_b != 0.0:
                    change_a, change_b = _subtract_code_change_pair(
                        row,
                        resid[:, k],
                        resid[:, k + 1],
                        delta_a,
                        delta_b,
                        neg_centre,
                        code_stats,
                        n_markers,
                        j,
                        saved,
                        saved_b,
                    )
                    sum_e[k] -= change_a
                    sum_e[k + 1] -= change_b
            delta = new[t - 1] - current[t - 1]
            if t % 2 == 1 and delta != 0.0:
                sum_e[t - 1] -= _subtract_code_change(
                    row, resid[:, t - 1], delta, neg_centre, code_stats, n_markers, j, saved
                )
        else:
            for i in range(n):
                x = lookup[j, row[i]]
                if x != 0.0:
                    for k in range(t):
                        resid[i, k] -= x * (new[k] - current[k])
        for k in range(t):
            alpha[j, k] = new[k]
    # The sweep changed E by -X dA and the genetic values by +X dA.
    for k in range(t):
        for i in range(n):
            genetic_values[i, k] += start[i, k] - resid[i, k]
    return n_included


@kernel
def genetic_values_multitrait(codes, lookup, alpha, n=-1):
    """X A (records x t) for int8 or packed genotypes (markers x records; packed need ``n``) and
    effects A (markers x t)."""
    n_markers = codes.shape[0]
    n = n_records(codes, n)
    scratch = row_scratch(codes, n)
    t = alpha.shape[1]
    out = np.zeros((n, t))
    for j in range(n_markers):
        row = marker_row(codes, j, scratch)
        for i in range(n):
            x = lookup[j, row[i]]
            for k in range(t):
                out[i, k] += x * alpha[j, k]
    return out
