"""Geweke (2004) joint-distribution tests of each threshold trait's scale and marginal group moves
among several traits, on records with every trait (``pytest -m statistical``; shared data:
``mixed_traits``), with planted errors in each move that must fail.
"""

import mixed_traits
import numpy as np
import pytest
from geweke import geweke_test
from mixed_traits import N_MARGINAL, N_SUCCESSIVE, SLOW_CUTPOINTS, three_trait_prior
from test_geweke import SPARSE_CHOLESKY, check, two_trait_prior

import bayesgen as bg

pytestmark = pytest.mark.statistical


@pytest.fixture(scope="module")
def complete():
    """Records with every trait: the marginal group moves of each threshold trait then run too."""
    population = mixed_traits.population()
    data, pedigree = mixed_traits.thresholds_alone(
        mixed_traits.three_traits(population), mixed_traits.with_ordinal(population)
    )
    return data.dropna(subset=["g", "b", "b2", "o"]), pedigree


def complete_model(complete, traits, families, sampler):
    data, pedigree = complete
    data = data.dropna(subset=traits)  # the second ordinal trait "o2" misses some of these records
    prior = two_trait_prior() if len(traits) == 2 else three_trait_prior()
    return bg.Model(
        data,
        traits,
        [bg.Animal("id", pedigree, prior=prior)],
        sigma2_e=prior,
        family=families,
        sampler=sampler,
    )


def moves_of(model) -> list:
    return [b["block"] for b in model.describe()["sampler"] if b["block"] in ("scale move", "marginal group move")]


COMPLETE_CASES = {
    "gaussian-binary": (["g", "b"], lambda: ["gaussian", "threshold"]),
    "gaussian-ordinal": (["g", "o"], lambda: ["gaussian", bg.Threshold(cutpoint_prior=1.0)]),
    "two-binary": (["b", "b2"], lambda: ["threshold", "threshold"]),
    "binary-two-ordinal": (
        ["b", "o", "o2"],
        lambda: ["threshold", bg.Threshold(cutpoint_prior=1.0), bg.Threshold(cutpoint_prior=1.0)],
    ),
}


@pytest.mark.parametrize(
    "case, sampler",
    [
        ("gaussian-binary", "single-site"),
        pytest.param(
            "gaussian-binary",
            "collapsed",
            marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY)),
        ),
        ("gaussian-ordinal", "single-site"),
        ("two-binary", "single-site"),
        pytest.param(
            "two-binary", "joint", marks=pytest.mark.skipif(SPARSE_CHOLESKY is not None, reason=str(SPARSE_CHOLESKY))
        ),
        ("binary-two-ordinal", "single-site"),
    ],
)
def test_each_threshold_traits_scale_and_marginal_moves(complete, case, sampler):
    traits, families = COMPLETE_CASES[case]
    model = complete_model(complete, traits, families(), sampler)
    n_thresholds = len(model.likelihood.threshold_traits)
    assert moves_of(model) == ["scale move"] * n_thresholds + ["marginal group move"] * n_thresholds
    chains = SLOW_CUTPOINTS if "o2" in traits else {}
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=47, **chains))


def test_each_threshold_traits_marginal_moves_alone(complete):
    """The marginal group moves without the scale moves, so that they alone move the traits' scales."""
    off = bg.Threshold(scale_move=False)
    model = complete_model(complete, ["b", "b2"], [off, off], "single-site")
    assert moves_of(model) == ["marginal group move"] * 2
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=48))


def test_planted_trait_scale_move_counting_every_traits_residuals_fails(complete, monkeypatch):
    """Planted error: the trait's scale move takes its quadratic from every trait's residuals (as the
    one-trait move does), not the threshold trait's alone. Weaker errors go unseen at this length on
    these 31 records (2026-12-07): leaving out the Jacobian k^-f of C's column (which failed, at 6.06,
    on the 34 records with both g and b), or leaving R unmoved (max |z| 2.01; R is redrawn
    from its conditional right after). The exact target test of test_mixed_families catches the first."""
    from bayesgen.likelihoods.mixed_scaling import ThresholdTraitScaling

    def every_trait(self, state, ctx):
        resid = ctx.resid[self.likelihood.observed_rows]
        return float(np.sum(resid * resid))

    monkeypatch.setattr(ThresholdTraitScaling, "quadratic", every_trait)
    model = complete_model(complete, ["g", "b"], ["gaussian", bg.Threshold(marginal_moves=False)], "single-site")
    assert moves_of(model) == ["scale move"]
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=47)
    print(result)
    assert not result.passed


def test_planted_trait_marginal_move_counting_the_haar_measure_twice_fails(complete, monkeypatch):
    """Planted error: the trait's coordinate of the group action keeps the Haar measure dk/k twice."""
    from bayesgen.terms.location import TraitGroupAction

    honest = TraitGroupAction.log_factor
    monkeypatch.setattr(TraitGroupAction, "log_factor", lambda self, state, m: honest(self, state, m) - np.log(m[0]))
    off = bg.Threshold(scale_move=False)
    model = complete_model(complete, ["b", "b2"], [off, off], "single-site")
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=48)
    print(result)
    assert not result.passed
