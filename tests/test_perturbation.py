"""The perturbation-optimisation location block (``sampler="pcg"``, ``bayesgen.sampler.perturbation``).

Quick tests:
* exactness: the same perturbation ξ solved by PCG and by the sparse Cholesky factor give the
  same draw, to far below a posterior standard deviation (10⁻⁴ of it at the default tolerance),
  on an animal model of one trait and on two traits with missing ones;
* ξ ~ N(0, C): the empirical covariance of ξ over many draws matches C (z-scores from the
  Wishart error, Bonferroni);
* the pedigree's square root F of A⁻¹ (FF' = A⁻¹, with inbreeding and selfing) and the default
  square roots of the location protocol;
* bad input: tolerance and iteration bounds, a term without a square root, an unconverged solve;
* same seed, same draws.

Statistical (``-m statistical``): a Geweke joint-distribution test of an animal model with the
PCG route forced, and a planted error (ξ drawn with P = I for the pedigree term) that must fail.
The dense mean and covariance of the draws with missing traits are checked in
``tests/test_core_routes.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from geweke import geweke_test
from scipy.stats import norm

import bayesgen as bg
from bayesgen.sampler import Gibbs
from bayesgen.sampler.perturbation import PerturbedLocations


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=20, n_generations=3, n_offspring=40, n_markers=10, seed=5)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(6)
    data["herd"] = [f"h{k}" for k in rng.integers(0, 6, len(data))]
    data["y2"] = data["y"] + rng.standard_normal(len(data))
    data.loc[data.index[:10], "y2"] = np.nan
    data.loc[data.index[10:15], "y"] = np.nan
    return data, sim.pedigree_object()


def _block(model) -> PerturbedLocations:
    (block,) = [b for b in model.blocks if isinstance(b, PerturbedLocations)]
    return block


def _equations(model, seed=1):
    """(block, values of C, r + xi, the current effects) at a chain's start."""
    gibbs = Gibbs(model)
    rng = np.random.default_rng(seed)
    chain = gibbs.init(rng)
    block = _block(model)
    mme = block.mme
    partial = block.partial_response(chain.states, chain.ctx)
    precisions = mme.pattern_precisions(chain.ctx.residual_covariance)
    inverses = block.covariance_inverses(chain.states)
    values = mme.values(precisions, inverses)
    rhs = mme.rhs(mme.cross_products(partial), precisions)
    xi = block.perturbation(rng, precisions, inverses)
    return block, values, rhs + xi, mme.effects(chain.states, block.indices).ravel(), precisions, inverses


def _models(population):
    from bayesgen.terms.random_regression import RandomRegression

    data, pedigree = population
    one = bg.Model(data, "y", [bg.Fixed(), bg.Random("herd"), bg.Animal("id", pedigree)], sampler="pcg")
    two = bg.Model(data, ["y", "y2"], [bg.Fixed(), bg.Animal("id", pedigree)], sampler="pcg")
    with_dams = data.assign(dam=[d if isinstance(d, str) else "" for d in _dams(data, pedigree)])
    with_dams = with_dams[with_dams["dam"] != ""]
    maternal = bg.Model(with_dams, "y", [bg.Fixed(), bg.Animal("id", pedigree, maternal="dam")], sampler="pcg")
    regression = bg.Model(
        data.assign(x=np.linspace(-1.0, 1.0, len(data))),
        "y",
        [bg.Fixed(), RandomRegression("id", ["x"], pedigree=pedigree)],
        sampler="pcg",
    )
    return {"one trait": one, "two traits, missing": two, "direct-maternal": maternal, "random regression": regression}


def _dams(data, pedigree):
    frame = pedigree.to_dataframe().set_index("id")
    return [frame.loc[i, "dam"] if i in frame.index else None for i in data["id"]]


@pytest.mark.parametrize("which", ["one trait", "two traits, missing", "direct-maternal", "random regression"])
def test_same_perturbation_same_draw_as_the_factor(population, which):
    from bayesgen.kernels.cholesky import SparseCholesky

    model = _models(population)[which]
    block, values, rhs, start, _, _ = _equations(model)
    factor = SparseCholesky(block.mme.pattern)
    factor.factorize(values)
    exact = factor.solve(rhs)
    c = sp.csr_matrix((values, block.mme.pattern.indices, block.mme.pattern.indptr), shape=block.mme.pattern.shape)
    posterior_sd = np.sqrt(np.diag(np.linalg.inv(c.toarray())))
    draw, iterations, relative = block.solve(values, rhs, start)
    assert relative <= block.tol and iterations > 0
    error = np.abs(draw - exact) / posterior_sd
    print(f"{which}: {iterations} iterations, largest |PCG - Cholesky| / posterior sd {error.max():.2e}")
    assert error.max() < 1e-4
    # from the exact solution as warm start: nothing to do
    again, iterations, _ = block.solve(values, rhs, exact)
    assert iterations <= 1 and np.abs(again - exact).max() / posterior_sd.min() < 1e-4


def test_perturbation_has_covariance_c(population):
    """xi ~ N(0, C): each entry of the empirical covariance of 20,000 draws within the Bonferroni
    bound of its Monte Carlo error, (C_ii C_jj + C_ij^2)/n, on a small two-trait model."""
    data, pedigree = population
    small = data.iloc[:40].copy()
    small.loc[small.index[:6], "y2"] = np.nan
    sub = bg.Pedigree(list(small["id"]), [None] * len(small), [None] * len(small))
    model = bg.Model(
        small,
        ["y", "y2"],
        [bg.Fixed(), bg.Random("herd"), bg.Animal("id", sub)],
        sampler="pcg",
    )
    block, values, _, _, precisions, inverses = _equations(model)
    c = sp.csr_matrix((values, block.mme.pattern.indices, block.mme.pattern.indptr), shape=block.mme.pattern.shape)
    c = c.toarray()
    rng = np.random.default_rng(9)
    n = 20_000
    xi = np.array([block.perturbation(rng, precisions, inverses) for _ in range(n)])
    empirical = xi.T @ xi / n
    se = np.sqrt((np.outer(np.diag(c), np.diag(c)) + c**2) / n)
    z = (empirical - c) / se
    upper = np.triu_indices_from(c)
    bound = norm.ppf(1 - 0.01 / (2 * upper[0].size))
    assert np.abs(z[upper]).max() < bound, np.abs(z[upper]).max()
    assert np.abs(xi.mean(axis=0) / np.sqrt(np.diag(c) / n)).max() < bound


def test_planted_perturbation_without_pedigree_fails_the_covariance_check(population):
    """The same check rejects xi drawn with P = I for the pedigree term (the planted error of the
    Geweke test below): the test can fail."""
    data, pedigree = population
    model = bg.Model(data.iloc[:60], "y", [bg.Fixed(), bg.Animal("id", pedigree)], sampler="pcg")
    block, values, _, _, precisions, inverses = _equations(model)
    k = [t.name for t in block.terms].index("animal")
    block.prior_factors[k] = sp.identity(block.prior_factors[k].shape[0], format="csr")
    c = sp.csr_matrix((values, block.mme.pattern.indices, block.mme.pattern.indptr), shape=block.mme.pattern.shape)
    c = c.toarray()
    rng = np.random.default_rng(9)
    n = 5_000
    xi = np.array([block.perturbation(rng, precisions, inverses) for _ in range(n)])
    se = np.sqrt((np.outer(np.diag(c), np.diag(c)) + c**2) / n)
    assert np.abs((xi.T @ xi / n - c) / se).max() > 20


def test_pedigree_square_root_of_ainv_with_inbreeding_and_selfing():
    ids = ["a", "b", "c", "d", "e", "f"]
    sires = [None, None, "a", "a", "c", "e"]
    dams = [None, None, "b", "b", "d", "e"]  # e: full-sib mating (inbred); f: selfed
    pedigree = bg.Pedigree(ids, sires, dams)
    factor = pedigree.ainv_factor()
    assert factor.nnz <= 3 * len(ids)
    np.testing.assert_allclose((factor @ factor.T).toarray(), pedigree.ainv().toarray(), atol=1e-14)
    relationship = pedigree.relationship().values
    np.testing.assert_allclose((factor @ factor.T).toarray() @ relationship, np.eye(len(ids)), atol=1e-12)


def test_default_square_roots_of_the_location_protocol(population):
    data, pedigree = population
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(), bg.Fixed("herd", prior=0.5, name="herd_fixed"), bg.Random("herd"), bg.Animal("id", pedigree)],
    )
    flat, normal, iid, animal = model.terms[:4]
    assert flat.level_precision_factor() is None
    for term in (normal, iid, animal):
        f = sp.csr_matrix(term.level_precision_factor())
        np.testing.assert_allclose((f @ f.T).toarray(), sp.csr_matrix(term.level_precision()).toarray(), atol=1e-13)
    # the default's dense Cholesky route, on a pedigree term's precision
    from bayesgen.terms.location import LocationTerm

    dense = sp.csr_matrix(LocationTerm.level_precision_factor(animal))
    np.testing.assert_allclose((dense @ dense.T).toarray(), animal.level_precision().toarray(), atol=1e-12)


def test_bad_input_is_refused_before_sampling(population, monkeypatch):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree)], sampler="pcg")
    for tol in (0.0, 1.0, -1e-9, "1e-8", True):
        with pytest.raises(ValueError, match="tol must be"):
            PerturbedLocations(model, [0, 1], tol=tol)
    for max_iter in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="max_iter must be"):
            PerturbedLocations(model, [0, 1], max_iter=max_iter)
    monkeypatch.setattr(type(model.terms[1]), "level_precision_factor", lambda self: None)
    with pytest.raises(ValueError, match="square root of the level precision of term 'animal'"):
        bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree)], sampler="pcg")
    monkeypatch.setattr(type(model.terms[1]), "level_precision_factor", lambda self: sp.identity(3, format="csr"))
    with pytest.raises(ValueError, match="level_precision_factor\\(\\) has 3 rows"):
        bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree)], sampler="pcg")
    with pytest.raises(ValueError, match="sampler must be one of"):
        bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree)], sampler="PCG")


def test_an_unconverged_solve_stops_the_chain_without_a_draw(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree)], sampler="pcg")
    position = next(k for k, b in enumerate(model.blocks) if isinstance(b, PerturbedLocations))
    model.blocks[position] = PerturbedLocations(model, model.blocks[position].indices, tol=1e-12, max_iter=2)
    gibbs = Gibbs(model)
    rng = np.random.default_rng(2)
    chain = gibbs.init(rng)
    before = chain.states[1]["u"].copy()
    with pytest.raises(RuntimeError, match="did not reach a relative residual of 1e-12 in 2 iterations"):
        gibbs.step(rng, chain)
    np.testing.assert_array_equal(chain.states[1]["u"], before)


def test_same_seed_same_draws_and_iterations_recorded(population):
    data, pedigree = population
    model = bg.Model(data, "y", [bg.Fixed(), bg.Animal("id", pedigree)], sampler="pcg")
    first, second = (
        model.sample(draws=30, burn=10, chains=2, seed=4, progress=False, check_convergence=False) for _ in range(2)
    )
    np.testing.assert_array_equal(first.posterior["u"].values, second.posterior["u"].values)
    np.testing.assert_array_equal(first.posterior["sigma2_a"].values, second.posterior["sigma2_a"].values)
    iterations = first.sample_stats["pcg_iterations"].values
    assert (iterations >= 1).all() and (iterations < 1000).all()


# ---------------------------------------------------------------------- Geweke (statistical)
def _geweke_model(population):
    data, pedigree = population
    small = data.iloc[:50]
    prior = bg.ScaledInvChi2(df=12.0, scale=0.5)
    return bg.Model(
        small,
        "y",
        [bg.Fixed(prior=0.25), bg.Animal("id", pedigree, prior=prior)],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.5),
        sampler="pcg",
    )


@pytest.mark.statistical
def test_geweke_animal_model_pcg_route(population):
    result = geweke_test(_geweke_model(population), n_marginal=6000, n_successive=20000, seed=21)
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_fails_with_a_planted_error_in_the_perturbation(population):
    """xi's prior part drawn with P = I instead of A^-1 (the draws' covariance is then wrong)."""
    model = _geweke_model(population)
    block = _block(model)
    k = [t.name for t in block.terms].index("animal")
    block.prior_factors[k] = sp.identity(block.prior_factors[k].shape[0], format="csr")
    result = geweke_test(model, n_marginal=6000, n_successive=20000, seed=21)
    print(result)
    assert not result.passed


def test_every_square_root_the_block_uses_squares_to_the_level_precision(population):
    """F F' = P for every term with a prior in each model of the exactness test (the same-xi test
    above cannot see a wrong F: both routes solve with the same xi)."""
    for which, model in _models(population).items():
        block = _block(model)
        assert block.prior_factors, which
        for k, factor in block.prior_factors.items():
            precision = sp.csr_matrix(block.terms[k].level_precision()).toarray()
            np.testing.assert_allclose((factor @ factor.T).toarray(), precision, atol=1e-12, err_msg=which)
