"""The joint rescaling move of marker effects and their prior's scale (BayesA): exactness and errors.

The move (the group move of a Markers term (``Markers.group_action``, ``bayesgen.sampler.group_move``)) is the non-centred (interweaving) update of BayesA's
scale S^2: (alpha, sigma2_j, S^2) -> (k alpha, k^2 sigma2_j, k^2 S^2). Quick tests check
its bookkeeping exactly; the statistical ones run the Geweke harness on it and plant a
wrong Jacobian, which the harness must catch.
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


def bayes_a_model(population, prior, expand=True):
    data, genotypes = population
    return bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior, expand=expand)],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.5),
        sampler="single-site",
    )


def test_rescale_move_scales_effects_variances_and_residual_exactly(population):
    model = bayes_a_model(population, bg.BayesAPrior(df=5.0, scale=bg.Gamma(4.0, 80.0)))
    gibbs = Gibbs(model)
    rng = np.random.default_rng(4)
    chain = gibbs.init(rng)
    for _ in range(3):
        gibbs.step(rng, chain)
    term = model.terms[1]
    state = chain.states[1]
    before = {
        "alpha": state["alpha"].copy(),
        "var": state["prior"]["var_alpha"].copy(),
        "scale": state["prior"]["scale"][0],
        "gv": state["genetic_values"].copy(),
        "resid": chain.ctx.resid.copy(),
    }
    # Seed 3 proposes a k that is accepted (the move is a Metropolis step).
    assert GroupMove(1, term.group_action()).move(np.random.default_rng(3), state, chain.ctx)
    k = state["alpha"][0] / before["alpha"][0]
    assert k != 1.0
    np.testing.assert_allclose(state["alpha"], k * before["alpha"], rtol=1e-12)
    np.testing.assert_allclose(state["prior"]["var_alpha"], k * k * before["var"], rtol=1e-12)
    np.testing.assert_allclose(state["prior"]["scale"][0], k * k * before["scale"], rtol=1e-12)
    np.testing.assert_allclose(state["genetic_values"], k * before["gv"], rtol=1e-12)
    # The residual is still y minus every term's fit: compare with one rebuilt from scratch.
    moved = chain.ctx.resid.copy()
    gibbs.refresh_residual(chain)
    np.testing.assert_allclose(moved, chain.ctx.resid, atol=1e-10)
    assert not np.allclose(moved, before["resid"])


def test_rescale_log_density_is_the_gamma_prior_with_its_jacobian():
    prior = bg.BayesAPrior(df=5.0, scale=bg.Gamma(1.1, 300.0))
    state = {"scale": np.array([0.004]), "var_alpha": np.ones(3)}
    for k in (0.5, 1.3):
        expected = (2 * 1.1 - 1) * np.log(k) - 300.0 * (k * k - 1.0) * 0.004
        got = prior.rescale_log_density(state, k) - prior.rescale_log_density(state, 1.0)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_moves_are_recorded_only_with_a_sampled_scale_and_expand(population):
    sampled = bayes_a_model(population, bg.BayesAPrior(scale=bg.Gamma(4.0, 80.0)))
    fixed = bayes_a_model(population, bg.BayesAPrior(scale=0.05))
    off = bayes_a_model(population, bg.BayesAPrior(scale=bg.Gamma(4.0, 80.0)), expand=False)
    rng = np.random.default_rng(0)
    infos = []
    for model in (sampled, fixed, off):
        gibbs = Gibbs(model)
        chain = gibbs.init(rng)
        infos.append(gibbs.step(rng, chain))
    assert set(infos[0]) == {"rescale_accept_markers"}
    assert infos[1] == {} and infos[2] == {}
    assert [v.name for b in sampled.blocks for v in b.info_variables()] == ["rescale_accept_markers"]


def test_expand_must_be_boolean(population):
    _, genotypes = population
    with pytest.raises(TypeError, match="Markers expand must be True or False, got 'yes'"):
        bg.Markers("id", genotypes, expand="yes")


# ---------------------------------------------------------------------- joint-distribution tests
class WrongJacobian(bg.BayesAPrior):
    """A planted error: the rescaling density without its Jacobian factor k."""

    def rescale_log_density(self, state, factor):
        return self.scale_prior.log_density(factor * factor * state["scale"][0])


@pytest.mark.statistical
def test_geweke_bayes_a_with_rescaling(population):
    from geweke import geweke_test

    # A vaguer scale prior than test_geweke's so that the move does real work.
    result = geweke_test(
        bayes_a_model(population, bg.BayesAPrior(df=10.0, scale=bg.Gamma(4.0, 80.0))),
        n_marginal=6000,
        n_successive=20000,
        seed=3,
    )
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_catches_a_wrong_rescaling_jacobian(population):
    from geweke import geweke_test

    result = geweke_test(
        bayes_a_model(population, WrongJacobian(df=10.0, scale=bg.Gamma(4.0, 80.0))),
        n_marginal=6000,
        n_successive=20000,
        seed=3,
    )
    print(result)
    assert not result.passed
    assert abs(result.table.loc["E[scale]", "z"]) > 2.5 * result.threshold, str(result)
