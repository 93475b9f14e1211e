"""Each numba kernel against a slow NumPy oracle driven by an identically seeded Generator."""

import numpy as np
import pytest
import scipy.sparse as sp
from packed_codes import STORED, as_stored

from bayesgen import Pedigree
from bayesgen.kernels import (
    genetic_values_from_codes,
    quadratic_form,
    sweep_markers_gaussian,
    sweep_random_effects,
    weighted_cross_products,
)
from bayesgen.kernels.markers import marker_code_stats


def oracle_random_sweep(rng, u, resid, w, z_matrix, precision, sigma2_e, sigma2_u):
    """Full conditional of each u_i in turn, written with dense linear algebra."""
    lam = sigma2_e / sigma2_u
    for i in range(u.size):
        z = z_matrix[:, i]
        lhs = z @ (w * z) + lam * precision[i, i]
        rhs = z @ (w * (resid + z * u[i])) - lam * (precision[i] @ u - precision[i, i] * u[i])
        new = rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        resid -= z * (new - u[i])
        u[i] = new


def oracle_marker_sweep(rng, alpha, var_alpha, x, resid, w, gv, sigma2_e):
    for j in range(alpha.size):
        xj = x[:, j]
        xx = xj @ (w * xj)
        lhs = xx + sigma2_e / var_alpha[j]
        new = (xj @ (w * resid) + xx * alpha[j]) / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        resid -= xj * (new - alpha[j])
        gv += xj * (new - alpha[j])
        alpha[j] = new


def _csr(matrix):
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data.astype(float)


def test_random_effect_sweep_matches_oracle_with_pedigree_precision():
    rng = np.random.default_rng(1)
    ped = Pedigree(list(range(1, 9)), [0, 0, 0, 1, 1, 3, 4, 4], [0, 0, 0, 2, 2, 2, 5, 6])
    ainv = ped.ainv()
    q, n = len(ped), 20
    level = rng.integers(0, q, n)
    z_matrix = np.zeros((n, q))
    z_matrix[np.arange(n), level] = 1.0
    w = (rng.random(n) > 0.2).astype(float)
    resid0, u0 = rng.standard_normal(n), rng.standard_normal(q)

    order = np.argsort(level, kind="stable")
    rec_ptr = np.searchsorted(level[order], np.arange(q + 1)).astype(np.int64)
    zz = np.bincount(level, weights=w, minlength=q).astype(float)
    u1, r1 = u0.copy(), resid0.copy()
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(3):
        sweep_random_effects(g1, u1, r1, w, rec_ptr, order.astype(np.int64), np.ones(n), zz, *_csr(ainv), 1.3, 0.7)
    u2, r2 = u0.copy(), resid0.copy()
    for _ in range(3):
        oracle_random_sweep(g2, u2, r2, w, z_matrix, ainv.toarray(), 1.3, 0.7)
    np.testing.assert_allclose(u1, u2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(quadratic_form(u1, *_csr(ainv)), u1 @ ainv.toarray() @ u1, rtol=1e-12)


@STORED
@pytest.mark.parametrize("missing_codes", [True, False], ids=["missing-genotypes", "complete-genotypes"])
@pytest.mark.parametrize("weights", ["binary", "all-one", "fractional"])
def test_marker_sweep_matches_oracle_and_keeps_genetic_values(missing_codes, weights, stored):
    # Covers each path of the sweep: 0/1 weights with and without unphenotyped records
    # (fast path), other weights (element-by-element path), markers with and without
    # missing genotypes, and a record count that is not a multiple of the unrolling (25).
    rng = np.random.default_rng(2)
    n, p = 25, 7
    codes = rng.integers(0, 4 if missing_codes else 3, (p, n)).astype(np.int8)  # 3 = missing
    if missing_codes:
        codes[0] = np.minimum(codes[0], 2)  # one marker without missing genotypes among the rest
    centre = rng.uniform(0.2, 1.8, p)
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T  # n x p dense oracle
    kc = as_stored(codes, stored)  # what the kernels read
    w = {
        "binary": (rng.random(n) > 0.3).astype(float),
        "all-one": np.ones(n),
        "fractional": rng.uniform(0.0, 2.0, n) * (rng.random(n) > 0.3),
    }[weights]
    sums, xx = weighted_cross_products(kc, lookup, w)
    np.testing.assert_allclose(xx, np.einsum("ij,i,ij->j", x, w, x))
    np.testing.assert_allclose(sums, w @ x)

    alpha0, var_alpha = rng.standard_normal(p), rng.uniform(0.1, 1.0, p)
    resid0 = rng.standard_normal(n)
    a1, r1, gv1 = alpha0.copy(), resid0.copy(), x @ alpha0
    a2, r2, gv2 = alpha0.copy(), resid0.copy(), x @ alpha0
    g1, g2 = np.random.default_rng(11), np.random.default_rng(11)
    for _ in range(3):
        sweep_markers_gaussian(g1, a1, var_alpha, kc, lookup, xx, r1, w, gv1, 0.8)
        oracle_marker_sweep(g2, a2, var_alpha, x, r2, w, gv2, 0.8)
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(genetic_values_from_codes(kc, lookup, a1, n), x @ a1, rtol=1e-12, atol=1e-12)


@STORED
@pytest.mark.parametrize("n", [300, 41], ids=["listed-missing", "masked-missing"])
def test_marker_sweep_with_missing_genotypes_matches_oracle_and_keeps_their_residual_bit_for_bit(n, stored):
    # Missing genotypes contribute x_ij = 0, so e_i there must not move at all. With 4 of
    # 300 missing the marker's list is used (saved and restored); with 4 of 41 (more than
    # 1/64) a masked pass.
    rng = np.random.default_rng(4)
    codes = rng.integers(0, 3, (2, n)).astype(np.int8)
    missing = np.array([0, 5, 17, 40])
    codes[0, missing] = 3
    centre = np.array([row[row < 3].mean() for row in codes])
    lookup = np.zeros((2, 4))
    lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T
    kc = as_stored(codes, stored)  # what the kernels read
    w = np.ones(n)
    w[[3, 17]] = 0.0  # one unphenotyped record with a missing genotype, one without
    _, xx = weighted_cross_products(kc, lookup, w)
    resid0 = rng.standard_normal(n)
    stats = marker_code_stats(kc, n)
    listed = missing if n == 300 else []
    np.testing.assert_array_equal(
        stats, [codes[0][codes[0] < 3].sum(), codes[1].sum(), 4, 0, 0, len(listed), len(listed), *listed]
    )
    r1, a1, gv1 = resid0.copy(), np.zeros(2), np.zeros(n)
    sweep_markers_gaussian(
        np.random.default_rng(0),
        a1,
        np.ones(2),
        kc[:1],
        lookup[:1],
        xx[:1],
        r1,
        w,
        gv1,
        0.5,
        code_stats=marker_code_stats(kc[:1], n),
    )
    assert a1[0] != 0.0
    assert np.array_equal(r1[missing], resid0[missing])
    np.testing.assert_array_equal(gv1[missing], 0.0)
    r1, a1, gv1 = resid0.copy(), np.zeros(2), np.zeros(n)
    r2, a2, gv2 = resid0.copy(), np.zeros(2), np.zeros(n)
    g1, g2 = np.random.default_rng(1), np.random.default_rng(1)
    for _ in range(3):
        sweep_markers_gaussian(g1, a1, np.ones(2), kc, lookup, xx, r1, w, gv1, 0.5, code_stats=stats)
        oracle_marker_sweep(g2, a2, np.ones(2), x, r2, w, gv2, 0.5)
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-12)


@STORED
def test_mixture_sweep_binary_path_matches_oracle(stored):
    # BayesR's sweep with 0/1 weights reads the raw codes: markers with a few listed missing
    # genotypes, with many (masked pass) and with none, and unphenotyped records.
    from test_marker_priors import oracle_mixture_sweep

    from bayesgen.kernels.spike_slab import sweep_markers_mixture

    rng = np.random.default_rng(6)
    n, p = 300, 12
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    codes[:4][rng.random((4, n)) < 0.01] = 3  # listed (at most 1/64 missing)
    codes[4:8][rng.random((4, n)) < 0.2] = 3  # masked
    centre = np.array([row[row < 3].mean() for row in codes])
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T
    kc = as_stored(codes, stored)  # what the kernels read
    w = (rng.random(n) > 0.1).astype(float)
    _, xx = weighted_cross_products(kc, lookup, w)
    pi = np.array([0.5, 0.2, 0.2, 0.1])
    class_variances = np.array([0.0, 0.001, 0.01, 0.1])
    alpha0, resid0 = np.zeros(p), rng.standard_normal(n)
    a1, r1, c1, gv1 = alpha0.copy(), resid0.copy(), np.zeros(p, dtype=np.int64), np.zeros(n)
    a2, r2, c2 = alpha0.copy(), resid0.copy(), np.zeros(p, dtype=np.int64)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    stats = marker_code_stats(kc, n)
    assert 0 < stats[3 * p] < int((codes[:4] == 3).sum()) + 1  # only the first markers are listed
    for _ in range(4):
        sweep_markers_mixture(
            g1, a1, c1, np.log(pi), class_variances, kc, lookup, xx, r1, w, gv1, 0.7, code_stats=stats
        )
        oracle_mixture_sweep(g2, a2, c2, pi, class_variances, x, r2, w, 0.7)
        np.testing.assert_array_equal(c1, c2)
    assert len(set(c1.tolist())) > 1
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-12)
