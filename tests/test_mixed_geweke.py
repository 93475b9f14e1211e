"""Geweke (2004) joint-distribution tests of traits mixing families (``pytest -m statistical``):
pairs and a Gaussian trait beside two binary ones.

Two traits, the second binary (``family=["gaussian", "threshold"]``), with an animal effect and a
residual covariance whose binary diagonal is fixed at 1 (a conditional inverse-Wishart), some
records missing one trait, under the single-site, joint and collapsed samplers, the binary
trait's marginal group move on. Planted errors must fail: the conditional inverse-Wishart drawn
with 2 extra degrees of freedom, and the augmentation in its former order (missing traits, then
liabilities) under the marginal move.
Then a Gaussian trait beside two binary ones (their residual block fixed at I), and two binary
traits alone; a planted error (each liability drawn given the Gaussian trait only, ignoring the
other binary trait's liability) must fail. Then a Gaussian trait beside a 3-category ordinal one
(its cut-point drawn by Cowles' move given the Gaussian trait); a planted error (that move's
liabilities taken as N(m, 1), not their conditional variance given the Gaussian trait) must fail.
Threshold traits alone and beside a Gaussian and a binary trait: ``test_mixed_geweke_thresholds``;
each threshold trait's scale and marginal moves: ``test_mixed_geweke_moves``. Shared data and
settings: ``mixed_traits``.
"""

import mixed_traits
import numpy as np
import pytest
from geweke import geweke_test
from mixed_traits import (
    N_MARGINAL,
    N_SUCCESSIVE,
    SAMPLERS,
    IgnoresTheOtherLiability,
    four_trait_prior,
    three_trait_prior,
)
from test_geweke import check, two_trait_prior

import bayesgen as bg
from bayesgen.likelihoods.mixed import Mixed

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def population():
    return mixed_traits.population()


def pair_model(population, sampler, family=None):
    data, pedigree = population
    return bg.Model(
        data,
        ["g", "b"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        sigma2_e=two_trait_prior(),
        family=["gaussian", "threshold"] if family is None else family,
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_gaussian_binary_pair(population, sampler):
    check(geweke_test(pair_model(population, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41))


class WrongConditionalDegrees(Mixed):
    """Planted error: R | E drawn with df + n + 2."""

    def draw_covariance(self, rng, state, ctx):
        e = ctx.resid[self.observed_rows]
        state["sigma2_e"][:] = self._draw_fixed_block(
            rng, self.prior.df + self.n_observed + 2, self.prior.scale + e.T @ e
        )


class MissingTraitsFirst(Mixed):
    """Planted error: the augmentation in its former order, the missing traits first and then the
    liabilities given them, while the marginal moves (which integrate both out) still run on
    records missing traits: after an accepted move the missing values are drawn given the
    liabilities from before it."""

    def augment(self, rng, state, ctx):
        y, resid = state["y"], ctx.resid
        self._draw_missing_traits(rng, state["sigma2_e"], y, resid)
        self._draw_liabilities(rng, state, y, resid, tuning=bool(ctx.tuning))


def test_planted_missing_traits_drawn_before_the_liabilities_fails(population):
    model = pair_model(population, "single-site", MissingTraitsFirst(["gaussian", "threshold"]))
    assert model.likelihood.integrates_augmentation
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41)
    print(result)
    assert not result.passed


def test_planted_wrong_degrees_of_freedom_fails(population):
    model = pair_model(population, "single-site", WrongConditionalDegrees(["gaussian", "threshold"]))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("sigma2_e").any()


# ---------------------------------------------------------------------- a Gaussian and two binary traits
@pytest.fixture(scope="module")
def three_traits(population):
    return mixed_traits.three_traits(population)


def animal_model(population, traits, prior, family, sampler):
    """An animal model of ``traits`` with ``prior()`` on the animal and residual covariances."""
    data, pedigree = population
    return bg.Model(
        data, traits, [bg.Animal("id", pedigree, prior=prior())], sigma2_e=prior(), family=family, sampler=sampler
    )


def three_trait_model(three_traits, sampler, family=None):
    family = ["gaussian", "threshold", "threshold"] if family is None else family
    return animal_model(three_traits, ["g", "b", "b2"], three_trait_prior, family, sampler)


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_a_gaussian_and_two_binary_traits(three_traits, sampler):
    check(
        geweke_test(three_trait_model(three_traits, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43)
    )


def test_two_binary_traits(three_traits):
    data, pedigree = three_traits
    model = bg.Model(
        data,
        ["b", "b2"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        family=["threshold", "threshold"],
        sampler="single-site",
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=44))


def test_planted_liability_ignoring_the_other_binary_trait_fails(three_traits):
    model = three_trait_model(
        three_traits, "single-site", IgnoresTheOtherLiability(["gaussian", "threshold", "threshold"])
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43)
    print(result)
    assert not result.passed


# ---------------------------------------------------------------------- a Gaussian and three binary traits
@pytest.fixture(scope="module")
def four_traits(three_traits):
    return mixed_traits.four_traits(three_traits)


def four_trait_model(four_traits, sampler, family=None):
    family = ["gaussian", "threshold", "threshold", "threshold"] if family is None else family
    return animal_model(four_traits, ["g", "b", "b2", "b3"], four_trait_prior, family, sampler)


@pytest.mark.parametrize("sampler", [SAMPLERS[0], SAMPLERS[2]])
def test_a_gaussian_and_three_binary_traits(four_traits, sampler):
    """Three liabilities correlated given the Gaussian trait (R's threshold block fixed at I), each
    drawn given the other two; records missing each trait."""
    model = four_trait_model(four_traits, sampler)
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=50))


def test_planted_liability_ignoring_the_other_binary_traits_fails(four_traits):
    family = IgnoresTheOtherLiability(["gaussian", "threshold", "threshold", "threshold"])
    result = geweke_test(
        four_trait_model(four_traits, "single-site", family), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=50
    )
    print(result)
    assert not result.passed


class WrongColumnCovariance(Mixed):
    """Planted error: C = R_fB R_BB^-1 drawn with four times its columns' covariance (4 Psi_BB^-1).
    Twice passed at this length (max |z| 3.43 against 3.73, 2026-12-07): the test sees errors of
    that size in R_fB's spread only from 4x."""

    @staticmethod
    def _columns_factor(psi_bb):
        return np.linalg.cholesky(np.linalg.inv(psi_bb / 4.0))


def test_planted_four_times_the_columns_covariance_fails(three_traits):
    model = three_trait_model(
        three_traits, "single-site", WrongColumnCovariance(["gaussian", "threshold", "threshold"])
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("sigma2_e|rho_e").any()


# ---------------------------------------------------------------------- a Gaussian and an ordinal trait
@pytest.fixture(scope="module")
def with_ordinal(population):
    return mixed_traits.with_ordinal(population)


def ordinal_model(with_ordinal, sampler, ordinal=None):
    data, pedigree = with_ordinal
    return bg.Model(
        data,
        ["g", "o"],
        [bg.Animal("id", pedigree, prior=two_trait_prior())],
        sigma2_e=two_trait_prior(),
        family=["gaussian", bg.Threshold(cutpoint_prior=1.0) if ordinal is None else ordinal],
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_gaussian_ordinal_pair(with_ordinal, sampler):
    check(geweke_test(ordinal_model(with_ordinal, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=45))


class IgnoresTheConditionalVariance(bg.Threshold):
    """Planted error: the cut-point move takes the liabilities as N(m, 1), not N(m, s^2) with s^2
    their residual variance given the Gaussian trait."""

    def _move_cutpoints(self, rng, state, mu, tuning, sd=1.0):
        super()._move_cutpoints(rng, state, mu, tuning)


def test_planted_cutpoint_move_ignoring_the_conditional_variance_fails(with_ordinal):
    model = ordinal_model(with_ordinal, "single-site", IgnoresTheConditionalVariance(cutpoint_prior=1.0))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=45)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("cutpoints").any()
