"""A censored trait beside a threshold trait (``family=["censored", "threshold"]``, with Gaussian traits
or without): sampling, the pointwise log-likelihood against quadrature, and bad input."""

import numpy as np
import pytest
from scipy import integrate
from scipy.special import log_ndtr, ndtr
from test_mixed_families import _stepped, quadrature_log_rectangle

import bayesgen as bg
from bayesgen.likelihoods.mixed_censored import MixedCensored


@pytest.fixture(scope="module")
def population():
    """A Gaussian trait, a lifetime right-, left- or interval-censored in fixed windows (exact where
    its value falls outside), and a binary disease, each missing on a few records."""
    sim = bg.simulate(n_founders=15, n_generations=2, n_offspring=40, n_markers=0, h2=0.4, seed=5, mean=0.0)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(7)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["weight"] = data["y"] + rng.standard_normal(len(data))
    value = z + 0.5 * rng.standard_normal(len(data))
    kind = rng.choice(["exact", "right", "left", "interval"], size=len(data), p=[0.4, 0.3, 0.15, 0.15])
    cut = rng.normal(0.0, 0.5, len(data))
    lower = np.where(kind == "right", cut, np.where(kind == "interval", cut - 0.7, np.nan))
    upper = np.where(kind == "left", cut, np.where(kind == "interval", cut + 0.7, np.nan))
    inside = (np.nan_to_num(lower, nan=-np.inf) < value) & (value < np.nan_to_num(upper, nan=np.inf))
    censored = (kind != "exact") & inside
    data["life"] = np.where(censored, np.nan, value)
    data["lower"] = np.where(censored, lower, np.nan)
    data["upper"] = np.where(censored, upper, np.nan)
    data["d1"] = (z + rng.standard_normal(len(data)) > 0.3).astype(float)
    data.loc[data.index[:3], "weight"] = np.nan
    data.loc[data.index[3:6], ["life", "lower", "upper"]] = np.nan
    data.loc[data.index[6:9], "d1"] = np.nan
    return data, sim.pedigree_object()


def censored_model(population, traits, families, sampler="auto", data=None):
    frame, pedigree = population
    return bg.Model(
        frame if data is None else data,
        traits,
        [bg.Fixed(), bg.Animal("id", pedigree)],
        family=families,
        bounds=("lower", "upper"),
        sampler=sampler,
    )


@pytest.mark.parametrize("sampler", ["single-site", "joint", "collapsed"])
def test_a_censored_and_a_binary_trait_sample(population, sampler):
    """Every sampler: R's threshold diagonal stays 1, the censored records' latent values stay in
    their windows and the exact ones at their values, the liabilities on their categories' sides."""
    data, _ = population
    model = censored_model(population, ["weight", "life", "d1"], ["gaussian", "censored", "threshold"], sampler)
    assert isinstance(model.likelihood, MixedCensored)
    description = model.likelihood.describe()
    assert description["censored_trait"] == "life" and description["fixed"] == {"sigma2_e": {"d1": 1.0}}
    assert description["censored_records"] == int((data["lower"].notna() | data["upper"].notna()).sum())
    idata = model.sample(draws=10, burn=5, chains=1, seed=1, progress=False, check_convergence=False)
    np.testing.assert_array_equal(idata.posterior["sigma2_e"].values[..., 2, 2], 1.0)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    chain = _stepped(model, seed=2, steps=3)
    state, likelihood = chain.states[-1], model.likelihood
    rows = likelihood.observed_rows
    life = state["y"][rows, 1]
    censored = state["censored"]
    assert censored.sum() == description["censored_records"]
    lower, upper = data["lower"].to_numpy()[rows], data["upper"].to_numpy()[rows]
    assert np.all(life[censored] > np.nan_to_num(lower[censored], nan=-np.inf))
    assert np.all(life[censored] < np.nan_to_num(upper[censored], nan=np.inf))
    exact = data["life"].notna().to_numpy()[rows]
    np.testing.assert_array_equal(life[exact], data["life"].to_numpy()[rows][exact])
    has = data["d1"].notna().to_numpy()[rows]
    np.testing.assert_array_equal(state["y"][rows[has], 2] > 0, data["d1"].to_numpy()[rows[has]] == 1)


def _pointwise_at(model, data, residual_covariance):
    """A chain of ``model`` stepped 5 times (seed 3), its R set to ``residual_covariance``: the
    pointwise log-likelihood, R, the observed records' linear predictor and their data rows."""
    chain = _stepped(model, seed=3, steps=5)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = residual_covariance
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    return likelihood.log_likelihood(state, chain.ctx), state["sigma2_e"], mu, data.iloc[rows]


def _log_normal(value, mean, variance):
    return -0.5 * (np.log(2 * np.pi * variance) + (value - mean) ** 2 / variance)


def test_pointwise_log_likelihood_beside_a_gaussian_trait(population):
    """Complete records: an exact lifetime gives log N((weight, life)) + log P(d1 | weight, life); a
    censored one log N(weight) + log P(life in its window, d1 | weight), a bivariate rectangle
    (quadrature)."""
    data, _ = population
    model = censored_model(population, ["weight", "life", "d1"], ["gaussian", "censored", "threshold"])
    # a correlated R to test
    values, cov, mu, frame = _pointwise_at(model, data, [[2.0, 0.5, 0.6], [0.5, 1.5, -0.7], [0.6, -0.7, 1.0]])
    rows = model.likelihood.observed_rows
    checked = {"exact": 0, "censored": 0}
    for i in range(rows.size):
        record = frame.iloc[i]
        if np.isnan(record["weight"]) or np.isnan(record["d1"]):
            continue
        sign = 1.0 if record["d1"] == 1 else -1.0
        if not np.isnan(record["life"]):
            kind = "exact"
            y = np.array([record["weight"], record["life"]])
            resid = y - mu[i, :2]
            gaussian = -0.5 * (
                2 * np.log(2 * np.pi) + np.linalg.slogdet(cov[:2, :2])[1] + resid @ np.linalg.solve(cov[:2, :2], resid)
            )
            coefficient = np.linalg.solve(cov[:2, :2], cov[:2, 2])
            mean, sd = mu[i, 2] + resid @ coefficient, np.sqrt(cov[2, 2] - cov[2, :2] @ coefficient)
            expected = gaussian + log_ndtr(sign * mean / sd)
        elif not (np.isnan(record["lower"]) and np.isnan(record["upper"])):
            kind = "censored"
            resid = record["weight"] - mu[i, 0]
            mean = mu[i, 1:] + cov[1:, 0] / cov[0, 0] * resid
            conditional = cov[1:, 1:] - np.outer(cov[1:, 0], cov[0, 1:]) / cov[0, 0]
            sd = np.sqrt(np.diag(conditional))
            window = np.nan_to_num([record["lower"], record["upper"]], nan=np.nan)
            window = [-np.inf if np.isnan(window[0]) else window[0], np.inf if np.isnan(window[1]) else window[1]]
            category = (0.0, np.inf) if sign > 0 else (-np.inf, 0.0)
            bounds = [(w - mean[0]) / sd[0] for w in window] + [(t - mean[1]) / sd[1] for t in category]
            rho = conditional[0, 1] / (sd[0] * sd[1])
            expected = _log_normal(record["weight"], mu[i, 0], cov[0, 0]) + quadrature_log_rectangle(*bounds, rho)
        else:
            continue
        if checked[kind] >= 5:
            continue
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked[kind] += 1
    assert checked == {"exact": 5, "censored": 5}


def test_pointwise_log_likelihood_of_the_pair_alone(population):
    """Without a Gaussian trait a censored record's lifetime window and category are a rectangle of
    (life, liability) with covariance R (checked by 2-d quadrature of the density); an exact record's
    log N(life) + log P(d1 | life); a record with the disease only log Phi(+-mu)."""
    data, _ = population
    model = censored_model(population, ["life", "d1"], ["censored", "threshold"])
    chain = _stepped(model, seed=4, steps=5)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = [[1.5, -0.8], [-0.8, 1.0]]
    values = likelihood.log_likelihood(state, chain.ctx)
    cov = state["sigma2_e"]
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    frame = data.iloc[rows]
    checked = {"exact": 0, "censored": 0, "disease only": 0}
    for i in range(rows.size):
        record = frame.iloc[i]
        sign = 1.0 if record["d1"] == 1 else -1.0
        censored = np.isnan(record["life"]) and not (np.isnan(record["lower"]) and np.isnan(record["upper"]))
        if np.isnan(record["d1"]):
            continue
        if not np.isnan(record["life"]):
            kind = "exact"
            resid = record["life"] - mu[i, 0]
            mean = mu[i, 1] + cov[1, 0] / cov[0, 0] * resid
            sd = np.sqrt(cov[1, 1] - cov[1, 0] ** 2 / cov[0, 0])
            expected = _log_normal(record["life"], mu[i, 0], cov[0, 0]) + log_ndtr(sign * mean / sd)
        elif censored:
            kind = "censored"
            lower = -np.inf if np.isnan(record["lower"]) else record["lower"]
            upper = np.inf if np.isnan(record["upper"]) else record["upper"]

            # P(lower < life < upper, sign * liability > 0): the liability's probability given life, integrated
            def density(x, i=i, sign=sign):
                mean = mu[i, 1] + cov[1, 0] / cov[0, 0] * (x - mu[i, 0])
                sd = np.sqrt(cov[1, 1] - cov[1, 0] ** 2 / cov[0, 0])
                return np.exp(_log_normal(x, mu[i, 0], cov[0, 0])) * ndtr(sign * mean / sd)

            expected = np.log(integrate.quad(density, lower, upper, epsabs=0.0, epsrel=1e-12, limit=200)[0])
        elif np.isnan(record["life"]):
            kind = "disease only"
            expected = log_ndtr(sign * mu[i, 1])
        if checked[kind] >= 4:
            continue
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked[kind] += 1
    assert checked == {"exact": 4, "censored": 4, "disease only": 3}


def test_marginal_moves_run_on_complete_records(population):
    """On complete records the threshold trait's scale and marginal group moves run, conditioning on
    the censored trait's latent values (their validity: the Geweke test of ``test_censored_geweke``)."""
    data, _ = population
    complete = data[data["d1"].notna() & (data["life"].notna() | data["lower"].notna() | data["upper"].notna())]
    model = censored_model(population, ["life", "d1"], ["censored", "threshold"], data=complete)
    assert model.likelihood.integrates_augmentation
    blocks = [b["block"] for b in model.describe()["sampler"]]
    assert "scale move" in blocks and "marginal group move" in blocks
    # records missing a trait: the moves' target would integrate the censored values, which the
    # augmentation redraws given the liabilities, so the moves stay off
    incomplete = censored_model(population, ["life", "d1"], ["censored", "threshold"])
    assert incomplete.likelihood.augments and not incomplete.likelihood.integrates_augmentation


def test_pointwise_log_likelihood_beside_two_binary_traits(population):
    """A lifetime beside two diseases: an exact lifetime gives log N(life) + log P(d1, d2 | life), a
    bivariate rectangle; a censored one log P(life in its window, d1, d2), a trivariate one
    (quadrature); the model samples under each sampler."""
    from test_trivariate_normal import quadrature_log_rectangle as quadrature_log_rectangle_3

    data, pedigree = population
    rng = np.random.default_rng(21)
    data = data.assign(d2=(data["y"] + rng.standard_normal(len(data)) > data["y"].median()).astype(float))
    data.loc[data.index[9:12], "d2"] = np.nan
    traits, families = ["life", "d1", "d2"], ["censored", "threshold", "threshold"]
    for sampler in ("single-site", "joint", "collapsed"):
        model = censored_model((data, pedigree), traits, families, sampler)
        idata = model.sample(draws=10, burn=5, chains=1, seed=1, progress=False, check_convergence=False)
        assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    values, cov, mu, frame = _pointwise_at(model, data, [[1.5, -0.7, 0.5], [-0.7, 1.0, 0.0], [0.5, 0.0, 1.0]])
    rows = model.likelihood.observed_rows
    checked = {"exact": 0, "censored": 0}
    for i in range(rows.size):
        record = frame.iloc[i]
        if np.isnan(record["d1"]) or np.isnan(record["d2"]):
            continue
        above = np.array([record["d1"], record["d2"]]) == 1
        if not np.isnan(record["life"]):
            kind = "exact"
            resid = record["life"] - mu[i, 0]
            mean = mu[i, 1:] + cov[1:, 0] / cov[0, 0] * resid
            conditional = cov[1:, 1:] - np.outer(cov[1:, 0], cov[0, 1:]) / cov[0, 0]
            sd = np.sqrt(np.diag(conditional))
            bounds = []
            for j in (0, 1):
                bounds += [-mean[j] / sd[j], np.inf] if above[j] else [-np.inf, -mean[j] / sd[j]]
            rho = conditional[0, 1] / (sd[0] * sd[1])
            expected = _log_normal(record["life"], mu[i, 0], cov[0, 0]) + quadrature_log_rectangle(*bounds, rho)
        elif not (np.isnan(record["lower"]) and np.isnan(record["upper"])):
            kind = "censored"
            sd = np.sqrt(np.diag(cov))
            window = [np.nan_to_num(record["lower"], nan=-np.inf), np.nan_to_num(record["upper"], nan=np.inf)]
            lower = np.array([(window[0] - mu[i, 0]) / sd[0], *np.where(above, -mu[i, 1:] / sd[1:], -np.inf)])
            upper = np.array([(window[1] - mu[i, 0]) / sd[0], *np.where(above, np.inf, -mu[i, 1:] / sd[1:])])
            expected = quadrature_log_rectangle_3(lower, upper, cov / np.outer(sd, sd))
        else:
            continue
        if checked[kind] >= 3:
            continue
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked[kind] += 1
    assert checked == {"exact": 3, "censored": 3}


@pytest.mark.parametrize(
    "traits, families, match",
    [
        (
            ["life", "d1", "d2", "d3"],
            ["censored", "threshold", "threshold", "threshold"],
            "beside one or two threshold",
        ),
        (["life", "life2", "d1"], ["censored", "censored", "threshold"], "lists 'censored' once"),
    ],
)
def test_refused_family_lists(population, traits, families, match):
    data, pedigree = population
    data = data.assign(d2=data["d1"], d3=data["d1"], life2=data["life"])
    with pytest.raises(ValueError, match=match):
        bg.Model(data, traits, [bg.Animal("id", pedigree)], family=families, bounds=("lower", "upper"))


def test_bad_bounds_are_named_before_sampling(population):
    data, pedigree = population
    with pytest.raises(TypeError, match="give its bounds"):
        bg.Model(data, ["life", "d1"], [bg.Animal("id", pedigree)], family=["censored", "threshold"])
    crossed = data.copy()
    crossed.loc[crossed.index[10], ["lower", "upper"]] = [1.0, 0.5]
    crossed.loc[crossed.index[10], "life"] = np.nan
    with pytest.raises(ValueError, match=r"'lower' is above upper bound column 'upper'.*\(1\.0, 0\.5\)"):
        bg.Model(
            crossed,
            ["life", "d1"],
            [bg.Animal("id", pedigree)],
            family=["censored", "threshold"],
            bounds=("lower", "upper"),
        )
    original = data.copy()
    censored_model(population, ["life", "d1"], ["censored", "threshold"])
    assert data.equals(original)


def test_a_censored_and_an_ordinal_trait(population):
    """An ordinal trait beside the censored one: its cut-point is sampled and recorded, and a
    censored record's pointwise log-likelihood is the rectangle of its window and its category's
    interval (quadrature), with R and the cut-point set to test values."""
    data, _ = population
    rng = np.random.default_rng(3)
    data = data.assign(score=np.digitize(data["life"].fillna(1.0) + rng.standard_normal(len(data)), [-0.5, 0.8]))
    model = censored_model((data, population[1]), ["life", "score"], ["censored", "threshold"])
    idata = model.sample(draws=10, burn=5, chains=1, seed=1, progress=False, check_convergence=False)
    assert list(idata.posterior["cutpoints"].coords["cutpoint"].values) == ["1|2"]
    chain = _stepped(model, seed=5, steps=4)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = [[1.5, 0.7], [0.7, 1.0]]
    state["cutpoints"][:] = [1.1]
    values = likelihood.log_likelihood(state, chain.ctx)
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    cov = state["sigma2_e"]
    edges = np.array([-np.inf, 0.0, 1.1, np.inf])
    frame = data.iloc[rows]
    checked = 0
    for i in np.flatnonzero(state["censored"])[:5]:
        record = frame.iloc[i]
        category = int(record["score"])
        lower = -np.inf if np.isnan(record["lower"]) else record["lower"]
        upper = np.inf if np.isnan(record["upper"]) else record["upper"]
        sd = np.sqrt(np.diag(cov))
        bounds = [(lower - mu[i, 0]) / sd[0], (upper - mu[i, 0]) / sd[0]]
        bounds += [(edges[category] - mu[i, 1]) / sd[1], (edges[category + 1] - mu[i, 1]) / sd[1]]
        expected = quadrature_log_rectangle(*bounds, cov[0, 1] / (sd[0] * sd[1]))
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked += 1
    assert checked == 5
