"""Geweke (2004) joint-distribution tests of threshold traits alone and of a Gaussian trait beside
a binary and an ordinal one (``pytest -m statistical``; shared data: ``mixed_traits``).

Four threshold traits alone, two binary and two ordinal (R = I, each ordinal trait with its own
cut-points); a planted error (each trait's scale move scaling every ordinal trait's cut-points)
must fail. Then a Gaussian trait beside a binary and an ordinal one; the planted liabilities drawn
given the Gaussian trait only must fail.
"""

import mixed_traits
import pytest
from geweke import geweke_test
from mixed_traits import (
    N_MARGINAL,
    N_SUCCESSIVE,
    SAMPLERS,
    SLOW_CUTPOINTS,
    IgnoresTheOtherLiability,
    four_trait_prior,
    three_trait_prior,
)
from test_geweke import check

import bayesgen as bg

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def thresholds_alone():
    population = mixed_traits.population()
    return mixed_traits.thresholds_alone(mixed_traits.three_traits(population), mixed_traits.with_ordinal(population))


def alone_model(thresholds_alone, sampler, family=None):
    data, pedigree = thresholds_alone
    return bg.Model(
        data,
        ["b", "b2", "o", "o2"],
        [bg.Animal("id", pedigree, prior=four_trait_prior())],
        family=family or ["threshold", "threshold", bg.Threshold(cutpoint_prior=1.0), bg.Threshold(cutpoint_prior=1.0)],
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_four_threshold_traits_alone(thresholds_alone, sampler):
    """Two binary and two ordinal traits (R = I), records missing traits: each ordinal trait's
    cut-points, the liabilities, the animal covariance. The 4-category trait's cut-points mix
    slowly here (one chain under the joint sampler: max |z| 3.75 against 3.86), so 16 chains
    compared through their between-chain standard error, as ``test_threshold_geweke`` does."""
    model = alone_model(thresholds_alone, sampler)
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=49, **SLOW_CUTPOINTS))


def test_planted_scale_move_scaling_every_ordinal_traits_cutpoints_fails(thresholds_alone, monkeypatch):
    """Planted error: each threshold trait's scale move multiplies every ordinal trait's cut-points
    by k (and counts them in its Jacobian), not its own trait's alone."""
    from bayesgen.likelihoods.mixed_scaling import ThresholdTraitScaling

    def power(self, state):
        return float(self.likelihood.n_observed + state["cutpoints"].size)

    def apply(self, state, k):
        state["y"][:, self.trait] *= k
        state["cutpoints"] *= k

    monkeypatch.setattr(ThresholdTraitScaling, "power", power)
    monkeypatch.setattr(ThresholdTraitScaling, "apply", apply)
    # The scale moves alone: the marginal group moves (which run on these records missing traits)
    # would otherwise carry the planted error's pull into the animal covariance and liabilities.
    family = [bg.Threshold(marginal_moves=False) for _ in range(2)]
    family += [bg.Threshold(cutpoint_prior=1.0, marginal_moves=False) for _ in range(2)]
    model = alone_model(thresholds_alone, "single-site", family=family)
    assert [b["block"] for b in model.describe()["sampler"]].count("marginal group move") == 0
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=49, **SLOW_CUTPOINTS)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("cutpoints").any()


# ---------------------------------------------------------------------- a Gaussian, a binary and an ordinal trait
def ordinal_binary_model(thresholds_alone, sampler, family=None):
    data, pedigree = thresholds_alone
    return bg.Model(
        data,
        ["g", "b", "o"],
        [bg.Animal("id", pedigree, prior=three_trait_prior())],
        sigma2_e=three_trait_prior(),
        family=family or ["gaussian", "threshold", bg.Threshold(cutpoint_prior=1.0)],
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_a_gaussian_a_binary_and_an_ordinal_trait(thresholds_alone, sampler):
    """Given the Gaussian trait the two liabilities are correlated: each is drawn given the other,
    the ordinal trait's cut-point by Cowles' move given both other traits."""
    check(
        geweke_test(
            ordinal_binary_model(thresholds_alone, sampler), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=50
        )
    )


def test_planted_ordinal_liability_ignoring_the_binary_one_fails(thresholds_alone):
    family = ["gaussian", "threshold", bg.Threshold(cutpoint_prior=1.0)]
    model = ordinal_binary_model(thresholds_alone, "single-site", IgnoresTheOtherLiability(family))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=50)
    print(result)
    assert not result.passed
