"""The fused single-site animal-model kernels (issue 10, item 6) against the plain ones they replace."""

import numpy as np
import scipy.sparse as sp

import bayesgen as bg
from bayesgen import Pedigree
from bayesgen.kernels.random_effects import (
    apply_rescale,
    precision_split,
    quadratic_form,
    rescale_sums,
    sweep_random_effects,
    sweep_random_effects_quadratic,
)
from bayesgen.sampler import Gibbs


def _csr(matrix):
    m = sp.csr_matrix(matrix)
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int64), m.data.astype(float)


def _pedigree_case(seed=1):
    rng = np.random.default_rng(seed)
    ped = Pedigree(list(range(1, 9)), [0, 0, 0, 1, 1, 3, 4, 4], [0, 0, 0, 2, 2, 2, 5, 6])
    q, n = len(ped), 20
    level = rng.integers(0, q, n)
    order = np.argsort(level, kind="stable").astype(np.int64)
    rec_ptr = np.searchsorted(level[order], np.arange(q + 1)).astype(np.int64)
    w = (rng.random(n) > 0.2).astype(float)
    zz = np.bincount(level, weights=w, minlength=q).astype(float)
    return ped.ainv(), level, order, rec_ptr, w, zz, rng.standard_normal(n), rng.standard_normal(q)


def test_fused_sweep_draws_bit_for_bit_and_returns_the_quadratic_form():
    ainv, level, order, rec_ptr, w, zz, resid0, u0 = _pedigree_case()
    prec = _csr(ainv)
    split = precision_split(prec[0], prec[1])
    u1, r1, u2, r2 = u0.copy(), resid0.copy(), u0.copy(), resid0.copy()
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    for _ in range(3):
        sweep_random_effects(g1, u1, r1, w, rec_ptr, order, np.ones(w.size), zz, *prec, 1.3, 0.7)
        ss = sweep_random_effects_quadratic(g2, u2, r2, w, rec_ptr, order, np.ones(w.size), zz, *prec, split, 1.3, 0.7)
        assert np.array_equal(u1, u2) and np.array_equal(r1, r2)
        np.testing.assert_allclose(ss, quadratic_form(u2, *prec), rtol=1e-12)
        np.testing.assert_allclose(ss, u2 @ ainv.toarray() @ u2, rtol=1e-12)


def test_precision_split_finds_the_diagonal_and_refuses_unsorted_or_missing_diagonals():
    ptr = np.array([0, 2, 5, 7], dtype=np.int64)
    idx = np.array([0, 2, 0, 1, 2, 1, 2], dtype=np.int64)
    assert precision_split(ptr, idx).tolist() == [0, 3, 6]
    assert precision_split(ptr, np.array([2, 0, 0, 1, 2, 1, 2], dtype=np.int64)) is None  # row 0 unsorted
    assert precision_split(ptr, np.array([1, 2, 0, 1, 2, 1, 2], dtype=np.int64)) is None  # row 0 has no diagonal
    assert precision_split(ptr, np.array([0, 0, 0, 1, 2, 1, 2], dtype=np.int64)) is None  # row 0: two


def test_rescale_kernels_match_numpy():
    rng = np.random.default_rng(3)
    level = rng.integers(0, 6, 30)
    u, resid = rng.standard_normal(6), rng.standard_normal(30)
    w = (rng.random(30) > 0.3).astype(float)
    fit = u[level]
    a, b = rescale_sums(u, level, w, resid)
    np.testing.assert_allclose([a, b], [np.dot(w * fit, fit), np.dot(w * fit, resid + fit)], rtol=1e-13)
    expected_resid, expected_u = resid - (1.7 - 1.0) * fit, u * 1.7
    apply_rescale(u, level, resid, 1.7)
    assert np.array_equal(resid, expected_resid) and np.array_equal(u, expected_u)


class _PlainAnimal(bg.Animal):
    """The unfused path: Zu formed by ``fitted``, u'A^-1u by a second pass (the code before issue 10.6)."""

    def fitted(self, state):
        return super().fitted(state)

    def _precision_split(self):
        return None


def _chain(term, data, ped, iterations=60):
    model = bg.Model(data, "y", [bg.Fixed(["sex"]), term], sampler="single-site")
    gibbs = Gibbs(model)
    rng = np.random.default_rng(11)
    chain = gibbs.init(rng)
    draws = []
    for _ in range(iterations):
        gibbs.step(rng, chain)
        draws.append(
            [chain.states[1]["sigma2"][0, 0], chain.states[-1]["sigma2_e"][0, 0], *chain.states[1]["u"][:5, 0]]
        )
    return np.array(draws)


def test_fused_animal_chain_matches_the_plain_path_to_rounding():
    sim = bg.simulate(n_founders=40, n_generations=3, n_offspring=40, n_markers=0, h2=0.4, seed=4)
    ped = sim.pedigree_object()
    data = sim.phenotypes.iloc[-100:]
    fused = _chain(bg.Animal("id", ped), data, ped)
    plain = _chain(_PlainAnimal("id", ped), data, ped)
    np.testing.assert_allclose(fused, plain, rtol=1e-9, atol=1e-12)


def test_summary_store_skips_the_pointwise_log_likelihood_and_keeps_the_draws():
    from bayesgen.sampler.storage import ChainStorage

    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=20, n_markers=0, h2=0.4, seed=5)
    model = bg.AnimalModel(sim.phenotypes, "y", "id", sim.pedigree_object(), sampler="single-site")
    gibbs = Gibbs(model)
    chain = gibbs.init(np.random.default_rng(2))
    variables = model.variables()
    summary, full = ChainStorage(variables, 5, "summary"), ChainStorage(variables, 5, "full")
    assert ("log_likelihood", "y") not in gibbs.record(chain, wanted=summary.wanted)
    assert ("log_likelihood", "y") in gibbs.record(chain, wanted=full.wanted)
    runs = [
        model.sample(draws=20, burn=5, chains=1, seed=3, progress=False, store=store, check_convergence=False)
        for store in ("summary", "full")
    ]
    assert "log_likelihood" not in runs[0].groups() and "log_likelihood" in runs[1].groups()
    for name in ("sigma2_a", "sigma2_e", "h2"):
        assert np.array_equal(runs[0].posterior[name].values, runs[1].posterior[name].values)
