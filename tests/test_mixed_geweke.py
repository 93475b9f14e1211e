"""Geweke (2004) joint-distribution tests of a Gaussian + binary trait pair (``pytest -m statistical``).

Two traits, the second binary (``family=["gaussian", "threshold"]``), with an animal effect and a
residual covariance whose binary diagonal is fixed at 1 (a conditional inverse-Wishart), some
records missing one trait, under the single-site, joint and collapsed samplers. A planted
error (the conditional inverse-Wishart drawn with 2 extra degrees of freedom) must fail.
"""

import numpy as np
import pytest
from geweke import geweke_test
from test_geweke import SPARSE_CHOLESKY, check, two_trait_prior

import bayesgen as bg
from bayesgen.likelihoods.mixed import Mixed

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
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(3)
    data["g"] = data["y"]
    data["b"] = (data["y"] + rng.standard_normal(len(data)) > data["y"].median()).astype(float)
    data.loc[data.index[:3], "g"] = np.nan
    data.loc[data.index[3:6], "b"] = np.nan
    return data, sim.pedigree_object()


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
        state["sigma2_e"][:] = self._draw_fixed_diagonal(
            rng, self.prior.df + self.n_observed + 2, self.prior.scale + e.T @ e
        )


def test_planted_wrong_degrees_of_freedom_fails(population):
    model = pair_model(population, "single-site", WrongConditionalDegrees(["gaussian", "threshold"]))
    result = geweke_test(model, n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41)
    print(result)
    assert not result.passed
    assert result.failures.index.str.contains("sigma2_e").any()
