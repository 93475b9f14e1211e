"""Single-site Gibbs sweep of the direct-maternal animal model: each animal's (direct, maternal) pair."""

import numpy as np

from .._numba import kernel


@kernel
def sweep_direct_maternal(
    rng, u, resid, weights, own_ptr, own_idx, dam_ptr, dam_idx, prec_ptr, prec_idx, prec_val, sigma2_e, g_inv
):
    r"""Draw each animal's (direct, maternal) pair from its 2 x 2 full conditional (see ``MaternalAnimal``).

    ``u``: (animals x 2); the records of animal i are ``own_idx[own_ptr[i]:own_ptr[i+1]]``, those
    of its offspring (i as dam) ``dam_idx[dam_ptr[i]:dam_ptr[i+1]]``; :math:`A^{-1}` as CSR arrays;
    ``g_inv`` = :math:`G^{-1}`. The draw is :math:`\mu + L^{-T} z` with :math:`Q = LL'`.
    Modifies ``u`` and ``resid`` (own records by the change of :math:`a_d`, offspring records
    by the change of :math:`a_m`). Cost O(records + nnz(A^-1)) per sweep.
    """
    q = u.shape[0]
    g00, g01, g11 = g_inv[0, 0], g_inv[0, 1], g_inv[1, 1]
    for i in range(q):
        n_d = 0.0
        e_d = 0.0
        for k in range(own_ptr[i], own_ptr[i + 1]):
            r = own_idx[k]
            n_d += weights[r]
            e_d += weights[r] * resid[r]
        n_m = 0.0
        e_m = 0.0
        for k in range(dam_ptr[i], dam_ptr[i + 1]):
            r = dam_idx[k]
            n_m += weights[r]
            e_m += weights[r] * resid[r]
        diag = 0.0
        off_d = 0.0
        off_m = 0.0
        for k in range(prec_ptr[i], prec_ptr[i + 1]):
            j = prec_idx[k]
            if j == i:
                diag += prec_val[k]
            else:
                off_d += prec_val[k] * u[j, 0]
                off_m += prec_val[k] * u[j, 1]
        q00 = n_d / sigma2_e + diag * g00
        q01 = diag * g01
        q11 = n_m / sigma2_e + diag * g11
        b0 = (e_d + n_d * u[i, 0]) / sigma2_e - (g00 * off_d + g01 * off_m)
        b1 = (e_m + n_m * u[i, 1]) / sigma2_e - (g01 * off_d + g11 * off_m)
        det = q00 * q11 - q01 * q01
        mean0 = (q11 * b0 - q01 * b1) / det
        mean1 = (q00 * b1 - q01 * b0) / det
        l00 = np.sqrt(q00)
        l10 = q01 / l00
        l11 = np.sqrt(q11 - l10 * l10)
        x1 = rng.standard_normal() / l11
        x0 = (rng.standard_normal() - l10 * x1) / l00
        new0 = mean0 + x0
        new1 = mean1 + x1
        delta0 = new0 - u[i, 0]
        delta1 = new1 - u[i, 1]
        for k in range(own_ptr[i], own_ptr[i + 1]):
            resid[own_idx[k]] -= delta0
        for k in range(dam_ptr[i], dam_ptr[i + 1]):
            resid[dam_idx[k]] -= delta1
        u[i, 0] = new0
        u[i, 1] = new1
