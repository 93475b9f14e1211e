"""SparseCholesky against dense numpy, the orderings on exact cases, and every error message."""

import numpy as np
import pytest
import scipy.sparse as sp

import bayesgen as bg
from bayesgen.kernels.cholesky import FactorTooLargeError, NotPositiveDefiniteError, SparseCholesky

ORDERINGS = ["amd", "rcm", "natural"]


def random_spd(rng, n, density):
    """Sparse SPD: a random symmetric pattern, off-diagonals in (-1, 1), diagonal dominant."""
    m = sp.random(n, n, density=density, random_state=rng, data_rvs=lambda k: rng.uniform(-1, 1, k))
    m = sp.triu(m, 1)
    m = m + m.T
    diag = np.asarray(abs(m).sum(axis=1)).ravel() + rng.uniform(0.5, 2.0, n)
    c = (m + sp.diags(diag)).tocsr()
    c.sort_indices()
    return c


def pedigree_mme(seed=5, lam=2.0):
    """C of y = 1 mu + sex + Z a + e on a small simulated pedigree: [X'X X'Z; Z'X Z'Z + lam A^-1]."""
    sim = bg.simulate(n_founders=20, n_generations=3, n_offspring=60, n_markers=0, seed=seed)
    ped = sim.pedigree_object()
    ainv = ped.ainv()
    recs = sim.phenotypes
    z = sp.csr_matrix((np.ones(len(recs)), (np.arange(len(recs)), ped.index(recs["id"]))), shape=(len(recs), len(ped)))
    x = sp.csr_matrix(np.column_stack([np.ones(len(recs)), (recs["sex"] == "F").to_numpy(float)]))
    c = sp.bmat([[x.T @ x, x.T @ z], [z.T @ x, z.T @ z + lam * ainv]]).tocsr()
    c.sum_duplicates()
    c.sort_indices()
    return c


def check_against_dense(c, chol, rng):
    dense = c.toarray()
    n = dense.shape[0]
    b = rng.standard_normal(n)
    np.testing.assert_allclose(chol.solve(b), np.linalg.solve(dense, b), rtol=0, atol=1e-10)
    sign, logdet = np.linalg.slogdet(dense)
    assert sign == 1
    assert abs(chol.logdet() - logdet) <= 1e-10 * max(1.0, abs(logdet))
    lower = chol.lower_factor().toarray()
    perm = chol.permutation
    np.testing.assert_allclose(lower @ lower.T, dense[np.ix_(perm, perm)], rtol=0, atol=1e-12 * abs(dense).max())
    assert np.all(np.triu(lower, 1) == 0)
    x = chol.solve_lt(np.eye(n))
    np.testing.assert_allclose(x @ x.T, np.linalg.inv(dense), rtol=0, atol=1e-10)
    many = rng.standard_normal((n, 3))
    np.testing.assert_allclose(chol.solve(many), np.linalg.solve(dense, many), rtol=0, atol=1e-10)
    assert np.isclose(np.sum(chol.solve_l(b) ** 2), b @ np.linalg.solve(dense, b), rtol=1e-12)
    # Takahashi's selected inverse: C^-1 at C's pattern, in CSR order
    inverse = np.linalg.inv(dense)
    rows = np.repeat(np.arange(n), np.diff(c.indptr))
    np.testing.assert_allclose(
        chol.selected_inverse(), inverse[rows, c.indices], rtol=0, atol=1e-10 * abs(inverse).max()
    )


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_random_sparse_spd_against_dense(ordering):
    rng = np.random.default_rng(11)
    for n, density in [(1, 1.0), (2, 1.0), (9, 0.3), (40, 0.08), (120, 0.03), (80, 0.9), (300, 0.02)]:
        c = random_spd(rng, n, density)
        chol = SparseCholesky(c, ordering=ordering)
        chol.factorize(c.data)
        check_against_dense(c, chol, rng)


def test_given_permutation_is_used():
    rng = np.random.default_rng(3)
    c = random_spd(rng, 30, 0.1)
    perm = rng.permutation(30)
    chol = SparseCholesky(c, ordering=perm)
    np.testing.assert_array_equal(chol.permutation, perm)
    chol.factorize(c.data)
    check_against_dense(c, chol, rng)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_pedigree_mme_and_refactorisation(ordering):
    rng = np.random.default_rng(4)
    c = pedigree_mme(lam=2.0)
    chol = SparseCholesky(c, ordering=ordering)
    chol.factorize(c.data)
    check_against_dense(c, chol, rng)
    # new variance ratio: same pattern, new values, given as data or as the matrix
    c2 = pedigree_mme(lam=0.37)
    assert np.array_equal(c2.indices, c.indices) and np.array_equal(c2.indptr, c.indptr)
    chol.factorize(c2.data)
    check_against_dense(c2, chol, rng)
    chol.factorize(c2)
    check_against_dense(c2, chol, rng)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(8)
    c = random_spd(rng, 25, 0.2)
    copy = c.copy()
    b = rng.standard_normal(25)
    b_copy = b.copy()
    chol = SparseCholesky(c)
    chol.factorize(c.data)
    chol.solve(b), chol.solve_lt(b), chol.solve_l(b), chol.draw(rng, b, scale=2.0)
    assert np.array_equal(c.data, copy.data) and np.array_equal(c.indices, copy.indices)
    assert np.array_equal(c.indptr, copy.indptr) and np.array_equal(b, b_copy)


def test_draw_is_mean_plus_scaled_noise():
    rng = np.random.default_rng(21)
    c = pedigree_mme()
    chol = SparseCholesky(c)
    chol.factorize(c.data)
    b = rng.standard_normal(c.shape[0])
    got = chol.draw(np.random.default_rng(7), b, scale=2.5)
    z = np.random.default_rng(7).standard_normal(c.shape[0])
    np.testing.assert_allclose(got, chol.solve(b) + np.sqrt(2.5) * chol.solve_lt(z), rtol=0, atol=1e-12)


def test_amd_exact_fill_on_arrow_and_tree():
    # arrow with the hub first: natural order fills the whole triangle, AMD eliminates the hub
    # last (or next to last: the final two form a clique); at n=200 the hub is a dense row
    for n in (12, 200):
        arrow = sp.lil_matrix((n, n))
        arrow[0, :] = 1
        arrow[:, 0] = 1
        arrow.setdiag(n)
        arrow = arrow.tocsr()
        assert SparseCholesky(arrow, ordering="natural").nnz_factor == n * (n + 1) // 2
        amd = SparseCholesky(arrow, ordering="amd")
        assert amd.nnz_factor == 2 * n - 1
        assert 0 in amd.permutation[-2:]
    # a tree (a pedigree of single-parent links) factors with no fill
    parent = np.array([-1, 0, 0, 1, 1, 2, 2, 3, 3, 4])
    child = np.flatnonzero(parent >= 0)
    tree = sp.coo_matrix((np.ones(child.size), (child, parent[child])), shape=(10, 10))
    tree = (tree + tree.T + 4 * sp.eye(10)).tocsr()
    tree.sort_indices()
    assert SparseCholesky(tree, ordering="amd").nnz_factor == 10 + child.size


def test_amd_beats_rcm_on_a_pedigree():
    c = pedigree_mme()
    amd = SparseCholesky(c, ordering="amd").nnz_factor
    rcm = SparseCholesky(c, ordering="rcm").nnz_factor
    natural = SparseCholesky(c, ordering="natural").nnz_factor
    assert amd < rcm and amd < natural


# ---------------------------------------------------------------- errors, one per message


@pytest.fixture
def spd():
    return random_spd(np.random.default_rng(0), 6, 0.4)


def test_pattern_must_be_csr(spd):
    with pytest.raises(TypeError, match="pattern must be a scipy.sparse CSR matrix; got a scipy.sparse coo"):
        SparseCholesky(spd.tocoo())
    with pytest.raises(TypeError, match="got ndarray"):
        SparseCholesky(spd.toarray())


def test_pattern_must_be_square():
    with pytest.raises(ValueError, match=r"pattern must be square; got shape \(3, 4\)"):
        SparseCholesky(sp.csr_matrix(np.ones((3, 4))))


def test_pattern_must_not_be_empty():
    with pytest.raises(ValueError, match="at least one row"):
        SparseCholesky(sp.csr_matrix((0, 0)))


def test_pattern_must_be_canonical(spd):
    unsorted = sp.csr_matrix((spd.data[::-1].copy(), spd.indices.copy(), spd.indptr.copy()), shape=spd.shape)
    for i in range(spd.shape[0]):
        lo, hi = spd.indptr[i], spd.indptr[i + 1]
        unsorted.indices[lo:hi] = spd.indices[lo:hi][::-1]
    unsorted.has_sorted_indices = False
    with pytest.raises(ValueError, match="sorted column indices and no duplicate entries"):
        SparseCholesky(unsorted)


def test_pattern_must_be_symmetric():
    m = sp.csr_matrix(np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]))
    with pytest.raises(ValueError, match=r"not structurally symmetric: entry \(0, 1\) is stored but \(1, 0\) is not"):
        SparseCholesky(m)


def test_pattern_needs_every_diagonal():
    m = sp.csr_matrix(np.array([[2.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]))
    with pytest.raises(ValueError, match="no stored diagonal entry in row 1"):
        SparseCholesky(m)


def test_unknown_ordering(spd):
    with pytest.raises(ValueError, match=r"ordering must be one of \('amd', 'rcm', 'natural'\).*got 'metis'"):
        SparseCholesky(spd, ordering="metis")


def test_ordering_array_shape(spd):
    with pytest.raises(ValueError, match=r"must hold 6 integers; got shape \(5,\)"):
        SparseCholesky(spd, ordering=np.arange(5))


def test_ordering_array_must_be_permutation(spd):
    with pytest.raises(ValueError, match="permutation of 0..5; row 4 is missing"):
        SparseCholesky(spd, ordering=np.array([0, 1, 2, 3, 5, 5]))


def test_factor_size_limit(spd):
    message = r"would have \d+ nonzeros .* more than max_factor_nonzeros=3"
    with pytest.raises(FactorTooLargeError, match=message) as info:
        SparseCholesky(spd, max_factor_nonzeros=3)
    assert isinstance(info.value, ValueError)
    assert info.value.nnz_factor == SparseCholesky(spd).nnz_factor


def test_values_length(spd):
    chol = SparseCholesky(spd)
    with pytest.raises(ValueError, match=rf"pattern's {spd.nnz} stored entries; got shape \(3,\)"):
        chol.factorize(np.ones(3))


def test_values_matrix_with_other_structure(spd):
    chol = SparseCholesky(spd)
    other = (spd + sp.eye(6) * 0).tolil()
    other[5, 0] = 0.01
    other[0, 5] = 0.01
    other = other.tocsr()
    first = min(i for i in range(6) if not np.array_equal(other[i].indices, spd[i].indices))
    with pytest.raises(ValueError, match=f"structure differs from the pattern in row {first}"):
        chol.factorize(other)


def test_values_matrix_format(spd):
    chol = SparseCholesky(spd)
    with pytest.raises(ValueError, match=r"must be a CSR matrix of shape \(6, 6\); got a csc matrix"):
        chol.factorize(spd.tocsc())


def test_values_must_be_finite(spd):
    chol = SparseCholesky(spd)
    values = spd.data.copy()
    values[spd.indptr[2]] = np.nan
    q = spd.indptr[2]
    with pytest.raises(ValueError, match=rf"values\[{q}\] \(row 2, column {spd.indices[q]}\) is nan"):
        chol.factorize(values)


def test_values_must_be_symmetric():
    c = sp.csr_matrix(np.array([[4.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 4.0]]))
    values = c.data.copy()
    values[1] = 1.5  # C[0, 1]
    with pytest.raises(ValueError, match=r"not symmetric: C\[0, 1\] = 1.5 but C\[1, 0\] = 1.0"):
        SparseCholesky(c).factorize(values)


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_not_positive_definite_names_the_row(ordering):
    c = sp.csr_matrix(np.diag([2.0, 3.0, 1.0, -1.0, 5.0]) + np.diag([0.5] * 4, 1) + np.diag([0.5] * 4, -1))
    chol = SparseCholesky(c, ordering=ordering)
    with pytest.raises(NotPositiveDefiniteError, match=r"not positive definite: pivot \d \(row 3 of C\) is -") as info:
        chol.factorize(c.data)
    assert isinstance(info.value, ValueError)  # callers that caught ValueError still do
    assert info.value.row == 3 and info.value.remainder < 0
    assert chol.permutation[info.value.pivot] == 3
    with pytest.raises(RuntimeError, match="no valid factorisation"):
        chol.solve(np.ones(5))


def test_solve_before_factorize(spd):
    with pytest.raises(RuntimeError, match=r"call factorize\(values\) first"):
        SparseCholesky(spd).logdet()


def test_right_hand_side_rows(spd):
    chol = SparseCholesky(spd)
    chol.factorize(spd.data)
    with pytest.raises(ValueError, match=r"b must have 6 rows .* got shape \(5,\)"):
        chol.solve(np.ones(5))
    with pytest.raises(ValueError, match=r"z must have 6 rows"):
        chol.solve_lt(np.ones((7, 2)))


def test_draw_arguments(spd):
    chol = SparseCholesky(spd)
    chol.factorize(spd.data)
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"b must be a vector of length 6 for draw\(\); got shape \(6, 2\)"):
        chol.draw(rng, np.ones((6, 2)))
    with pytest.raises(ValueError, match="scale must be positive and finite; got -1.0"):
        chol.draw(rng, np.ones(6), scale=-1.0)


def test_copy_shares_the_analysis_but_not_the_numeric_factor():
    rng = np.random.default_rng(4)
    dense = rng.normal(size=(30, 30))
    dense = dense @ dense.T + 30 * np.eye(30)
    dense[np.abs(dense) < 3] = 0.0
    dense = (dense + dense.T) / 2 + 30 * np.eye(30)
    pattern = sp.csr_matrix(dense)
    first = SparseCholesky(pattern)
    second = first.copy()
    assert second.permutation is first.permutation  # symbolic analysis shared
    first.factorize(pattern.data)
    second.factorize(pattern.data * 2.0)  # must not overwrite the first factor
    b = rng.normal(size=30)
    np.testing.assert_allclose(first.solve(b), np.linalg.solve(dense, b), rtol=1e-10)
    np.testing.assert_allclose(second.solve(b), np.linalg.solve(2 * dense, b), rtol=1e-10)


def test_factorize_without_the_symmetry_pass_gives_the_same_factor(spd):
    checked, unchecked = SparseCholesky(spd), SparseCholesky(spd)
    checked.factorize(spd.data)
    unchecked.factorize(spd.data, check=False)
    np.testing.assert_array_equal(unchecked.lower_factor().toarray(), checked.lower_factor().toarray())
    one = np.arange(spd.shape[0], dtype=float)
    np.testing.assert_array_equal(unchecked.solve(one), checked.solve(one))
    # the one-column kernels repeat the many-column ones' arithmetic exactly
    np.testing.assert_array_equal(checked.solve(np.column_stack([one, one]))[:, 0], checked.solve(one))
    np.testing.assert_array_equal(checked.solve_l(np.column_stack([one, one]))[:, 0], checked.solve_l(one))
    np.testing.assert_array_equal(checked.solve_lt(np.column_stack([one, one]))[:, 0], checked.solve_lt(one))
