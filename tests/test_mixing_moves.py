"""Joint rescaling moves of BayesB, BayesLasso and BayesR: exactness, and the Geweke harness.

the group move of a Markers term (``Markers.group_action``, ``bayesgen.sampler.group_move``) moves the effects and their prior's scale together by a factor k:
(alpha, sigma2_j, S^2) -> (k alpha, k^2 sigma2_j, k^2 S^2) for BayesB,
(alpha, tau2_j, lambda2) -> (k alpha, k^2 tau2_j, lambda2 / k^2) for the Bayesian LASSO and
(alpha, sigma2_alpha) -> (k alpha, k^2 sigma2_alpha) for BayesR (each prior's
``rescale_log_density`` gives the factor f(k) of the move's density besides the likelihood).
Quick tests check the bookkeeping and f(k) exactly; the statistical ones run the Geweke
harness with the move on vague hyperpriors (so that it does real work) and plant a wrong
Jacobian in each, which the harness must catch.
"""

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


# Vague enough hyperpriors that the move does real work; df = 10 > 8 keeps fourth moments finite.
def lasso():
    return bg.LassoPrior(lambda2=bg.Gamma(4.0, 0.1))


def bayes_b():
    return bg.BayesBPrior(pi=0.4, df=10.0, scale=bg.Gamma(4.0, 80.0))


def bayes_r():
    # pi_move=False: the rescaling move alone (the proportion moves, which also move sigma2_alpha,
    # dilute a wrong rescaling until the harness misses it; tests/test_pi_move.py tests them).
    return bg.BayesRPrior(
        gamma=(0.0, 0.1, 1.0), dirichlet=(2.0, 2.0, 2.0), prior=bg.ScaledInvChi2(df=10.0, scale=0.1), pi_move=False
    )


#: prior factory, the hyperparameter the move scales, and the power of k it is scaled by.
PRIORS = {"BayesLasso": (lasso, "lambda2", -2), "BayesB": (bayes_b, "scale", 2), "BayesR": (bayes_r, "sigma2_alpha", 2)}


@pytest.mark.parametrize("name", list(PRIORS))
def test_rescale_move_scales_effects_hyperparameters_and_residual_exactly(population, name):
    make, key, power = PRIORS[name]
    model = marker_model(population, make())
    gibbs = Gibbs(model)
    rng = np.random.default_rng(4)
    chain = gibbs.init(rng)
    for _ in range(5):
        gibbs.step(rng, chain)
    term, state = model.terms[1], chain.states[1]
    before = {
        "alpha": state["alpha"].copy(),
        "var": state["prior"]["var_alpha"].copy(),
        "hyper": state["prior"][key][0],
        "gv": state["genetic_values"].copy(),
        "resid": chain.ctx.resid.copy(),
    }
    # The move is a Metropolis step: try seeds until one proposal is accepted.
    assert any(
        GroupMove(1, term.group_action()).move(np.random.default_rng(seed), state, chain.ctx) for seed in range(200)
    )
    nonzero = np.flatnonzero(before["alpha"])
    k = state["alpha"][nonzero[0]] / before["alpha"][nonzero[0]]
    assert k != 1.0
    np.testing.assert_allclose(state["alpha"], k * before["alpha"], rtol=1e-12)
    assert np.array_equal(state["alpha"] == 0, before["alpha"] == 0)  # spike-and-slab: classes do not move
    np.testing.assert_allclose(state["prior"]["var_alpha"], k * k * before["var"], rtol=1e-12)
    np.testing.assert_allclose(state["prior"][key][0], k**power * before["hyper"], rtol=1e-12)
    np.testing.assert_allclose(state["genetic_values"], k * before["gv"], rtol=1e-12)
    moved = chain.ctx.resid.copy()
    gibbs.refresh_residual(chain)  # y minus every term's fit, rebuilt from scratch
    np.testing.assert_allclose(moved, chain.ctx.resid, atol=1e-10)
    assert not np.allclose(moved, before["resid"])


def test_lasso_rescale_density_is_the_gamma_prior_of_lambda2_over_k2_with_its_jacobian():
    prior = bg.LassoPrior(lambda2=bg.Gamma(1.1, 0.002))
    state = {"lambda2": np.array([600.0]), "var_alpha": np.ones(3)}
    for k in (0.5, 1.3):
        expected = -(2 * 1.1 + 1) * np.log(k) - 0.002 * 600.0 * (1.0 / (k * k) - 1.0)
        got = prior.rescale_log_density(state, k) - prior.rescale_log_density(state, 1.0)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bayes_b_rescale_density_is_the_gamma_prior_of_the_scale_with_its_jacobian():
    prior = bg.BayesBPrior(pi=0.1, scale=bg.Gamma(1.1, 300.0))
    state = {"scale": np.array([0.004]), "var_alpha": np.ones(3)}
    for k in (0.5, 1.3):
        expected = (2 * 1.1 - 1) * np.log(k) - 300.0 * (k * k - 1.0) * 0.004
        got = prior.rescale_log_density(state, k) - prior.rescale_log_density(state, 1.0)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bayes_r_rescale_density_is_the_scaled_inv_chi2_prior_with_its_jacobian():
    prior = bg.BayesRPrior(prior=bg.ScaledInvChi2(df=5.0, scale=0.3))
    state = {"sigma2_alpha": np.array([0.8]), "var_alpha": np.ones(3)}
    for k in (0.5, 1.3):
        expected = -(5.0 + 1.0) * np.log(k) - 0.5 * 5.0 * 0.3 / 0.8 * (1.0 / (k * k) - 1.0)
        got = prior.rescale_log_density(state, k) - prior.rescale_log_density(state, 1.0)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "sampled, fixed",
    [
        (lasso(), bg.LassoPrior(lambda2=40.0)),
        (bayes_b(), bg.BayesBPrior(pi=0.4, scale=0.05)),
        (bayes_r(), bg.BayesRPrior(prior=0.2)),
    ],
    ids=list(PRIORS),
)
def test_move_runs_only_with_a_sampled_hyperparameter_and_expand(population, sampled, fixed):
    import copy

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
class LassoWithoutJacobian(bg.LassoPrior):
    """A planted error: the LASSO rescaling density without its Jacobian factor k^-3."""

    def rescale_log_density(self, state, factor):
        return self.lambda2_prior.log_density(state["lambda2"][0] / (factor * factor))


class BayesBWithoutJacobian(bg.BayesBPrior):
    """A planted error: BayesB's rescaling density without its factor k."""

    def rescale_log_density(self, state, factor):
        return self.scale_prior.log_density(factor * factor * state["scale"][0])


class BayesRWithoutJacobian(bg.BayesRPrior):
    """A planted error: BayesR's rescaling density without its factor k."""

    def rescale_log_density(self, state, factor):
        return self.variance_prior.log_density(factor * factor * state["sigma2_alpha"][0])


N_MARGINAL, N_SUCCESSIVE = 6000, 20000


@pytest.mark.statistical
@pytest.mark.parametrize("name", list(PRIORS))
def test_geweke_with_rescaling(population, name):
    from geweke import geweke_test

    result = geweke_test(
        marker_model(population, PRIORS[name][0]()), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=5
    )
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
@pytest.mark.parametrize(
    "name, planted",
    [
        ("BayesLasso", LassoWithoutJacobian(lambda2=bg.Gamma(4.0, 0.1))),
        ("BayesB", BayesBWithoutJacobian(pi=0.4, df=10.0, scale=bg.Gamma(4.0, 80.0))),
        (
            "BayesR",
            BayesRWithoutJacobian(
                gamma=(0.0, 0.1, 1.0),
                dirichlet=(2.0, 2.0, 2.0),
                prior=bg.ScaledInvChi2(df=10.0, scale=0.1),
                pi_move=False,
            ),
        ),
    ],
    ids=list(PRIORS),
)
def test_geweke_catches_a_wrong_rescaling_jacobian(population, name, planted):
    from geweke import geweke_test

    result = geweke_test(marker_model(population, planted), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=5)
    print(result)
    key = PRIORS[name][1]
    assert not result.passed
    # ... and it points at the moved hyperparameter: its mean or mean square has the largest |z|.
    z = result.table["z"].abs()
    assert max(z[f"E[{key}]"], z[f"E[{key}^2]"]) == z.max(), str(result)


class BayesBScaleGivenAllMarkers(bg.BayesBPrior):
    """A planted error: the scale's shape counts every marker while its rate sums over the included ones."""

    def update(self, rng, alpha, state):
        alpha = alpha[:, 0]  # one trait (the effects are markers x traits)
        nu, variances = self.df, state["var_alpha"]
        included = alpha != 0.0
        n_included = int(included.sum())
        variances[included] = (nu * state["scale"][0] + alpha[included] ** 2) / rng.chisquare(nu + 1.0, size=n_included)
        shape = self.scale_prior.shape + 0.5 * alpha.size * nu
        rate = self.scale_prior.rate + 0.5 * nu * np.sum(1.0 / variances[included])
        scale = state["scale"][0] = rng.gamma(shape, 1.0 / rate)
        variances[~included] = nu * scale / rng.chisquare(nu, size=alpha.size - n_included)
        self.inclusion.update(rng, state, alpha.size)


@pytest.mark.statistical
def test_geweke_catches_a_wrong_bayes_b_scale_block(population):
    """BayesB draws S^2 with the excluded markers' variances integrated out: a wrong count there must fail."""
    from geweke import geweke_test

    planted = BayesBScaleGivenAllMarkers(pi=0.4, df=10.0, scale=bg.Gamma(4.0, 80.0))
    result = geweke_test(marker_model(population, planted), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=5)
    print(result)
    assert not result.passed
    z = result.table["z"].abs()
    assert max(z["E[scale]"], z["E[scale^2]"]) == z.max(), str(result)
