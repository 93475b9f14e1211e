"""BayesCpi's move along the pi-sigma2_alpha ridge (``BayesCPrior.ridge_move``, issue 23 item 3).

The move proposes logit(pi*) = logit(pi) + eps and sigma2* = sigma2 pi / pi*, redraws every
(delta_j, alpha_j) by one sweep at the proposal in a random direction, and accepts with the prior
ratio, the Jacobian and the sweep's sum of log prior-predictive ratios. Quick tests: the
bookkeeping (accepted: pi sigma2 kept, residual consistent; rejected: everything restored bit for
bit) and the options. Statistical: the Geweke harness with the move alone (no rescaling move),
and a planted error (the sweep's ratio left out of the acceptance) that it must catch.
"""

import numpy as np
import pytest

import bayesgen as bg
from bayesgen.sampler import Gibbs


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=20, seed=11)
    data = sim.phenotypes.set_index("id", drop=False)
    data.loc[data.index[:2], "y"] = np.nan
    return data, sim.genotypes


@pytest.fixture(scope="module")
def informative():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=60, n_markers=10, seed=11)
    return sim.phenotypes.set_index("id", drop=False), sim.genotypes


def informative_model(informative, prior):
    data, genotypes = informative
    return bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior, expand=False)],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.3),
        sampler="single-site",
    )


def bayes_c_pi(**options):
    return bg.BayesCPrior(pi=bg.Beta(2.0, 2.0), prior=bg.ScaledInvChi2(df=10.0, scale=0.1), **options)


def marker_model(population, prior, expand=False):
    data, genotypes = population
    return bg.Model(
        data,
        "y",
        [bg.Fixed(prior=0.25), bg.Markers("id", genotypes, prior=prior, expand=expand)],
        sigma2_e=bg.ScaledInvChi2(df=12.0, scale=0.5),
        sampler="single-site",
    )


def _chain(population, prior):
    model = marker_model(population, prior)
    gibbs = Gibbs(model)
    rng = np.random.default_rng(4)
    chain = gibbs.init(rng)
    for _ in range(5):
        gibbs.step(rng, chain)
    return model, gibbs, chain


def test_an_accepted_move_keeps_pi_times_sigma2_and_the_residual_consistent(population):
    model, gibbs, chain = _chain(population, bayes_c_pi(pi_step=2.0))
    term, state = model.terms[1], chain.states[1]
    prior, prior_state = term.prior, state["prior"]
    args = _move_arguments(chain, term, state)
    accepted = rejected = 0
    for seed in range(200):
        before = {
            "alpha": state["alpha"].copy(),
            "resid": chain.ctx.resid.copy(),
            "gv": state["genetic_values"].copy(),
            "pi": prior_state["pi"][0],
            "sigma2": prior_state["sigma2_alpha"][0, 0],
            "n_included": int(prior_state["n_included"][0]),
        }
        if prior.ridge_move(np.random.default_rng(seed), state["alpha"], prior_state, *args):
            accepted += 1
            assert prior_state["pi"][0] != before["pi"]
            np.testing.assert_allclose(
                prior_state["pi"][0] * prior_state["sigma2_alpha"][0, 0], before["pi"] * before["sigma2"], rtol=1e-12
            )
            np.testing.assert_array_equal(prior_state["var_alpha"], prior_state["sigma2_alpha"][0, 0])
            assert prior_state["n_included"][0] == np.count_nonzero(state["alpha"])
            moved = chain.ctx.resid.copy()
            gibbs.refresh_residual(chain)  # y minus every term's fit, rebuilt from scratch
            np.testing.assert_allclose(moved, chain.ctx.resid, atol=1e-10)
        else:
            rejected += 1
            assert np.array_equal(state["alpha"], before["alpha"])
            assert np.array_equal(chain.ctx.resid, before["resid"])
            assert np.array_equal(state["genetic_values"], before["gv"])
            assert prior_state["pi"][0] == before["pi"] and prior_state["sigma2_alpha"][0, 0] == before["sigma2"]
            np.testing.assert_array_equal(prior_state["var_alpha"], before["sigma2"])
            assert prior_state["n_included"][0] == before["n_included"]
    assert accepted > 0 and rejected > 0


def test_the_move_runs_only_for_one_trait_bayes_c_pi_with_a_sampled_slab(population):
    data, genotypes = population
    cases = {True: bayes_c_pi(), False: bayes_c_pi(pi_move=False)}
    cases["fixed pi"] = bg.BayesCPrior(pi=0.3, prior=bg.ScaledInvChi2(df=10.0, scale=0.1))
    cases["fixed slab"] = bg.BayesCPrior(pi=bg.Beta(2.0, 2.0), prior=0.1)
    expected = {True: True, False: False, "fixed pi": False, "fixed slab": False}
    for key, prior in cases.items():
        assert marker_model(population, prior).term(bg.Markers).prior.moves_pi is expected[key], key
    two = data.assign(y2=data["y"] * 0.5 + 1.0)
    model = bg.Model(two, ["y", "y2"], [bg.Markers("id", genotypes, prior=bg.BayesCPrior(pi=bg.Beta(2.0, 2.0)))])
    assert not model.term(bg.Markers).prior.moves_pi


def test_pi_move_options_are_checked():
    with pytest.raises(TypeError, match=r"BayesC pi_move must be True or False, got 'yes'"):
        bg.BayesCPrior(pi=bg.Beta(1.0, 1.0), pi_move="yes")
    with pytest.raises(ValueError, match=r"BayesC pi_step must be finite and > 0, got 0"):
        bg.BayesCPrior(pi=bg.Beta(1.0, 1.0), pi_step=0)


# ---------------------------------------------------------------------- joint-distribution tests
N_MARGINAL, N_SUCCESSIVE = 6000, 20000


@pytest.mark.statistical
def test_geweke_with_the_pi_move(population):
    from geweke import geweke_test

    result = geweke_test(
        marker_model(population, bayes_c_pi(pi_step=1.5)), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=7
    )
    print(result)
    assert result.passed, str(result)


class BayesCWithoutMoveJacobian(bg.BayesCPrior):
    """A planted error: the move's acceptance without the Jacobian of (logit pi, log sigma2_alpha)."""

    @staticmethod
    def _log_jacobian(pi, sigma2):
        return 0.0


@pytest.mark.statistical
def test_geweke_catches_a_pi_move_without_its_jacobian(population):
    from geweke import geweke_test

    planted = BayesCWithoutMoveJacobian(pi=bg.Beta(2.0, 2.0), prior=bg.ScaledInvChi2(df=10.0, scale=0.1), pi_step=1.5)
    result = geweke_test(marker_model(population, planted), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=7)
    print(result)
    assert not result.passed
    z = result.table["z"].abs()
    assert max(z["E[pi]"], z["E[pi^2]"], z["E[sigma2_alpha]"], z["E[sigma2_alpha^2]"]) > result.threshold, str(result)


def informative_prior():
    return bg.BayesCPrior(pi=bg.Beta(2.0, 2.0), prior=bg.ScaledInvChi2(df=10.0, scale=0.5), pi_step=1.5)


@pytest.mark.statistical
def test_geweke_with_the_pi_move_on_informative_data(informative):
    from geweke import geweke_test

    # These data pin the effects: the successive chain keeps an ESS of about 100 of 20,000
    # iterations, too few for batch means to estimate its standard error, so (as for the other
    # slow-mixing routes) 16 independent chains and the between-chain standard error.
    result = geweke_test(
        informative_model(informative, informative_prior()),
        n_marginal=N_MARGINAL,
        n_successive=N_SUCCESSIVE,
        seed=9,
        n_chains=16,
    )
    print(result)
    assert result.passed, str(result)


# ---------------------------------------------------------------------- BayesB's ridge move, BayesR's proportion move
def bayes_b_pi(**options):
    return bg.BayesBPrior(pi=bg.Beta(2.0, 2.0), df=10.0, scale=bg.Gamma(20.0, 400.0), **options)


def bayes_r(**options):
    return bg.BayesRPrior(
        gamma=(0.0, 0.1, 1.0), dirichlet=(2.0, 2.0, 2.0), prior=bg.ScaledInvChi2(df=12.0, scale=0.2), **options
    )


def _move_arguments(chain, term, state):
    return (
        term.codes,
        term.lookup,
        term.xx,
        term.code_stats,
        chain.ctx.resid,
        chain.ctx.weights[:, 0],
        state["genetic_values"],
        chain.ctx.residual_covariance,
    )


def _snapshot(chain, state):
    return {
        "alpha": state["alpha"].copy(),
        "resid": chain.ctx.resid.copy(),
        "gv": state["genetic_values"].copy(),
        **{key: np.array(value, copy=True) for key, value in state["prior"].items()},
    }


def _assert_restored(chain, state, before):
    assert np.array_equal(state["alpha"], before["alpha"])
    assert np.array_equal(chain.ctx.resid, before["resid"])
    assert np.array_equal(state["genetic_values"], before["gv"])
    for key, value in state["prior"].items():
        assert np.array_equal(value, before[key]), key


def _assert_consistent(gibbs, chain, state):
    moved = chain.ctx.resid.copy()
    gibbs.refresh_residual(chain)  # y minus every term's fit, rebuilt from scratch
    np.testing.assert_allclose(moved, chain.ctx.resid, atol=1e-10)


def test_bayes_b_ridge_move_keeps_pi_times_scale_and_scales_every_marker_variance(population):
    model, gibbs, chain = _chain(population, bayes_b_pi(pi_step=2.0))
    term, state = model.terms[1], chain.states[1]
    prior, prior_state = term.prior, state["prior"]
    assert prior.moves_pi
    accepted = rejected = 0
    for seed in range(200):
        before = _snapshot(chain, state)
        if prior.ridge_move(
            np.random.default_rng(seed), state["alpha"], prior_state, *_move_arguments(chain, term, state)
        ):
            accepted += 1
            factor = before["pi"][0] / prior_state["pi"][0]
            assert factor != 1.0
            np.testing.assert_allclose(prior_state["scale"][0], before["scale"][0] * factor, rtol=1e-12)
            np.testing.assert_allclose(prior_state["var_alpha"], before["var_alpha"] * factor, rtol=1e-12)
            assert prior_state["n_included"][0] == np.count_nonzero(state["alpha"])
            _assert_consistent(gibbs, chain, state)
        else:
            rejected += 1
            _assert_restored(chain, state, before)
    assert accepted > 0 and rejected > 0


def test_bayes_r_proportion_move_keeps_the_variance_per_marker_and_the_classes_consistent(population):
    model, gibbs, chain = _chain(population, bayes_r(pi_step=2.0))
    term, state = model.terms[1], chain.states[1]
    prior, prior_state = term.prior, state["prior"]
    accepted = rejected = 0
    for seed in range(200):
        before = _snapshot(chain, state)
        if prior.proportion_move(
            np.random.default_rng(seed), state["alpha"], prior_state, *_move_arguments(chain, term, state)
        ):
            accepted += 1
            assert not np.array_equal(prior_state["pi"], before["pi"])
            np.testing.assert_allclose(prior_state["pi"].sum(), 1.0, rtol=1e-12)
            np.testing.assert_allclose(  # sigma2_alpha * sum_k pi_k gamma_k is kept
                prior_state["sigma2_alpha"][0] * (prior_state["pi"] @ prior.gamma),
                before["sigma2_alpha"][0] * (before["pi"] @ prior.gamma),
                rtol=1e-12,
            )
            np.testing.assert_array_equal(prior_state["classes"] > 0, state["alpha"][:, 0] != 0.0)
            _assert_consistent(gibbs, chain, state)
        else:
            rejected += 1
            _assert_restored(chain, state, before)
    assert accepted > 0 and rejected > 0


def test_the_bayes_b_and_bayes_r_moves_run_only_when_asked_and_check_their_options(population):
    assert not marker_model(population, bayes_b_pi(pi_move=False)).term(bg.Markers).prior.moves_pi
    fixed_pi = bg.BayesBPrior(pi=0.3, df=10.0, scale=bg.Gamma(20.0, 400.0))
    assert not marker_model(population, fixed_pi).term(bg.Markers).prior.moves_pi
    assert (
        not marker_model(population, bg.BayesBPrior(pi=bg.Beta(2.0, 2.0), scale=0.05)).term(bg.Markers).prior.moves_pi
    )
    with pytest.raises(TypeError, match=r"BayesB pi_move must be True or False, got 1"):
        bg.BayesBPrior(pi_move=1)
    with pytest.raises(ValueError, match=r"BayesB pi_step must be finite and > 0, got -1"):
        bg.BayesBPrior(pi_step=-1)
    with pytest.raises(TypeError, match=r"BayesR pi_move must be True or False, got 'no'"):
        bg.BayesRPrior(pi_move="no")
    with pytest.raises(ValueError, match=r"BayesR pi_step must be finite and > 0, got inf"):
        bg.BayesRPrior(pi_step=float("inf"))
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match=rf"BayesR pi_moves must be an integer >= 1, got {bad!r}"):
            bg.BayesRPrior(pi_moves=bad)


class BayesBWithoutMoveJacobian(bg.BayesBPrior):
    """A planted error: the ridge move's acceptance without the Jacobian of (logit pi, log S^2)."""

    @staticmethod
    def _log_jacobian(pi, scale):
        return 0.0


class BayesRWithoutMoveJacobian(bg.BayesRPrior):
    """A planted error: the proportion move's acceptance without the Jacobian of (logit u, log sigma2_alpha)."""

    @staticmethod
    def _log_jacobian(share, sigma2):
        return 0.0


MOVES = {
    "BayesB": (bayes_b_pi, BayesBWithoutMoveJacobian, ("E[pi]", "E[pi^2]", "E[scale]", "E[scale^2]")),
    "BayesR": (bayes_r, BayesRWithoutMoveJacobian, ("E[pi[0]]", "E[pi[1]]", "E[pi[2]]", "E[sigma2_alpha]")),
}


@pytest.mark.statistical
@pytest.mark.parametrize("name", sorted(MOVES))
def test_geweke_with_the_bayes_b_and_bayes_r_moves(population, name):
    """The move alone beside the Gibbs updates (no rescaling move: ``expand=False``)."""
    from geweke import geweke_test

    prior = MOVES[name][0](pi_step=1.5)
    result = geweke_test(marker_model(population, prior), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=12)
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
@pytest.mark.parametrize("name", sorted(MOVES))
def test_geweke_catches_the_bayes_b_and_bayes_r_moves_without_their_jacobian(population, name):
    from geweke import geweke_test

    _, planted_class, functions = MOVES[name]
    if name == "BayesB":
        planted = planted_class(pi=bg.Beta(2.0, 2.0), df=10.0, scale=bg.Gamma(20.0, 400.0), pi_step=1.5)
    else:
        planted = planted_class(
            gamma=(0.0, 0.1, 1.0), dirichlet=(2.0, 2.0, 2.0), prior=bg.ScaledInvChi2(df=12.0, scale=0.2), pi_step=1.5
        )
    result = geweke_test(marker_model(population, planted), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=12)
    print(result)
    assert not result.passed
    z = result.table["z"].abs()
    assert max(z[f] for f in functions if f in z) > result.threshold, str(result)
