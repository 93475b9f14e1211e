"""The exact blocked marker sweep (``bayesgen.kernels.fast_blocks``, ``Markers(block_size=)``).

Oracle: with the same random numbers the blocked and the plain sweep draw the same effects
(1e-10), over weights, missing genotypes and block sizes; a model with blocks gives the plain
model's chain. Statistical: the Geweke harness with several passes per block, and a planted
error (within-block cross-products dropped, as an approximate block sampler would) must fail.
"""

import numpy as np
import pytest
from packed_codes import STORED, as_stored

import bayesgen as bg
from bayesgen.kernels import sweep_markers_gaussian, weighted_cross_products
from bayesgen.kernels.fast_blocks import block_cross_products, missing_genotype_lists, sweep_markers_blocked


def genotype_case(rng, n, p, missing, weights):
    codes = rng.integers(0, 4 if missing else 3, (p, n)).astype(np.int8)  # 3 = missing
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - rng.uniform(0.2, 1.8, p)[:, None]
    w = np.ones(n) if weights == "ones" else (rng.random(n) > 0.3).astype(float)
    if weights == "general":
        w *= rng.uniform(0.5, 2.0, n)
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T  # records x markers, dense
    return codes, lookup, w, x


@pytest.mark.parametrize("block_size", [1, 4, 5, 13, 20])
@pytest.mark.parametrize("weights", ["ones", "binary", "general"])
@pytest.mark.parametrize("missing", [False, True], ids=["complete", "missing"])
@STORED
def test_blocked_sweep_draws_the_plain_sweeps_effects(block_size, weights, missing, stored):
    rng = np.random.default_rng(3)
    n, p = 37, 13
    codes, lookup, w, x = genotype_case(rng, n, p, missing, weights)
    codes = as_stored(codes, stored)  # what the kernels read
    _, xx = weighted_cross_products(codes, lookup, w)
    gram = block_cross_products(codes, lookup, w, block_size)
    ptr, records = missing_genotype_lists(codes, n)
    alpha0, var_alpha, resid0 = rng.standard_normal(p), rng.uniform(0.05, 1.0, p), 2 * rng.standard_normal(n)
    a1, r1, g1 = alpha0.copy(), resid0.copy(), x @ alpha0
    a2, r2, g2 = alpha0.copy(), resid0.copy(), x @ alpha0
    rng1, rng2 = np.random.default_rng(5), np.random.default_rng(5)
    for _ in range(3):
        sweep_markers_gaussian(rng1, a1, var_alpha, codes, lookup, xx, r1, w, g1, 0.8)
        sweep_markers_blocked(rng2, a2, var_alpha, codes, lookup, xx, gram, ptr, records, r2, w, g2, 0.8, 1)
    np.testing.assert_allclose(a2, a1, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r2, r1, rtol=0, atol=1e-10)
    np.testing.assert_allclose(g2, g1, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r2, resid0 - x @ (a2 - alpha0), rtol=0, atol=1e-10)  # e = y - X alpha still
    np.testing.assert_allclose(g2, x @ a2, rtol=0, atol=1e-10)


@STORED
def test_block_cross_products_and_missing_lists_are_exact(stored):
    rng = np.random.default_rng(7)
    codes, lookup, w, x = genotype_case(rng, 29, 11, True, "general")
    kc = as_stored(codes, stored)  # what the kernels read
    gram = block_cross_products(kc, lookup, w, 4)
    full = x.T @ (w[:, None] * x)
    for j in range(11):
        start = j - j % 4
        width = min(4, 11 - start)
        np.testing.assert_allclose(gram[j, :width], full[j, start : start + width], rtol=1e-12, atol=1e-12)
        assert np.all(gram[j, width:] == 0)
    ptr, records = missing_genotype_lists(kc, 29)
    for j in range(11):
        np.testing.assert_array_equal(records[ptr[j] : ptr[j + 1]], np.nonzero(codes[j] == 3)[0])


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    data.loc[data.index[:2], "y"] = np.nan
    return data, sim.genotypes


def marker_model(population, prior, **markers):
    data, genotypes = population
    return bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior, **markers)],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.5),
        sampler="single-site",
    )


@pytest.mark.parametrize("prior", [bg.BayesAPrior(df=5.0), bg.RidgePrior()], ids=["BayesA", "BRR"])
def test_model_with_blocks_gives_the_plain_chain(population, prior):
    plain = marker_model(population, prior).sample(draws=30, burn=5, chains=1, seed=9, progress=False)
    blocked = marker_model(population, prior, block_size=6).sample(draws=30, burn=5, chains=1, seed=9, progress=False)
    for name in ("alpha", "var_g", "sigma2_e", "h2"):
        np.testing.assert_allclose(blocked.posterior[name].values, plain.posterior[name].values, rtol=1e-8)


@pytest.mark.parametrize("value", [0, -3, 2.5, "8", True])
def test_block_size_must_be_a_positive_integer(population, value):
    with pytest.raises(ValueError, match=f"Markers block_size must be a positive integer or None, got {value!r}"):
        bg.Markers("id", population[1], block_size=value)


def test_block_passes_must_be_a_positive_integer(population):
    with pytest.raises(ValueError, match="Markers block_passes must be a positive integer, got 0"):
        bg.Markers("id", population[1], block_size=4, block_passes=0)


def test_blocks_need_a_gaussian_sweep_prior(population):
    with pytest.raises(ValueError, match="BayesCPrior has its own sweep"):
        bg.Markers("id", population[1], prior=bg.BayesCPrior(pi=0.5), block_size=4)


# ---------------------------------------------------------------------- joint-distribution tests
def _geweke(model, seed):
    from geweke import geweke_test

    return geweke_test(model, n_marginal=6000, n_successive=20000, seed=seed)


@pytest.mark.statistical
def test_geweke_blocked_bayes_a_with_passes(population):
    model = marker_model(population, bg.BayesAPrior(df=10.0, scale=bg.Gamma(4.0, 80.0)), block_size=6, block_passes=3)
    result = _geweke(model, seed=13)
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_catches_blocks_without_their_cross_products(population):
    model = marker_model(population, bg.BayesAPrior(df=10.0, scale=0.05), block_size=20, block_passes=3)
    term = model.terms[1]
    term._gram = np.diag(np.diag(term._gram[:, :20]))  # planted: markers of a block treated as orthogonal
    result = _geweke(model, seed=13)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.5 * result.threshold, str(result)
