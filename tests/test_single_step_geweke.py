"""Geweke (2004) joint-distribution tests of both single-step routes, and planted errors that fail them."""

import numpy as np
import pytest
from geweke import geweke_test

import bayesgen as bg
from bayesgen.terms.single_step import SingleStepGBLUP

pytestmark = pytest.mark.statistical

N_MARGINAL = 6000
N_SUCCESSIVE = 20000


def variance_prior():
    # df = 12 > 8: finite fourth moments (the squares are test functions)
    return bg.ScaledInvChi2(df=12.0, scale=0.5)


@pytest.fixture(scope="module")
def population():
    """~50 animals (40 phenotyped, 2 phenotypes missing), 40% genotyped at 60 markers."""
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=60, seed=11)
    pedigree = sim.pedigree_object()
    data = sim.phenotypes.set_index("id", drop=False)
    data.loc[data.index[:2], "y"] = np.nan
    rng = np.random.default_rng(3)
    genotyped = sorted(rng.choice(pedigree.ids, size=20, replace=False).tolist())
    return data, pedigree, sim.genotypes.select(genotyped, keep_centre=True)


def check(result):
    print(result)
    assert result.passed, str(result)


@pytest.mark.parametrize("sampler", ["single-site", "joint", "collapsed"])
def test_ssgblup(population, sampler):
    data, pedigree, genotypes = population
    model = bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.SingleStep("id", pedigree, genotypes, prior=variance_prior())],
        sigma2_e=variance_prior(),
        sampler=sampler,
    )
    check(geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=1))


class ForgottenA22(SingleStepGBLUP):
    """A planted error: the samplers use A^-1 + [0 0; 0 G^-1] (A22^-1 not subtracted; replacing it by I
    makes H^-1 indefinite here); the prior draws use the right H^-1."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        right = self._h_inverse
        self.relationships.a22_inverse = np.zeros_like(self.relationships.a22_inverse)
        self._h_inverse = self.relationships.h_inverse()
        self._right_h_inverse = right

    def draw_prior(self, rng, state):
        state["sigma2"][:] = self.prior.draw_prior(rng, state["prior_aux"])
        chol = np.linalg.cholesky(self._right_h_inverse.toarray())
        state["u"][:] = np.linalg.solve(chol.T, rng.standard_normal(state["u"].shape)) * np.sqrt(state["sigma2"][0, 0])


def test_planted_a22_error_fails(population):
    data, pedigree, genotypes = population
    term = ForgottenA22("id", pedigree, genotypes, prior=variance_prior())
    model = bg.Model(data, "y", [bg.Fixed(prior=0.25), term], sigma2_e=variance_prior(), sampler="single-site")
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=1)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.5 * result.threshold, str(result)


def ssbr_model(population, prior, term_class=None, epsilon_prior=None):
    from bayesgen.terms.single_step_bayes import SingleStepBayes

    data, pedigree, genotypes = population
    term = (term_class or SingleStepBayes)(
        "id", pedigree, genotypes, prior=prior, epsilon_prior=epsilon_prior or variance_prior(), j_prior_variance=0.25
    )
    return bg.Model(data, "y", [bg.Fixed(prior=0.25), term], sigma2_e=variance_prior(), sampler="single-site")


@pytest.mark.parametrize("prior", ["brr", "bayes_c"])
def test_ssbr(population, prior):
    marker_prior = (
        bg.RidgePrior(prior=bg.ScaledInvChi2(df=12.0, scale=0.05))
        if prior == "brr"
        else bg.BayesCPrior(pi=0.3, prior=bg.ScaledInvChi2(df=12.0, scale=0.1))
    )
    check(geweke_test(ssbr_model(population, marker_prior), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=4))


def test_ssbr_shared_variance(population):
    """epsilon_prior="shared": sigma2_epsilon = pi sum 2pq sigma2_alpha, sigma2_alpha drawn given alpha and epsilon."""
    prior = bg.BayesCPrior(pi=0.3, prior=bg.ScaledInvChi2(df=12.0, scale=0.1))
    check(
        geweke_test(
            ssbr_model(population, prior, epsilon_prior="shared"),
            n_marginal=N_MARGINAL,
            n_successive=N_SUCCESSIVE,
            seed=5,
        )
    )


def test_planted_ssbr_error_fails(population):
    """A planted error: the sampler draws epsilon with precision I instead of (A^-1)_nn."""
    from bayesgen.terms.single_step_bayes import SingleStepBayes

    class IdentityEpsilon(SingleStepBayes):
        def bind(self, context):
            super().bind(context)
            n = self.blocks.ungenotyped.size
            self._prec = (np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64), np.ones(n))

    model = ssbr_model(population, bg.RidgePrior(prior=bg.ScaledInvChi2(df=12.0, scale=0.05)), IdentityEpsilon)
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=4)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.5 * result.threshold, str(result)


def test_planted_ssbr_move_error_fails(population):
    """A planted error in the group move: epsilon's Jacobian counted as k^3 instead of k (log_factor)."""
    from bayesgen.terms.single_step_bayes import SingleStepBayes, SingleStepScaleAction

    class WrongJacobian(SingleStepScaleAction):
        def log_factor(self, state, m):
            k = np.asarray(m, dtype=np.float64)
            extra = sum(2.0 * np.log(f) for g, f in zip(self.generators, k) if g == "epsilon" and f > 0)
            return super().log_factor(state, m) + extra

    class PlantedMove(SingleStepBayes):
        def group_action(self):
            return WrongJacobian(self)

    model = ssbr_model(population, bg.RidgePrior(prior=bg.ScaledInvChi2(df=12.0, scale=0.05)), PlantedMove)
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=4)
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.5 * result.threshold, str(result)
