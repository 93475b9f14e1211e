"""Single-site Gibbs sweep of random regressions: each level's (intercept, slopes) drawn jointly."""

import numpy as np

from .._numba import kernel
from .random_effects import _neighbour_sums


@kernel
def sweep_random_regression(
    rng, u, resid, weights, rec_ptr, rec_idx, covariates, prec_ptr, prec_idx, prec_val, sigma2_e, effect_precision
):
    r"""Draw each level's coefficient vector :math:`u_i \in \mathbb{R}^q` from its full conditional.

    Model: :math:`y_r = \dots + x_r' u_{l(r)} + e_r`, :math:`e_r \sim N(0, \sigma^2_e / w_r)`
    (0/1 weights), :math:`x_r` the record's q covariates (1 for the intercept, then the
    slope columns), and :math:`\mathrm{vec}(U') \sim N(0, P^{-1} \otimes \Sigma)` with
    sparse precision P among levels (I for iid levels, :math:`A^{-1}` for a pedigree). With
    :math:`\tilde e_r = e_r + x_r' u_i` (level i's own contribution added back),

    .. math:: u_i \mid \cdot \sim N(Q^{-1} b, Q^{-1}),\quad
              Q = \sigma_e^{-2}\sum_r w_r x_r x_r' + P_{ii}\Sigma^{-1},\quad
              b = \sigma_e^{-2}\sum_r w_r x_r \tilde e_r - \Sigma^{-1}\sum_{k \ne i} P_{ik} u_k,

    sums over level i's records. Q is q x q: its Cholesky factor L gives the mean by two
    triangular solves and the noise as :math:`L'^{-1} z`, :math:`z \sim N(0, I_q)`.

    Arguments: level i's records are ``rec_idx[rec_ptr[i]:rec_ptr[i+1]]``; ``covariates``
    (records x q, C order); ``u`` (levels x q); ``effect_precision`` = :math:`\Sigma^{-1}`;
    P as CSR arrays. Modifies ``u`` and ``resid``. Cost: O(records q^2 + levels q^3 + nnz(P) q)
    per sweep.
    """
    n_levels, q = u.shape
    gram = np.empty((q, q))
    chol = np.empty((q, q))
    rhs = np.empty(q)
    off = np.empty(q)
    half = np.empty(q)
    new = np.empty(q)
    delta = np.empty(q)
    for i in range(n_levels):
        gram[:, :] = 0.0
        rhs[:] = 0.0
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            r = rec_idx[k]
            w = weights[r]
            if w == 0.0:
                continue
            for a in range(q):
                wx = w * covariates[r, a]
                rhs[a] += wx * resid[r]
                for b in range(a + 1):
                    gram[a, b] += wx * covariates[r, b]
        for a in range(q):
            for b in range(a):
                gram[b, a] = gram[a, b]
        diag = _neighbour_sums(i, u, prec_ptr, prec_idx, prec_val, off)
        # b = (X'W e~)/sigma2_e - Sigma^-1 off, with X'W e~ = X'W e + X'WX u_i; Q likewise.
        for a in range(q):
            total = rhs[a]
            for b in range(q):
                total += gram[a, b] * u[i, b]
            prior = 0.0
            for b in range(q):
                prior += effect_precision[a, b] * off[b]
            rhs[a] = total / sigma2_e - prior
            for b in range(q):
                chol[a, b] = gram[a, b] / sigma2_e + diag * effect_precision[a, b]
        # In-place Cholesky of Q (lower triangle), then L h = b, L' new = h + z.
        for a in range(q):
            for b in range(a + 1):
                s = chol[a, b]
                for c in range(b):
                    s -= chol[a, c] * chol[b, c]
                if a == b:
                    chol[a, a] = np.sqrt(s)
                else:
                    chol[a, b] = s / chol[b, b]
        for a in range(q):
            s = rhs[a]
            for c in range(a):
                s -= chol[a, c] * half[c]
            half[a] = s / chol[a, a]
        for a in range(q):
            half[a] += rng.standard_normal()
        for a in range(q - 1, -1, -1):
            s = half[a]
            for c in range(a + 1, q):
                s -= chol[c, a] * new[c]
            new[a] = s / chol[a, a]
        for a in range(q):
            delta[a] = new[a] - u[i, a]
            u[i, a] = new[a]
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            r = rec_idx[k]
            change = 0.0
            for a in range(q):
                change += covariates[r, a] * delta[a]
            resid[r] -= change
