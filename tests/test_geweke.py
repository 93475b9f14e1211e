"""Geweke (2004) joint-distribution tests of every sampler (``pytest -m statistical``).

Each case builds a small model with proper, informative priors (so the successive-conditional
chain mixes well), runs the marginal-conditional and successive-conditional simulators of
``tests/geweke.py`` through the public step interface, and requires every |z| to stay under
the Bonferroni threshold. A last test plants a wrong degree of freedom in one full
conditional and requires the harness to fail, by a wide margin, on the right parameter.
"""

import numpy as np
import pandas as pd
import pytest
from geweke import geweke_test

import bayesgen as bg
from bayesgen.priors import InverseWishart

pytestmark = pytest.mark.statistical


def _joint_sampler_missing():
    """Why the joint/collapsed samplers cannot be built here (their sparse Cholesky kernel), or None."""
    tiny = pd.DataFrame({"y": [0.1, -0.4, 0.7, 1.2], "g": ["a", "a", "b", "b"]})
    try:
        bg.Model(tiny, "y", [bg.Fixed(), bg.Random("g", prior=1.0)], sigma2_e=1.0, sampler="joint")
    except ImportError as err:
        return f"joint/collapsed samplers need their sparse Cholesky kernel: {err}"
    return None


SPARSE_CHOLESKY = _joint_sampler_missing()

#: Draws of the marginal-conditional simulator and iterations of the successive-conditional one.
N_MARGINAL = 6000
N_SUCCESSIVE = 20000


def variance_prior():
    # df = 12 > 8 so that sigma^8 has a finite mean: the squares' z-tests need a finite variance.
    return bg.ScaledInvChi2(df=12.0, scale=0.5)


@pytest.fixture(scope="module")
def population():
    """~40 phenotyped animals of a 50-animal pedigree, two crossed factors, 2 missing phenotypes."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(12)
    data["herd"] = [f"h{k}" for k in rng.integers(0, 5, len(data))]
    data["pen"] = [f"p{k}" for k in rng.integers(0, 4, len(data))]
    data.loc[data.index[:2], "y"] = np.nan
    data["y1"] = data["y"]
    data["y2"] = data["y"] + rng.standard_normal(len(data))
    data.loc[data.index[:2], "y2"] = np.nan
    return data, sim.pedigree_object(), sim.genotypes


def check(result):
    print(result)
    assert result.passed, str(result)
    return result


@pytest.mark.parametrize(
    "sampler",
    [
        "single-site",
        pytest.param("joint", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
        pytest.param("collapsed", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
    ],
)
def test_animal_model(population, sampler):
    data, pedigree, _ = population
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Animal("id", pedigree, prior=variance_prior())],
        sigma2_e=variance_prior(),
        sampler=sampler,
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=1))


@pytest.mark.parametrize(
    "sampler",
    [
        "single-site",
        pytest.param("joint", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
        pytest.param("collapsed", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
    ],
)
def test_crossed_iid_terms(population, sampler):
    data, _, _ = population
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Random("herd", prior=variance_prior()), bg.Random("pen", prior=variance_prior())],
        sigma2_e=variance_prior(),
        sampler=sampler,
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=2))


@pytest.mark.parametrize("scale", [0.05, bg.Gamma(20.0, 400.0)], ids=["fixed-scale", "sampled-scale"])
def test_bayes_a(population, scale):
    data, _, genotypes = population
    # df = 10 > 8: finite fourth moments of the marker effects (their squares are test functions).
    prior = bg.BayesAPrior(df=10.0, scale=scale)
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior)],
        sigma2_e=variance_prior(),
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=3))


def test_brr(population):
    data, _, genotypes = population
    prior = bg.RidgePrior(prior=bg.ScaledInvChi2(df=12.0, scale=0.05))
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior)],
        sigma2_e=variance_prior(),
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=7))


def bayes_c_model(population, pi):
    data, _, genotypes = population
    prior = bg.BayesCPrior(pi=pi, prior=bg.ScaledInvChi2(df=12.0, scale=0.1))
    return bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior)],
        sigma2_e=variance_prior(),
        sampler="single-site",
    )


@pytest.mark.parametrize("pi", [0.3, bg.Beta(3.0, 5.0)], ids=["BayesC-fixed-pi", "BayesCpi"])
def test_bayes_c(population, pi):
    check(geweke_test(bayes_c_model(population, pi), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=8))


@pytest.mark.parametrize(
    "pi, scale",
    [(0.4, 0.05), (bg.Beta(3.0, 5.0), bg.Gamma(20.0, 400.0))],
    ids=["BayesB-fixed", "BayesB-sampled-pi-and-scale"],
)
def test_bayes_b(population, pi, scale):
    data, _, genotypes = population
    # df = 10 > 8: finite fourth moments of the marker effects (their squares are test functions).
    prior = bg.BayesBPrior(pi=pi, df=10.0, scale=scale)
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior)],
        sigma2_e=variance_prior(),
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=9))


@pytest.mark.parametrize("lambda2", [40.0, bg.Gamma(20.0, 0.5)], ids=["fixed-lambda", "sampled-lambda"])
def test_bayes_lasso(population, lambda2):
    data, _, genotypes = population
    prior = bg.LassoPrior(lambda2=lambda2)
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior)],
        sigma2_e=variance_prior(),
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=10))


@pytest.mark.parametrize("variance", [0.2, bg.ScaledInvChi2(df=12.0, scale=0.2)], ids=["fixed", "sampled"])
def test_bayes_r(population, variance):
    data, _, genotypes = population
    prior = bg.BayesRPrior(gamma=(0.0, 0.1, 1.0), dirichlet=(2.0, 2.0, 2.0), prior=variance)
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior)],
        sigma2_e=variance_prior(),
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=11))


class WrongPiUpdate(bg.Beta):
    """A planted error: the pi update counts three phantom included markers."""

    def draw_posterior(self, rng, n_included, n_total):
        return super().draw_posterior(rng, n_included + 3, n_total + 3)


def test_planted_pi_error_fails(population):
    result = geweke_test(
        bayes_c_model(population, WrongPiUpdate(3.0, 5.0)), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=8
    )
    print(result)
    assert not result.passed
    assert abs(result.table.loc["E[pi]", "z"]) > 2.5 * result.threshold, str(result)


@pytest.mark.parametrize("route", ["precision", "eigen"])
def test_kernel(population, route):
    data, pedigree, genotypes = population
    # precision: K = A (positive definite); eigen: K = G from 20 markers of 50 animals (rank < 20).
    K = pedigree.relationship() if route == "precision" else bg.grm(genotypes)
    term = bg.Kernel("id", K, prior=variance_prior())
    assert term.route == route
    model = bg.Model(data, "y", [bg.Fixed(prior=0.25), term], sigma2_e=variance_prior(), sampler="single-site")
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=6))


def two_trait_prior():
    # IW(12, S): each variance is Scale-inv-chi2(11, .), so its fourth moment is finite.
    return InverseWishart(12.0, np.array([[5.0, 2.0], [2.0, 5.0]]))


def test_two_trait_residual(population):
    data, _, _ = population
    model = bg.Model(data, ["y1", "y2"], [], sigma2_e=two_trait_prior())
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=4))


def test_two_trait_iid_term(population):
    data, _, _ = population
    model = bg.Model(data, ["y1", "y2"], [bg.Random("herd", prior=two_trait_prior())], sigma2_e=two_trait_prior())
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=5))


class WrongDegreesOfFreedom(bg.ScaledInvChi2):
    """A planted error: the full conditional uses df + count + 2 instead of df + count."""

    def draw_posterior(self, rng, sum_squares, count, aux=None):
        return super().draw_posterior(rng, sum_squares, count + 2, aux)


def test_planted_error_fails(population):
    data, pedigree, _ = population
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Animal("id", pedigree, prior=variance_prior())],
        sigma2_e=WrongDegreesOfFreedom(df=12.0, scale=0.5),
        sampler="single-site",
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=1)
    print(result)
    assert not result.passed
    # Robustly, not marginally: far beyond the threshold, and on the residual variance.
    assert result.max_abs_z > 2.5 * result.threshold, str(result)
    assert abs(result.table.loc["E[sigma2_e]", "z"]) > 2.5 * result.threshold, str(result)
