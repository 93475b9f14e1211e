"""Replicated phenotypes of several traits (``posterior_predictive=True``): dims record x trait, NaN
where the record's trait is not observed, a threshold trait's category, and the replicates' law
given the parameters (N(mu_r, R); a category's probability)."""

import numpy as np
import pytest
from scipy.special import ndtr
from test_mixed_families import _stepped

import bayesgen as bg


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=15, n_generations=2, n_offspring=40, n_markers=0, h2=0.4, seed=5)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(7)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["weight"] = data["y"]
    data["length"] = 0.5 * data["y"] + rng.standard_normal(len(data))
    data["d1"] = (z + rng.standard_normal(len(data)) > 0.3).astype(float)
    data["score"] = np.digitize(z + rng.standard_normal(len(data)), [-0.5, 0.7]).astype(float)
    data.loc[data.index[:4], "weight"] = np.nan
    data.loc[data.index[4:8], "length"] = np.nan
    data.loc[data.index[8:12], "d1"] = np.nan
    return data, sim.pedigree_object()


def model_of(population, traits, families=None, posterior_predictive=True):
    data, pedigree = population
    return bg.Model(
        data,
        traits,
        [bg.Fixed(), bg.Animal("id", pedigree)],
        family=families or "gaussian",
        posterior_predictive=posterior_predictive,
    )


@pytest.mark.parametrize(
    "traits, families",
    [
        (["weight", "length"], None),
        (["weight", "d1", "score"], ["gaussian", "threshold", "threshold"]),
        (["d1", "score"], ["threshold", "threshold"]),
    ],
)
def test_replicates_have_the_observed_datas_shape_and_categories(population, traits, families):
    model = model_of(population, traits, families)
    idata = model.sample(draws=6, burn=4, chains=2, seed=1, progress=False, check_convergence=False)
    replicated = idata.posterior_predictive["y"]
    assert replicated.dims == ("chain", "draw", "record", "trait")
    assert list(replicated.coords["trait"].values) == traits
    observed = idata.observed_data["y"].values
    values = replicated.values
    np.testing.assert_array_equal(np.isnan(values), np.broadcast_to(np.isnan(observed), values.shape))
    for k, family in enumerate(families or ["gaussian"] * len(traits)):
        column = values[..., k][~np.isnan(values[..., k])]
        if family == "threshold":
            categories = np.unique(observed[:, k][~np.isnan(observed[:, k])])
            assert set(np.unique(column)) <= set(categories)
            assert len(np.unique(column)) == len(categories)  # every category replicated somewhere
        else:
            assert len(np.unique(column)) == column.size  # continuous values


def test_several_traits_replicate_only_when_asked(population):
    idata = model_of(population, ["weight", "length"], posterior_predictive=None).sample(
        draws=3, burn=2, chains=1, seed=1, progress=False, check_convergence=False
    )
    assert "posterior_predictive" not in idata.groups()


def test_gaussian_replicates_are_normal_around_mu_with_covariance_r(population):
    """Given the parameters, y_rep - mu ~ N(0, R): the replicates' sample covariance over 3,000
    redraws and every complete record, within 4 standard errors of each element."""
    model = model_of(population, ["weight", "length"])
    chain = _stepped(model, seed=3, steps=3)
    likelihood, state, ctx = model.likelihood, chain.states[-1], chain.ctx
    rows = likelihood.observed_rows
    mu = state["y"][rows] - ctx.resid[rows]
    complete = likelihood._observed_traits.all(axis=1)
    rng = np.random.default_rng(11)
    deviations = []
    for _ in range(3000):
        likelihood.draw_noise(rng, state)
        replicated = likelihood.record(state, ctx)[("posterior_predictive", "y")]
        deviations.append(replicated[complete] - mu[complete])
    deviations = np.concatenate(deviations)
    covariance = np.cov(deviations.T)
    r = state["sigma2_e"]
    n = deviations.shape[0]
    standard_error = np.sqrt((r * r + np.outer(np.diag(r), np.diag(r))) / n)
    assert np.all(np.abs(covariance - r) < 4 * standard_error)
    np.testing.assert_allclose(deviations.mean(axis=0), 0.0, atol=4 * np.sqrt(np.diag(r) / n).max())


def test_a_binary_replicate_is_one_with_probability_phi_of_its_conditional_mean(population):
    """Beside a Gaussian trait, a binary trait's replicate is 1 with probability Phi(mu_b): over
    4,000 redraws, each complete record's frequency within 4 binomial standard errors (Bonferroni
    over the records: 4.5)."""
    model = model_of(population, ["weight", "d1"], ["gaussian", "threshold"])
    chain = _stepped(model, seed=4, steps=3)
    likelihood, state, ctx = model.likelihood, chain.states[-1], chain.ctx
    state["sigma2_e"][:] = [[2.0, 0.8], [0.8, 1.0]]
    rows = likelihood.observed_rows
    mu = state["y"][rows] - ctx.resid[rows]
    has = likelihood._observed_traits[:, 1]
    rng = np.random.default_rng(12)
    draws = 4000
    ones = np.zeros(rows.size)
    for _ in range(draws):
        likelihood.draw_noise(rng, state)
        ones += likelihood.record(state, ctx)[("posterior_predictive", "y")][:, 1] == 1.0
    p = ndtr(mu[has, 1])
    z = (ones[has] / draws - p) / np.sqrt(p * (1 - p) / draws)
    assert np.abs(z).max() < 4.5
