"""The scale move (``bayesgen.sampler.scale_move``): which models get it, what one move does.

Its joint-distribution (Geweke) tests, with planted errors, are in ``test_threshold_geweke.py``.
"""

import numpy as np
import pytest
from scipy import stats

import bayesgen as bg
from bayesgen.sampler.gibbs import Gibbs
from bayesgen.sampler.scale_move import ScaleMove


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=10, n_generations=2, n_offspring=20, n_markers=30, seed=5)
    data = sim.phenotypes.set_index("id", drop=False)
    data["b"] = (data["y"] > data["y"].median()).astype(float)
    data["o"] = np.digitize(data["y"], np.quantile(data["y"], [0.3, 0.7])).astype(float)
    data.loc[data.index[:2], ["b", "o"]] = np.nan
    return data, sim


def scale_moves(model):
    return [b for b in model.blocks if isinstance(b, ScaleMove)]


def test_threshold_models_get_the_move_and_gaussian_ones_do_not(population):
    data, sim = population
    terms = [bg.Fixed(), bg.Animal("id", sim.pedigree_object())]
    assert len(scale_moves(bg.Model(data, "b", terms, family="threshold"))) == 1
    assert scale_moves(bg.Model(data, "y", terms)) == []
    assert scale_moves(bg.Model(data, "b", terms, family=bg.Threshold(scale_move=False))) == []
    described = bg.Model(data, "b", terms, family="threshold").describe()["sampler"]
    assert {"block": "scale move", "terms": 3} in described


def test_a_term_without_a_scaling_turns_the_move_off(population):
    """Markers with a fixed common variance declare no scaling: no move (rather than a wrong one)."""
    data, sim = population
    fixed = bg.Markers("id", sim.genotypes, prior=bg.RidgePrior(prior=0.01))
    sampled = bg.Markers("id", sim.genotypes, prior=bg.RidgePrior())
    assert scale_moves(bg.Model(data, "b", [bg.Fixed(), fixed], family="threshold")) == []
    assert len(scale_moves(bg.Model(data, "b", [bg.Fixed(), sampled], family="threshold"))) == 1


def test_scale_move_option_is_checked():
    with pytest.raises(TypeError, match="scale_move must be True or False, got 'yes'"):
        bg.Threshold(scale_move="yes")


def _chain(model, seed=3, iterations=20):
    gibbs = Gibbs(model)
    rng = np.random.default_rng(seed)
    chain = gibbs.init(rng)
    for _ in range(iterations):
        gibbs.step(rng, chain, tuning=True)
    return gibbs, chain, rng


@pytest.mark.parametrize("trait", ["b", "o"])
def test_one_move_scales_every_part_and_keeps_the_residual(population, trait):
    """An accepted move multiplies effects, liabilities and cut-points by k and variances by k^2;
    the residual stays the working response minus every term's fit."""
    data, sim = population
    model = bg.Model(
        data,
        trait,
        [
            bg.Fixed(["sex"]),
            bg.Animal("id", sim.pedigree_object()),
            bg.Markers("id", sim.genotypes, prior=bg.BayesAPrior()),
        ],
        family="threshold",
    )
    gibbs, chain, rng = _chain(model)
    (move,) = scale_moves(model)
    before = [
        {key: np.copy(value) for key, value in state.items() if isinstance(value, np.ndarray)} for state in chain.states
    ]
    before_prior = {key: np.copy(v) for key, v in chain.states[2]["prior"].items()}
    accepted = False
    for seed in range(20):
        saved = chain.ctx.resid.copy()
        accepted = move.move(np.random.default_rng(seed), chain.states, chain.ctx)
        if accepted:
            break
    assert accepted
    k = float(chain.states[0]["beta"][0, 0] / before[0]["beta"][0, 0])
    assert k > 0 and k != 1.0
    np.testing.assert_allclose(chain.states[0]["beta"], k * before[0]["beta"], rtol=1e-12)
    np.testing.assert_allclose(chain.states[1]["u"], k * before[1]["u"], rtol=1e-12)
    np.testing.assert_allclose(chain.states[1]["sigma2"], k * k * before[1]["sigma2"], rtol=1e-12)
    np.testing.assert_allclose(chain.states[2]["alpha"], k * before[2]["alpha"], rtol=1e-12)
    np.testing.assert_allclose(chain.states[2]["prior"]["var_alpha"], k * k * before_prior["var_alpha"], rtol=1e-12)
    np.testing.assert_allclose(chain.states[3]["y"], k * before[3]["y"], rtol=1e-12)
    np.testing.assert_allclose(chain.states[3]["cutpoints"], k * before[3]["cutpoints"], rtol=1e-12)
    np.testing.assert_allclose(chain.ctx.resid, k * saved, rtol=1e-12)
    expected = chain.states[3]["y"] - gibbs.linear_predictor(chain)
    np.testing.assert_allclose(chain.ctx.resid, expected, atol=1e-10)


def test_with_gaussian_parts_only_the_move_is_an_exact_gibbs_draw(population):
    """Flat fixed effects, a random term with a fixed variance and a binary trait: every factor of
    the move's target is in its gamma proposal, so every move is accepted and k^2 is
    Gamma((n + p + L)/2, rate Q/2), Q the weighted residual and effect quadratic (a KS test on
    2,000 moves from one state)."""
    data, sim = population
    model = bg.Model(data, "b", [bg.Fixed(), bg.Random("id", prior=bg.FixedVariance(0.3))], family="threshold")
    gibbs, chain, rng = _chain(model)
    (move,) = scale_moves(model)
    n_records = int(np.sum(~np.isnan(data["b"])))
    n_levels = chain.states[1]["u"].size
    u = chain.states[1]["u"]
    rows = model.likelihood.observed_rows
    quadratic = float(np.sum(chain.ctx.resid[rows, 0] ** 2) + np.sum(u**2) / 0.3)
    shape = 0.5 * (n_records + 1 + n_levels)
    draws = []
    for seed in range(2000):
        states = [{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()} for s in chain.states]
        ctx = type(chain.ctx)(chain.ctx.resid.copy(), chain.ctx.weights, chain.ctx.likelihood, states[-1])
        beta = float(states[0]["beta"][0, 0])
        assert move.move(np.random.default_rng(seed), states, ctx)
        draws.append((float(states[0]["beta"][0, 0]) / beta) ** 2)
    result = stats.kstest(draws, stats.gamma(shape, scale=2.0 / quadratic).cdf)
    assert result.pvalue > 0.001, result


# ---------------------------------------------------------------------- the marginal group move
def marginal_moves(model):
    from bayesgen.sampler.marginal_group_move import MarginalGroupMove

    return [b for b in model.blocks if isinstance(b, MarginalGroupMove)]


def test_marginal_moves_are_built_per_term_with_a_scalar_group_action(population):
    data, sim = population
    terms = [
        bg.Fixed(),
        bg.Animal("id", sim.pedigree_object()),
        bg.Markers("id", sim.genotypes, prior=bg.BayesAPrior()),
    ]
    moves = marginal_moves(bg.Model(data, "b", terms, family="threshold"))
    assert [m.action.name for m in moves] == [terms[1].name, terms[2].name]
    assert marginal_moves(bg.Model(data, "b", terms, family=bg.Threshold(marginal_moves=False))) == []
    assert marginal_moves(bg.Model(data, "y", terms)) == []
    with pytest.raises(TypeError, match="marginal_moves must be True or False, got 1"):
        bg.Threshold(marginal_moves=1)


def test_an_accepted_marginal_move_scales_the_term_and_redraws_the_liabilities(population):
    """A move standing alone (``redraw``) redraws the liabilities after it is accepted."""
    data, sim = population
    model = bg.Model(data, "o", [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object())], family="threshold")
    gibbs, chain, rng = _chain(model)
    (built,) = marginal_moves(model)
    block_state = chain.blocks[model.blocks.index(built)]
    move = type(built)(built.index, built.action, built.likelihood_index, built.likelihood, redraw=True)
    u, sigma2 = chain.states[1]["u"].copy(), chain.states[1]["sigma2"].copy()
    liabilities = chain.states[2]["y"].copy()
    for seed in range(50):
        if move.step(np.random.default_rng(seed), chain.states, block_state, chain.ctx)[move.info_name]:
            break
    else:
        pytest.fail("no marginal move accepted in 50 tries")
    k = float(chain.states[1]["u"][0, 0] / u[0, 0])
    np.testing.assert_allclose(chain.states[1]["u"], k * u, rtol=1e-12)
    np.testing.assert_allclose(chain.states[1]["sigma2"], k * k * sigma2, rtol=1e-12)
    rows = model.likelihood.observed_rows
    assert not np.array_equal(chain.states[2]["y"][rows], liabilities[rows])
    edges = model.likelihood._edges(chain.states[2]["cutpoints"])
    category = chain.states[2]["category"]
    assert np.all(chain.states[2]["y"][rows, 0] > edges[category]) and np.all(
        chain.states[2]["y"][rows, 0] <= edges[category + 1]
    )
    np.testing.assert_allclose(chain.ctx.resid, chain.states[2]["y"] - gibbs.linear_predictor(chain), atol=1e-10)
    assert block_state["moves"][1] >= 1


def test_built_marginal_moves_run_just_before_the_likelihood_augmentation(population):
    """The model's marginal moves do not redraw the liabilities themselves: they come last before
    the likelihood's block, with nothing but marginal moves between (``MarginalGroupMove.redraw``)."""
    data, sim = population
    terms = [
        bg.Fixed(),
        bg.Animal("id", sim.pedigree_object()),
        bg.Markers("id", sim.genotypes, prior=bg.BayesAPrior()),
    ]
    for sampler in ("single-site", "joint", "collapsed"):
        model = bg.Model(data, "b", terms, family="threshold", sampler=sampler)
        kinds = [b.describe()["block"] for b in model.blocks]
        assert kinds[-3:-1] == ["marginal group move"] * 2 and kinds[-4] == "scale move", kinds
        assert all(not move.redraw for move in marginal_moves(model))
