"""Joint rescaling moves of BRR and BayesC(pi): exactness, and the Geweke harness.

the group move of a Markers term (``Markers.group_action``, ``bayesgen.sampler.group_move``) moves the effects and the common (slab) variance together by a factor
k: (alpha, sigma2_alpha) -> (k alpha, k^2 sigma2_alpha); for BayesC only included effects are
non-zero, so only they scale, and delta and pi stay. f(k) = k p(k^2 sigma2_alpha) for both
(``rescale_log_density``). Quick tests check the bookkeeping and f(k) exactly; the statistical
ones run the Geweke harness with the move and plant a wrong Jacobian, which it must catch.
"""

import copy

import numpy as np
import pytest

import bayesgen as bg
from bayesgen.sampler import Gibbs
from bayesgen.sampler.group_move import GroupMove


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    data.loc[data.index[:2], "y"] = np.nan
    return data, sim.genotypes


def marker_model(population, prior, expand=True):
    data, genotypes = population
    return bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior, expand=expand)],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.5),
        sampler="single-site",
    )


# df = 10 > 8 keeps fourth moments of sigma2_alpha finite for the harness.
def brr():
    return bg.RidgePrior(prior=bg.ScaledInvChi2(df=10.0, scale=0.1))


def bayes_c_pi():
    # pi_move=False: these tests are of the rescaling move alone (the pi move, tests/test_pi_move.py, also
    # moves sigma2_alpha and took the planted Jacobian error below to max |z| 3.28, under the threshold).
    return bg.BayesCPrior(pi=bg.Beta(2.0, 2.0), prior=bg.ScaledInvChi2(df=10.0, scale=0.1), pi_move=False)


PRIORS = {"BRR": brr, "BayesCpi": bayes_c_pi}


@pytest.mark.parametrize("name", list(PRIORS))
def test_rescale_move_scales_effects_variance_and_residual_exactly(population, name):
    model = marker_model(population, PRIORS[name]())
    gibbs = Gibbs(model)
    rng = np.random.default_rng(4)
    chain = gibbs.init(rng)
    for _ in range(5):
        gibbs.step(rng, chain)
    term, state = model.terms[1], chain.states[1]
    prior_state = state["prior"]
    before = {
        "alpha": state["alpha"].copy(),
        "var": prior_state["var_alpha"].copy(),
        "sigma2": prior_state["sigma2_alpha"].flat[0],
        "gv": state["genetic_values"].copy(),
        "resid": chain.ctx.resid.copy(),
        "other": {
            key: np.array(value, copy=True)
            for key, value in prior_state.items()
            if key not in ("var_alpha", "sigma2_alpha")
        },
    }
    # The move is a Metropolis step: try seeds until one proposal is accepted.
    assert any(
        GroupMove(1, term.group_action()).move(np.random.default_rng(seed), state, chain.ctx) for seed in range(200)
    )
    nonzero = np.flatnonzero(before["alpha"])
    k = state["alpha"][nonzero[0]] / before["alpha"][nonzero[0]]
    assert k != 1.0
    np.testing.assert_allclose(state["alpha"], k * before["alpha"], rtol=1e-12)
    assert np.array_equal(state["alpha"] == 0, before["alpha"] == 0)  # BayesC: inclusions do not move
    np.testing.assert_allclose(prior_state["var_alpha"], k * k * before["var"], rtol=1e-12)
    np.testing.assert_allclose(prior_state["sigma2_alpha"].flat[0], k * k * before["sigma2"], rtol=1e-12)
    for key, value in before["other"].items():  # pi, n_included, indicators: unchanged
        np.testing.assert_array_equal(prior_state[key], value, err_msg=key)
    np.testing.assert_allclose(state["genetic_values"], k * before["gv"], rtol=1e-12)
    moved = chain.ctx.resid.copy()
    gibbs.refresh_residual(chain)  # y minus every term's fit, rebuilt from scratch
    np.testing.assert_allclose(moved, chain.ctx.resid, atol=1e-10)
    assert not np.allclose(moved, before["resid"])


@pytest.mark.parametrize(
    "prior",
    [
        bg.RidgePrior(prior=bg.ScaledInvChi2(df=5.0, scale=0.3)),
        bg.BayesCPrior(pi=0.2, prior=bg.ScaledInvChi2(df=5.0, scale=0.3)),
    ],
    ids=["BRR", "BayesC"],
)
def test_rescale_density_is_the_scaled_inv_chi2_prior_with_its_jacobian(prior):
    state = {"sigma2_alpha": np.array([0.8]), "var_alpha": np.ones(3)}
    for k in (0.5, 1.3):
        expected = -(5.0 + 1.0) * np.log(k) - 0.5 * 5.0 * 0.3 / 0.8 * (1.0 / (k * k) - 1.0)
        got = prior.rescale_log_density(state, k) - prior.rescale_log_density(state, 1.0)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "sampled, fixed",
    [
        (brr(), bg.RidgePrior(prior=0.2)),
        (bayes_c_pi(), bg.BayesCPrior(pi=bg.Beta(2.0, 2.0), prior=0.2)),
    ],
    ids=list(PRIORS),
)
def test_move_runs_only_with_a_sampled_variance_and_expand(population, sampled, fixed):
    rng = np.random.default_rng(0)
    infos = []
    for model in (
        marker_model(population, sampled),
        marker_model(population, fixed),
        marker_model(population, copy.deepcopy(sampled), expand=False),
    ):
        gibbs = Gibbs(model)
        chain = gibbs.init(rng)
        infos.append(gibbs.step(rng, chain))
    assert set(infos[0]) == {"rescale_accept_markers"}
    assert infos[1] == {} and infos[2] == {}


# ---------------------------------------------------------------------- joint-distribution tests
class RidgeWithoutJacobian(bg.RidgePrior):
    """A planted error: BRR's rescaling density without its factor k."""

    def rescale_log_density(self, state, factor):
        return self.variance_prior.log_density(factor * factor * state["sigma2_alpha"][0])


class BayesCWithoutJacobian(bg.BayesCPrior):
    """A planted error: BayesC's rescaling density without its factor k."""

    def rescale_log_density(self, state, factor):
        return self.variance_prior.log_density(factor * factor * state["sigma2_alpha"][0])


N_MARGINAL, N_SUCCESSIVE = 6000, 20000


@pytest.mark.statistical
@pytest.mark.parametrize("name", list(PRIORS))
def test_geweke_with_rescaling(population, name):
    from geweke import geweke_test

    result = geweke_test(
        marker_model(population, PRIORS[name]()), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=5
    )
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
@pytest.mark.parametrize(
    "name, planted",
    [
        ("BRR", RidgeWithoutJacobian(prior=bg.ScaledInvChi2(df=10.0, scale=0.1))),
        (
            "BayesCpi",
            BayesCWithoutJacobian(pi=bg.Beta(2.0, 2.0), prior=bg.ScaledInvChi2(df=10.0, scale=0.1), pi_move=False),
        ),
    ],
    ids=list(PRIORS),
)
def test_geweke_catches_a_wrong_rescaling_jacobian(population, name, planted):
    from geweke import geweke_test

    result = geweke_test(marker_model(population, planted), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=5)
    print(result)
    assert not result.passed
    # ... and the moved variance itself is among the failing test functions (h2 and var_g,
    # functions of it, fail with it).
    z = result.table["z"].abs()
    assert max(z["E[sigma2_alpha]"], z["E[sigma2_alpha^2]"]) > result.threshold, str(result)
