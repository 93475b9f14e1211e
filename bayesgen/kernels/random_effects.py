"""Single-site Gibbs sweep for random effects with a sparse prior precision (iid, pedigree, K^-1)."""

import numpy as np

from .._numba import kernel


@kernel
def sweep_random_effects(
    rng, u, resid, weights, rec_ptr, rec_idx, rec_z, zz, prec_ptr, prec_idx, prec_val, sigma2_e, sigma2_u
):
    r"""Draw each effect u_i from its full conditional, updating ``resid`` in place.

    Model: :math:`y = \dots + Z u + e`, :math:`u \sim N(0, \sigma^2_u P^{-1})` with sparse
    precision P (identity for iid effects, :math:`A^{-1}` for the animal effect), and
    :math:`e \sim N(0, \sigma^2_e W^{-1})` with 0/1 weights W (0 = missing phenotype).
    With :math:`\lambda = \sigma^2_e/\sigma^2_u`, the full conditional of :math:`u_i` is

    .. math:: u_i \mid \cdot \sim N\Big(\frac{z_i' W (e + z_i u_i) - \lambda \sum_{k \ne i} P_{ik} u_k}
              {z_i' W z_i + \lambda P_{ii}},\; \frac{\sigma^2_e}{z_i' W z_i + \lambda P_{ii}}\Big).

    Arguments: level i's records are ``rec_idx[rec_ptr[i]:rec_ptr[i+1]]`` with incidence
    values ``rec_z`` (CSR of Z'), ``zz[i] = z_i' W z_i``; P is given as CSR arrays.
    Modifies ``u`` and ``resid``. Cost: O(records + nnz(P)) per sweep.
    """
    q = u.shape[0]
    lam = sigma2_e / sigma2_u
    for i in range(q):
        ze = 0.0
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            r = rec_idx[k]
            ze += weights[r] * rec_z[k] * resid[r]
        diag = 0.0
        off = 0.0
        for k in range(prec_ptr[i], prec_ptr[i + 1]):
            j = prec_idx[k]
            if j == i:
                diag += prec_val[k]
            else:
                off += prec_val[k] * u[j]
        lhs = zz[i] + lam * diag
        mean = (ze + zz[i] * u[i] - lam * off) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        delta = new - u[i]
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            resid[rec_idx[k]] -= rec_z[k] * delta
        u[i] = new


@kernel
def quadratic_form(u, prec_ptr, prec_idx, prec_val):
    """u' P u for a CSR matrix P."""
    total = 0.0
    for i in range(u.shape[0]):
        row = 0.0
        for k in range(prec_ptr[i], prec_ptr[i + 1]):
            row += prec_val[k] * u[prec_idx[k]]
        total += u[i] * row
    return total
