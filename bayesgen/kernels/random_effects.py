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
    # The q normal deviates at once: the same stream as one call per level, without the
    # per-call overhead in the loop.
    noise = rng.standard_normal(q)
    for i in range(q):
        ze = 0.0
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            r = rec_idx[k]
            ze += weights[r] * rec_z[k] * resid[r]
        # sum_k P_ik u_k over the whole row, the diagonal taken out after (no branch per entry).
        diag = 0.0
        total = 0.0
        for k in range(prec_ptr[i], prec_ptr[i + 1]):
            j = prec_idx[k]
            value = prec_val[k]
            diag += value if j == i else 0.0
            total += value * u[j]
        current = u[i]
        off = total - diag * current
        lhs = zz[i] + lam * diag
        mean = (ze + zz[i] * current - lam * off) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * noise[i]
        delta = new - current
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            resid[rec_idx[k]] -= rec_z[k] * delta
        u[i] = new


@kernel
def sweep_random_effects_quadratic(
    rng, u, resid, weights, rec_ptr, rec_idx, rec_z, zz, prec_ptr, prec_idx, prec_val, diagonal_at, sigma2_e, sigma2_u
):
    r"""``sweep_random_effects`` that also returns :math:`u'Pu` of the swept effects, in the same pass.

    The draws are bit-for-bit those of ``sweep_random_effects`` (the row sum is accumulated
    in the same order). P is symmetric, each row's column indices sorted with exactly one
    diagonal entry, at position ``diagonal_at[i]`` (``precision_split``): row i's entries
    left of it are the :math:`P_{ij}`, j < i. When level i is drawn every :math:`u_j`, j < i, is
    already final, so

    .. math:: u'Pu = \sum_i \Big(P_{ii} u_i^2 + 2 u_i \sum_{j < i} P_{ij} u_j\Big)

    accumulates during the sweep; this saves a second pass over P (the quadratic form of the
    variance's full conditional). Equal to ``quadratic_form`` up to rounding.
    """
    q = u.shape[0]
    lam = sigma2_e / sigma2_u
    noise = rng.standard_normal(q)
    ss = 0.0
    for i in range(q):
        ze = 0.0
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            r = rec_idx[k]
            ze += weights[r] * rec_z[k] * resid[r]
        at = diagonal_at[i]
        total = 0.0
        for k in range(prec_ptr[i], at):
            total += prec_val[k] * u[prec_idx[k]]
        lower = total
        diag = prec_val[at]
        current = u[i]
        total += diag * current
        for k in range(at + 1, prec_ptr[i + 1]):
            total += prec_val[k] * u[prec_idx[k]]
        off = total - diag * current
        lhs = zz[i] + lam * diag
        mean = (ze + zz[i] * current - lam * off) / lhs
        new = mean + np.sqrt(sigma2_e / lhs) * noise[i]
        delta = new - current
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            resid[rec_idx[k]] -= rec_z[k] * delta
        u[i] = new
        ss += new * (diag * new + 2.0 * lower)
    return ss


def precision_split(prec_ptr, prec_idx):
    """Position of each row's diagonal entry in a CSR matrix (``sweep_random_effects_quadratic``);
    None unless every row has sorted column indices and exactly one diagonal entry."""
    q = prec_ptr.size - 1
    rows = np.repeat(np.arange(q, dtype=np.int64), np.diff(prec_ptr))
    if ((np.diff(prec_idx) < 0) & (rows[1:] == rows[:-1])).any():
        return None
    on_diagonal = prec_idx == rows
    if not np.array_equal(np.bincount(rows[on_diagonal], minlength=q), np.ones(q, dtype=np.int64)):
        return None
    return np.flatnonzero(on_diagonal).astype(np.int64)


@kernel
def rescale_sums(u, record_index, weights, resid):
    r"""(a, b) of the rescaling move for one level per record: :math:`a = (Zu)'W(Zu)`,
    :math:`b = (Zu)'W(e + Zu)`, in one pass over the records without forming Zu."""
    a = 0.0
    b = 0.0
    for r in range(record_index.size):
        f = u[record_index[r]]
        wf = weights[r] * f
        a += wf * f
        b += wf * (resid[r] + f)
    return a, b


@kernel
def apply_rescale(u, record_index, resid, k):
    """u -> k u and e -> e - (k - 1) Z u for one level per record, in place."""
    step = k - 1.0
    for r in range(record_index.size):
        resid[r] -= step * u[record_index[r]]
    for i in range(u.shape[0]):
        u[i] *= k


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


@kernel
def _neighbour_sums(i, u, prec_ptr, prec_idx, prec_val, off):
    r"""Row i of P against vector-valued effects: returns :math:`P_{ii}` and sets
    ``off[a]`` :math:`= \sum_{k \ne i} P_{ik} u_{ka}`.

    ``u``: (levels x ``off.size``); P as CSR arrays (entries summed in stored order).
    Modifies ``off``.
    """
    diag = 0.0
    off[:] = 0.0
    for k in range(prec_ptr[i], prec_ptr[i + 1]):
        j = prec_idx[k]
        if j == i:
            diag += prec_val[k]
        else:
            for a in range(off.size):
                off[a] += prec_val[k] * u[j, a]
    return diag


@kernel
def sweep_random_effects_multitrait(
    rng,
    u,
    resid,
    weights,
    rec_ptr,
    rec_idx,
    rec_z,
    prec_ptr,
    prec_idx,
    prec_val,
    residual_precision,
    effect_precision,
):
    r"""Draw each level's effect vector :math:`u_i \in \mathbb{R}^t` from its full conditional.

    Model: :math:`y_r = \dots + z_r u_{l(r)} + e_r`, :math:`e_r \sim N(0, R)` (t traits, a
    record observed in all traits or none, weight :math:`w_r \in \{0, 1\}`), and
    :math:`\mathrm{vec}(U') \sim N(0, P^{-1} \otimes G)` with sparse precision P among levels.
    With :math:`\tilde e_r = e_r + z_r u_i` (level i's own effect added back),

    .. math:: u_i \mid \cdot \sim N(Q^{-1} b, Q^{-1}),\quad
              Q = \Big(\sum_r w_r z_r^2\Big) R^{-1} + P_{ii} G^{-1},\quad
              b = R^{-1}\sum_r w_r z_r \tilde e_r - G^{-1}\sum_{k \ne i} P_{ik} u_k.

    ``u``: (levels x t); ``resid``, ``weights``: (records x t); ``residual_precision`` =
    :math:`R^{-1}`, ``effect_precision`` = :math:`G^{-1}`. Modifies ``u`` and ``resid``.
    """
    q, t = u.shape
    e_sum = np.zeros(t)
    off = np.zeros(t)
    for i in range(q):
        zz = 0.0
        e_sum[:] = 0.0
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            r = rec_idx[k]
            w = weights[r, 0]
            z = rec_z[k]
            zz += w * z * z
            for a in range(t):
                e_sum[a] += w * z * resid[r, a]
        diag = _neighbour_sums(i, u, prec_ptr, prec_idx, prec_val, off)
        for a in range(t):
            e_sum[a] += zz * u[i, a]  # add the level's own effect back: sum w z (e + z u_i)
        precision = zz * residual_precision + diag * effect_precision
        rhs = residual_precision @ e_sum - effect_precision @ off
        chol = np.linalg.cholesky(precision)
        # mean = Q^-1 rhs; noise = L^-T z has covariance Q^-1 (Q = L L').
        half = np.linalg.solve(chol, rhs)
        new = np.linalg.solve(chol.T, half + rng.standard_normal(t))
        for k in range(rec_ptr[i], rec_ptr[i + 1]):
            r = rec_idx[k]
            z = rec_z[k]
            for a in range(t):
                resid[r, a] -= z * (new[a] - u[i, a])
        for a in range(t):
            u[i, a] = new[a]


@kernel
def quadratic_form_matrix(u, prec_ptr, prec_idx, prec_val):
    """U' P U (t x t) for effects U (levels x t) and a CSR precision P."""
    q, t = u.shape
    if t == 1:  # one trait: a scalar loop, about twice as fast as the general one
        total = 0.0
        for i in range(q):
            row = 0.0
            for k in range(prec_ptr[i], prec_ptr[i + 1]):
                row += prec_val[k] * u[prec_idx[k], 0]
            total += u[i, 0] * row
        return np.full((1, 1), total)
    out = np.zeros((t, t))
    row = np.zeros(t)
    for i in range(q):
        row[:] = 0.0
        for k in range(prec_ptr[i], prec_ptr[i + 1]):
            for a in range(t):
                row[a] += prec_val[k] * u[prec_idx[k], a]
        for a in range(t):
            for b in range(t):
                out[a, b] += u[i, a] * row[b]
    return out
