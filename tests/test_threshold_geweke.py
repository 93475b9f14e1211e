"""Geweke (2004) joint-distribution tests of the threshold likelihood (``pytest -m statistical``).

Binary and 3-category ordinal traits (the free cut-point sampled by Cowles' move) on an animal
model, under the single-site, joint and collapsed samplers, with proper priors (a half-normal
prior on the cut-points). Two planted errors must fail: liabilities truncated on the wrong side
of the threshold, and the cut-point move without its Hastings ratio.
"""

import numpy as np
import pytest
from geweke import geweke_test
from test_geweke import SPARSE_CHOLESKY, check

import bayesgen as bg

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
    """~40 phenotyped animals of a 50-animal pedigree; a binary and an ordinal (3 categories) trait, 2 missing."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    data["b"] = (data["y"] > data["y"].median()).astype(float)
    data["o"] = np.digitize(data["y"], np.quantile(data["y"], [0.3, 0.7])).astype(float)
    data["o4"] = np.digitize(data["y"], np.quantile(data["y"], [0.25, 0.5, 0.75])).astype(float)
    data.loc[data.index[:2], ["b", "o", "o4"]] = np.nan
    return data, sim.pedigree_object()


def threshold_model(population, trait, sampler, family=None):
    data, pedigree = population
    family = bg.Threshold(cutpoint_prior=1.0) if family is None else family
    return bg.Model(
        data,
        trait,
        [bg.Fixed(prior=0.25), bg.Animal("id", pedigree, prior=bg.ScaledInvChi2(df=12.0, scale=0.5))],
        family=family,
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("trait", ["b", "o", "o4"])
def test_threshold_animal_model(population, trait, sampler):
    """The collapsed route mixes the liabilities slowly (its cut-point and liabilities move given the
    locations drawn after the variance): one long chain's batch means understated its standard error
    (max |z| 4.02 against 3.34 for the ordinal trait, 2026-12-06), so it runs 16 independent chains
    compared through their between-chain standard error (``geweke_test(n_chains=)``, issue 17).
    ``o4`` has 4 categories (two free cut-points), whose cut-points mix slowly in this test (ESS
    300-500 of 20,000): one single-site chain gave |z| 4.18 where 16 chains give 1.37, so it runs 16
    chains under every sampler. Cowles' move then needs its reverse proposal's support
    (``Threshold._log_proposal_ratio``): without it the 16-chain test fails at |z| 6.29 (2026-12-07)."""
    model = threshold_model(population, trait, sampler)
    chains = dict(n_chains=16, burn=200) if sampler == "collapsed" or trait == "o4" else {}
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=21, **chains))


class WrongSideTruncation(bg.Threshold):
    """Planted error: the liabilities of category 0 drawn on the wrong side of the threshold (above 0).

    (Flipping both categories would be undetectable here: with a prior symmetric in the
    effects it only relabels the categories.)"""

    def _liability_bounds(self, edges, category):
        lower, upper = super()._liability_bounds(edges, category)
        return np.where(category == 0, 0.0, lower), np.where(category == 0, np.inf, upper)


class NoHastingsRatio(bg.Threshold):
    """Planted error: Cowles' cut-point move accepted without its proposal ratio."""

    def _log_proposal_ratio(self, current, proposed, scale):
        return 0.0


def test_planted_wrong_side_truncation_fails(population):
    model = threshold_model(
        population, "b", "single-site", WrongSideTruncation(cutpoint_prior=1.0, scale_move=False, marginal_moves=False)
    )
    result = geweke_test(model, n_marginal=N_MARGINAL // 3, n_successive=N_SUCCESSIVE // 4, seed=21)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 10


def test_planted_missing_hastings_ratio_fails(population):
    # Alone: the scale and marginal moves also move the cut-points' scale and mask part of the
    # error (max |z| 2.56 against 3.38 with them on, 2026-12-07).
    model = threshold_model(
        population, "o4", "single-site", NoHastingsRatio(cutpoint_prior=0.5, scale_move=False, marginal_moves=False)
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=21)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("cutpoints").any()


class ScaleMoveCountingMissingRecords(bg.Threshold):
    """Planted error: the scale move's Jacobian counts every record's liability, the 2 records
    without a phenotype too (k^(n + 2) for k^n)."""

    def scale_action(self):
        from bayesgen.likelihoods.threshold import LiabilityScaling

        class Wrong(LiabilityScaling):
            def power(self, state):
                return float(state["y"].shape[0] + self.likelihood.n_cutpoints)

        return Wrong(self)


def test_planted_scale_move_counting_missing_records_fails(population):
    """The planted scale-move tests run without the marginal group moves, which would mask part of the error."""
    model = threshold_model(
        population, "b", "single-site", ScaleMoveCountingMissingRecords(cutpoint_prior=1.0, marginal_moves=False)
    )
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=21)
    print(result)
    assert not result.passed


def test_planted_scale_move_counting_the_haar_measure_twice_fails(population, monkeypatch):
    """Planted error: a sampled variance's share of the scale move keeps a Haar measure dk/k of
    its own (a power 2m - 1 of k for 2m), so k is pulled down by 1/k."""
    from bayesgen.terms.scaling import CovarianceScaling

    honest = CovarianceScaling.log_factor
    monkeypatch.setattr(CovarianceScaling, "log_factor", lambda self, state, k: honest(self, state, k) - np.log(k))
    model = threshold_model(population, "b", "single-site", bg.Threshold(cutpoint_prior=1.0, marginal_moves=False))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=21)
    print(result)
    assert not result.passed


def test_marginal_group_move_alone(population):
    """The marginal group move of the animal variance with the liabilities integrated out, without
    the scale move and the collapsed/joint blocks (single-site), so that it alone moves the scale."""
    model = threshold_model(population, "o", "single-site", bg.Threshold(cutpoint_prior=1.0, scale_move=False))
    assert any(b.describe()["block"] == "marginal group move" for b in model.blocks)
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=21))


def test_planted_marginal_group_move_on_the_wrong_measure_fails(population, monkeypatch):
    """Planted error: the random walk on log k with the target's density in k (dk, not d log k:
    the factor k left out)."""
    from bayesgen.sampler.marginal_group_move import MarginalGroupMove

    honest = MarginalGroupMove._log_target
    monkeypatch.setattr(
        MarginalGroupMove, "_log_target", lambda self, *args: honest(self, *args) - float(np.log(args[-1]))
    )
    model = threshold_model(population, "o", "single-site", bg.Threshold(cutpoint_prior=1.0, scale_move=False))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=21)
    print(result)
    assert not result.passed
