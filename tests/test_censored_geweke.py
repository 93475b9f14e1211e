"""Geweke (2004) joint-distribution tests of the censored Gaussian likelihood (``pytest -m statistical``).

An animal model whose records are right-, left- or interval-censored in fixed windows (the
censoring mechanism does not depend on the parameters), under the single-site, joint and
collapsed samplers (the collapsed one draws sigma2_e marginally). A planted error (right-censored
values drawn below their bound) must fail. Then the censored trait beside a Gaussian one (its
latent values drawn given the Gaussian trait); a planted error (drawn ignoring it) must fail.
Last, the censored trait beside a binary one (``MixedCensored``: the binary residual variance fixed
at 1), with records missing a trait under the three samplers, and on complete records, where the
binary trait's marginal group move runs too; a planted error (the censored values drawn ignoring
the liability) must fail.
"""

import numpy as np
import pytest
from geweke import geweke_test
from mixed_traits import three_trait_prior
from test_geweke import SPARSE_CHOLESKY, check, two_trait_prior, variance_prior

import bayesgen as bg
from bayesgen.likelihoods.mixed_censored import MixedCensored

pytestmark = pytest.mark.statistical

N_MARGINAL = 6000
N_SUCCESSIVE = 20000
SAMPLERS = [
    "single-site",
    pytest.param("joint", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
    pytest.param("collapsed", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))),
]


@pytest.fixture(scope="module")
def population():
    """~40 phenotyped animals: a third right-censored, a sixth left-censored, a sixth interval-censored."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11, mean=0.0)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(5)
    kind = rng.choice(["exact", "right", "left", "interval"], size=len(data), p=[1 / 3, 1 / 3, 1 / 6, 1 / 6])
    cut = rng.normal(0.0, 0.5, len(data))
    data["lower"] = np.where(kind == "right", cut, np.where(kind == "interval", cut - 0.5, np.nan))
    data["upper"] = np.where(kind == "left", cut, np.where(kind == "interval", cut + 0.5, np.nan))
    data["yc"] = np.where(kind == "exact", data["y"], np.nan)
    # Records whose latent value lies outside their window are exact (the censoring mechanism; in the
    # simulations the windows of the records censored here stay their censoring mechanism).
    inside = (np.nan_to_num(data["lower"], nan=-np.inf) < data["y"]) & (
        data["y"] < np.nan_to_num(data["upper"], nan=np.inf)
    )
    outside = (kind != "exact") & ~inside
    data.loc[outside, "yc"] = data["y"]
    data.loc[outside, ["lower", "upper"]] = np.nan
    data.loc[data.index[:2], ["yc", "lower", "upper"]] = np.nan
    return data, sim.pedigree_object()


def censored_model(population, sampler, family=None):
    data, pedigree = population
    family = bg.Censored(bounds=("lower", "upper")) if family is None else family
    return bg.Model(
        data,
        "yc",
        [bg.Fixed(prior=0.25), bg.Animal("id", pedigree, prior=variance_prior())],
        sigma2_e=variance_prior(),
        family=family,
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_censored_animal_model(population, sampler):
    check(geweke_test(censored_model(population, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=31))


class WrongSideCensoring(bg.Censored):
    """Planted error: right-censored values drawn below their bound instead of above."""

    def _window_of(self, censored):
        lower, upper = super()._window_of(censored)
        right = np.isfinite(lower) & np.isposinf(upper)
        return np.where(right, -np.inf, lower), np.where(right, lower, upper)


def test_planted_wrong_side_censoring_fails(population):
    model = censored_model(population, "single-site", WrongSideCensoring(bounds=("lower", "upper")))
    result = geweke_test(model, n_marginal=N_MARGINAL // 3, n_successive=N_SUCCESSIVE // 4, seed=31)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 10


# ---------------------------------------------------------------------- beside a Gaussian trait
@pytest.fixture(scope="module")
def pair(population):
    """A Gaussian trait g beside the censored one (records missing g, and others missing both)."""
    data, pedigree = population
    data = data.copy()
    rng = np.random.default_rng(9)
    data["g"] = 0.6 * data["y"] + rng.standard_normal(len(data))
    data.loc[data.index[2:5], "g"] = np.nan
    return data, pedigree


def pair_model(pair, sampler, family=None):
    data, pedigree = pair
    family = bg.Censored(bounds=("lower", "upper"), trait=1) if family is None else family
    return bg.Model(
        data,
        ["g", "yc"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        sigma2_e=two_trait_prior(),
        family=family,
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_censored_beside_a_gaussian_trait(pair, sampler):
    check(geweke_test(pair_model(pair, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=33))


class IgnoresTheOtherTrait(bg.Censored):
    """Planted error: censored values drawn from N(mu, R_cc), as if the Gaussian trait's residual
    carried nothing about them."""

    def _conditional(self, cov, resid_others, others):
        return 0.0, float(np.sqrt(cov[self.trait, self.trait]))


def test_planted_censored_draw_ignoring_the_other_trait_fails(pair):
    model = pair_model(pair, "single-site", IgnoresTheOtherTrait(bounds=("lower", "upper"), trait=1))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=33)
    print(result)
    assert not result.passed


# ---------------------------------------------------------------------- beside a binary trait
@pytest.fixture(scope="module")
def with_binary(population):
    """A binary trait b beside the censored one (records missing b, and others missing both)."""
    data, pedigree = population
    data = data.copy()
    rng = np.random.default_rng(12)
    data["b"] = (0.8 * data["y"] + rng.standard_normal(len(data)) > 0.2).astype(float)
    data.loc[data.index[2:5], "b"] = np.nan
    return data, pedigree


def binary_model(with_binary, sampler, family=None, complete=False):
    data, pedigree = with_binary
    if complete:
        data = data[data["b"].notna() & (data["yc"].notna() | data["lower"].notna() | data["upper"].notna())]
    return bg.Model(
        data,
        ["yc", "b"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        sigma2_e=two_trait_prior(),
        family=["censored", "threshold"] if family is None else family,
        bounds=None if family is not None else ("lower", "upper"),
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_censored_beside_a_binary_trait(with_binary, sampler):
    model = binary_model(with_binary, sampler)
    assert not model.likelihood.integrates_augmentation  # records miss a trait
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=35))


@pytest.mark.parametrize("sampler", [SAMPLERS[0], SAMPLERS[2]])
def test_censored_beside_a_binary_trait_with_its_marginal_move(with_binary, sampler):
    """Complete records: the binary trait's scale and marginal group moves run, given the censored
    trait's latent values."""
    model = binary_model(with_binary, sampler, complete=True)
    blocks = [b["block"] for b in model.describe()["sampler"]]
    assert "scale move" in blocks and "marginal group move" in blocks
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=36))


def test_censored_beside_two_binary_traits(with_binary):
    """Two liabilities correlated given the censored trait's latent values: a censored record's
    window and categories a trivariate normal rectangle in the pointwise log-likelihood (not used
    here); each liability drawn given the other and the censored value, records missing traits."""
    data, pedigree = with_binary
    rng = np.random.default_rng(14)
    data = data.assign(b2=(rng.standard_normal(len(data)) - 0.6 * data["y"] > 0.0).astype(float))
    data.loc[data.index[5:8], "b2"] = np.nan
    model = bg.Model(
        data,
        ["yc", "b", "b2"],
        [bg.Animal("id", pedigree, prior=three_trait_prior())],
        sigma2_e=three_trait_prior(),
        family=["censored", "threshold", "threshold"],
        bounds=("lower", "upper"),
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=37))


class IgnoresTheLiability(MixedCensored):
    """Planted error: censored values drawn from N(mu, R_cc), as if the binary trait's liability
    carried nothing about them."""

    def _conditional(self, cov, resid_others, others):
        return 0.0, float(np.sqrt(cov[self.trait, self.trait]))


def test_planted_censored_draw_ignoring_the_liability_fails(with_binary):
    family = IgnoresTheLiability(["censored", "threshold"], bounds=("lower", "upper"))
    model = binary_model(with_binary, "single-site", family)
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=35)
    print(result)
    assert not result.passed
