"""grm(): VanRaden (2008) method 1 from int8 genotypes, against the dense formula."""

import tracemalloc

import numpy as np
import pytest

import bayesgen.data.genomic_relationship as grm_module
from bayesgen.data import Genotypes, grm


def dense_vanraden(matrix):
    """G = W W' / (2 sum p(1 - p)), W = X - 2p (p over observed genotypes), missing -> 0."""
    observed = ~np.isnan(matrix)
    p = np.nansum(matrix, axis=0) / (2.0 * observed.sum(axis=0))
    w = np.where(observed, matrix - 2.0 * p, 0.0)
    return w @ w.T / (2.0 * np.sum(p * (1.0 - p)))


def random_matrix(n, p, seed, missing=0.05):
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.05, 0.95, size=p)
    matrix = rng.binomial(2, freq, size=(n, p)).astype(float)
    matrix[rng.random((n, p)) < missing] = np.nan
    matrix[:, 0] = [0, 1] * (n // 2) + [2] * (n % 2)  # at least one polymorphic, fully observed marker
    return matrix


@pytest.fixture
def data():
    matrix = random_matrix(37, 211, seed=5)
    ids = [f"i{k}" for k in range(37)]
    return matrix, ids, Genotypes(ids, matrix, drop_monomorphic=False)


def test_grm_equals_the_dense_formula_with_missing_genotypes(data, monkeypatch):
    matrix, ids, geno = data
    assert np.isnan(matrix).any()
    expected = dense_vanraden(matrix)
    for block_elements in (2**21, 37 * 50, 37 * 7 + 3, 1):  # one block; several with a remainder; per marker
        monkeypatch.setattr(grm_module, "BLOCK_ELEMENTS", block_elements)
        G = grm(geno)
        assert list(G.index) == ids and list(G.columns) == ids and G.index.name == "individual"
        np.testing.assert_allclose(G.to_numpy(), expected, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(G.to_numpy(), G.to_numpy().T)  # exactly symmetric


def test_grm_of_ids_uses_the_frequencies_of_all_individuals(data):
    matrix, ids, geno = data
    chosen = ["i30", "i2", "i11"]
    rows = [30, 2, 11]
    G = grm(geno, ids=chosen)
    assert list(G.index) == chosen
    np.testing.assert_allclose(G.to_numpy(), dense_vanraden(matrix)[np.ix_(rows, rows)], rtol=0, atol=1e-12)
    # Frequencies of the subset only: select first.
    subset = grm(geno.select(ids=chosen))
    np.testing.assert_allclose(subset.to_numpy(), dense_vanraden(matrix[rows]), rtol=0, atol=1e-12)


def test_grm_labels_are_integers_when_ids_are():
    matrix = random_matrix(6, 30, seed=1, missing=0.0)
    G = grm(Genotypes([5, 3, 9, 1, 2, 8], matrix, drop_monomorphic=False))
    assert G.index.dtype == np.int64 and G.loc[9, 3] == G.iloc[2, 1]


def test_grm_diagonal_is_one_plus_inbreeding_on_average_under_hardy_weinberg():
    # Sanity of scale: unrelated individuals in Hardy-Weinberg equilibrium give mean diagonal ~1.
    rng = np.random.default_rng(8)
    freq = rng.uniform(0.1, 0.9, size=4000)
    matrix = rng.binomial(2, freq, size=(60, 4000)).astype(float)
    G = grm(Genotypes(range(60), matrix, drop_monomorphic=False)).to_numpy()
    assert abs(np.mean(np.diag(G)) - 1.0) < 0.05
    assert abs(np.mean(G[np.triu_indices(60, 1)])) < 0.05


def test_grm_builds_no_float_copy_of_the_genotypes(monkeypatch):
    monkeypatch.setattr(grm_module, "BLOCK_ELEMENTS", 2**16)
    n, p = 200, 10000
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 3, size=(p, n), dtype=np.int8)
    geno = Genotypes.from_codes(range(n), codes, [f"m{j}" for j in range(p)])
    grm(Genotypes.from_codes(range(4), codes[:10, :4].copy(), [f"m{j}" for j in range(10)]))  # compile
    tracemalloc.start()
    try:
        G = grm(geno)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    float_matrix = 8 * n * p  # what W would take: 16 MB
    expected = 8 * n * n + 8 * grm_module.BLOCK_ELEMENTS + 200 * p  # G, one block, O(p) lookup table
    assert peak < expected < 0.25 * float_matrix, f"peak {peak / 1e6:.1f} MB"
    assert G.shape == (n, n)


def test_error_grm_needs_genotypes():
    with pytest.raises(TypeError, match="genotypes must be a bayesgen.Genotypes, got ndarray"):
        grm(np.zeros((3, 3)))


def test_error_grm_unknown_ids(data):
    _, _, geno = data
    with pytest.raises(ValueError, match=r"Ids without genotypes: 'zz'"):
        grm(geno, ids=["i1", "zz"])


def test_error_grm_duplicate_and_empty_ids(data):
    _, _, geno = data
    with pytest.raises(ValueError, match=r"Duplicate ids in grm\(ids=...\): 'i1'"):
        grm(geno, ids=["i1", "i1"])
    with pytest.raises(ValueError, match=r"grm\(ids=...\) needs at least one id"):
        grm(geno, ids=[])


def test_error_grm_all_monomorphic():
    geno = Genotypes(["a", "b"], np.array([[2.0, 0.0], [2.0, 0.0]]), drop_monomorphic=False)
    with pytest.raises(ValueError, match=r"Every marker is monomorphic \(2 sum p\(1 - p\) = 0\)"):
        grm(geno)


def test_error_grm_no_marker_varies():
    """Issue 16 item 3: every genotype heterozygous (p = 0.5, every centred code 0), and one
    individual through select (its own frequencies): G would be all zero."""
    geno = Genotypes(["a", "b", "c"], np.ones((3, 4)), drop_monomorphic=False)
    with pytest.raises(ValueError, match=r"No marker varies among the 3 individuals \('a', 'b', 'c'\): every "
                                         r"genotype equals its marker's mean 2p"):  # fmt: skip
        grm(geno)
    one = Genotypes(["a", "b"], np.array([[0.0], [1.0]])).select(ids=["b"])
    with pytest.raises(ValueError, match=r"No marker varies among the 1 individual \('b'\)"):
        grm(one)
    # The subset with the frequencies of the whole set is not all zero: no error.
    whole = Genotypes(["a", "b"], np.array([[0.0], [1.0]]))
    assert grm(whole, ids=["b"]).to_numpy().item() > 0
