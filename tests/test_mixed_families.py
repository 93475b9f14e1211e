"""Several traits mixing families with two binary traits (``family=[..., "threshold", "threshold"]``),
the bivariate normal CDF behind their pointwise log-likelihood, an ordinal trait beside a
Gaussian one, and threshold traits alone (any number, binary or ordinal)."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import log_ndtr, ndtr

import bayesgen as bg
from bayesgen.likelihoods.bivariate_normal import log_bivariate_normal_cdf, log_bivariate_normal_rectangle
from bayesgen.sampler.gibbs import Gibbs


def quadrature_log_cdf(h, k, rho):
    r"""log Phi2(h, k; rho) from :math:`\int_{-\infty}^{h} \varphi(x)\Phi((k - \rho x)/s)dx` by adaptive
    quadrature, the log-integrand shifted by its maximum over a grid (so that tiny values keep their digits)."""
    s = np.sqrt(1.0 - rho * rho)

    def log_integrand(x):
        return -0.5 * x * x - 0.5 * np.log(2.0 * np.pi) + log_ndtr((k - rho * x) / s)

    grid = np.linspace(h - 60.0 - abs(k) / s, h, 20001)
    values = log_integrand(grid)
    top, peak = values.max(), grid[np.argmax(values)]
    pieces = [(grid[0] - 40.0, peak - 1.0), (peak - 1.0, min(peak + 1.0, h)), (min(peak + 1.0, h), h)]
    total = sum(
        integrate.quad(lambda x: np.exp(log_integrand(x) - top), a, b, epsabs=0.0, epsrel=1e-13, limit=500)[0]
        for a, b in pieces
        if b > a
    )
    return top + np.log(total)


CASES = [
    (0.3, -0.2, 0.5),
    (1.5, 2.0, -0.7),
    (-1.0, 2.5, 0.9),
    (2.5, -1.0, 0.9),
    (0.0, 0.0, 0.3),
    (0.0, -1.2, -0.4),
    (-2.0, 0.0, 0.6),
    (-4.0, -3.0, 0.2),
    (-6.0, 4.0, -0.95),
    (-8.0, -7.5, -0.8),
    (-12.0, -9.0, 0.5),
    (-3.0, -3.0, -0.99),
]


@pytest.mark.parametrize("h, k, rho", CASES)
def test_log_bivariate_normal_cdf_against_quadrature(h, k, rho):
    np.testing.assert_allclose(log_bivariate_normal_cdf(h, k, rho), quadrature_log_cdf(h, k, rho), rtol=1e-9, atol=1e-9)


def test_log_bivariate_normal_cdf_special_values():
    # rho = 0: the product of the margins; an infinite bound: one margin, or -inf
    np.testing.assert_allclose(log_bivariate_normal_cdf(0.4, -1.3, 0.0), log_ndtr(0.4) + log_ndtr(-1.3), rtol=1e-14)
    out = log_bivariate_normal_cdf([np.inf, 0.7, -np.inf, np.inf], [-0.2, np.inf, 3.0, np.inf], 0.6)
    np.testing.assert_array_equal(out, [log_ndtr(-0.2), log_ndtr(0.7), -np.inf, 0.0])
    # Phi2(0, 0; rho) = 1/4 + arcsin(rho) / (2 pi)
    np.testing.assert_allclose(
        log_bivariate_normal_cdf(0.0, 0.0, -0.5), np.log(0.25 + np.arcsin(-0.5) / (2 * np.pi)), rtol=1e-14
    )


def quadrature_log_rectangle(a1, b1, a2, b2, rho):
    r"""log P(a1 < X <= b1, a2 < Y <= b2) from :math:`\int_{a_1}^{b_1}\varphi(x)[\Phi((b_2 - \rho x)/s) -
    \Phi((a_2 - \rho x)/s)]dx` by adaptive quadrature (the differences by log_ndtr's complements
    where both lie in the upper tail)."""
    s = np.sqrt(1.0 - rho * rho)

    def integrand(x):
        hi, lo = (b2 - rho * x) / s, (a2 - rho * x) / s
        inner = ndtr(-lo) - ndtr(-hi) if lo > 0 else ndtr(hi) - ndtr(lo)
        return np.exp(-0.5 * x * x) / np.sqrt(2.0 * np.pi) * inner

    lower, upper = max(a1, -40.0), min(b1, 40.0)
    points = [p for p in (-1.0, 0.0, 1.0) if lower < p < upper]
    total = integrate.quad(integrand, lower, upper, epsabs=0.0, epsrel=1e-13, limit=500, points=points or None)[0]
    return np.log(total)


RECTANGLES = [
    (-0.5, 0.7, 0.2, 1.1, 0.6),
    (1.0, 1.4, 0.0, np.inf, 0.8),
    (-np.inf, 0.0, 0.3, 0.9, -0.9),
    (3.0, 4.0, 3.0, 4.0, 0.3),
    (-4.0, -3.0, 2.0, np.inf, 0.5),
    (0.1, 0.1001, 0.2, 0.5, 0.2),  # a thin slice: inclusion-exclusion keeps ~11 digits
    (0.1, 0.100001, 0.2, 0.5, 0.2),  # thinner: below CANCELLATION, quadrature takes over
    (-6.0, -5.0, -np.inf, -4.0, 0.7),
    (2.0, 2.5, -1.0, -0.5, -0.95),
    # the second interval's two CDFs both within 1e-22 of 1 where X <= -5.9: their plain
    # difference cancelled to 0 (log -inf) before the fallback took the lower-tail side
    (-np.inf, -5.903345943289994, -1.3660822410312141, 2.154128907648686, -0.9371134245783459),
]


@pytest.mark.parametrize("a1, b1, a2, b2, rho", RECTANGLES)
def test_log_bivariate_normal_rectangle_against_quadrature(a1, b1, a2, b2, rho):
    np.testing.assert_allclose(
        log_bivariate_normal_rectangle(a1, b1, a2, b2, rho), quadrature_log_rectangle(a1, b1, a2, b2, rho), rtol=1e-9
    )


def test_a_rectangle_of_two_half_lines_is_the_oriented_orthant():
    """Two binary categories: the rectangle reflects each half-line below 0, the orthant the CDF gives."""
    m1, m2, rho = np.array([0.3, -1.2, 2.0]), np.array([-0.4, 0.8, 1.5]), 0.45
    for c1 in (0, 1):
        for c2 in (0, 1):
            s1, s2 = (1.0 if c1 else -1.0), (1.0 if c2 else -1.0)
            bounds1 = (-m1, np.inf) if c1 else (-np.inf, -m1)
            bounds2 = (-m2, np.inf) if c2 else (-np.inf, -m2)
            np.testing.assert_array_equal(
                log_bivariate_normal_rectangle(*bounds1, *bounds2, rho),
                log_bivariate_normal_cdf(s1 * m1, s2 * m2, s1 * s2 * rho),
            )


@pytest.fixture(scope="module")
def population():
    sim = bg.simulate(n_founders=15, n_generations=2, n_offspring=40, n_markers=0, h2=0.4, seed=5)
    data = sim.phenotypes.set_index("id", drop=False)
    rng = np.random.default_rng(7)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["weight"] = data["y"]
    data["d1"] = (z + rng.standard_normal(len(data)) > 0.3).astype(float)
    data["d2"] = (rng.standard_normal(len(data)) - 0.5 * z > 0.0).astype(float)
    data.loc[data.index[:4], "weight"] = np.nan
    data.loc[data.index[4:8], "d1"] = np.nan
    data.loc[data.index[6:10], "d2"] = np.nan
    return data, sim.pedigree_object()


def _stepped(model, seed: int, steps: int):
    """A chain of ``model`` started and stepped ``steps`` times with ``default_rng(seed)``."""
    gibbs = Gibbs(model)
    rng = np.random.default_rng(seed)
    chain = gibbs.init(rng)
    for _ in range(steps):
        gibbs.step(rng, chain)
    return chain


def _model(population, traits, families):
    data, pedigree = population
    return bg.Model(data, traits, [bg.Fixed(), bg.Animal("id", pedigree)], family=families)


def test_a_gaussian_and_two_binary_traits(population):
    data, _ = population
    model = _model(population, ["weight", "d1", "d2"], ["gaussian", "threshold", "threshold"])
    idata = model.sample(draws=20, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    sigma2_e = idata.posterior["sigma2_e"].values
    np.testing.assert_array_equal(sigma2_e[..., 1:, 1:], np.broadcast_to(np.eye(2), sigma2_e[..., 1:, 1:].shape))
    assert np.all(sigma2_e[..., 0, 1:] != 0.0) and np.all(sigma2_e[..., 0, 0] > 0.0)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    chain = _stepped(model, seed=2, steps=3)
    state, likelihood = chain.states[-1], model.likelihood
    rows = likelihood.observed_rows
    for column, (trait, name) in enumerate(zip(likelihood.threshold_traits, ["d1", "d2"])):
        has = likelihood._has_category[:, column]
        liability = state["y"][rows[has], trait]
        np.testing.assert_array_equal(liability > 0, data[name].to_numpy()[rows[has]] == 1)


def test_two_binary_traits_alone_have_an_identity_residual_covariance(population):
    model = _model(population, ["d1", "d2"], ["threshold", "threshold"])
    idata = model.sample(draws=10, burn=5, chains=1, seed=1, progress=False, check_convergence=False)
    np.testing.assert_array_equal(idata.posterior["sigma2_e"].values[0], np.broadcast_to(np.eye(2), (10, 2, 2)))
    assert model.likelihood.describe()["fixed"] == {"sigma2_e": {"d1": 1.0, "d2": 1.0}}


def test_pointwise_log_likelihood_of_two_categories_and_a_gaussian_trait(population):
    """Each complete record's log N(y_g | mu_g, R_gg) + log P(c1, c2 | y_g), against the bivariate
    integral by quadrature; records missing traits against their own margins."""
    data, _ = population
    model = _model(population, ["weight", "d1", "d2"], ["gaussian", "threshold", "threshold"])
    chain = _stepped(model, seed=3, steps=5)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = [[2.0, 0.6, -0.5], [0.6, 1.0, 0.0], [-0.5, 0.0, 1.0]]  # a correlated R to test
    values = likelihood.log_likelihood(state, chain.ctx)
    cov = state["sigma2_e"]
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    observed = ~np.isnan(data[["weight", "d1", "d2"]].to_numpy()[rows])
    checked = 0
    for i, row in enumerate(rows):
        if not observed[i].all() or checked >= 6:
            continue
        y = data["weight"].iloc[row]
        gaussian = -0.5 * (np.log(2 * np.pi * cov[0, 0]) + (y - mu[i, 0]) ** 2 / cov[0, 0])
        mean = mu[i, 1:] + cov[1:, 0] / cov[0, 0] * (y - mu[i, 0])
        conditional = cov[1:, 1:] - np.outer(cov[1:, 0], cov[0, 1:]) / cov[0, 0]
        sign = np.where(data[["d1", "d2"]].iloc[row].to_numpy() == 1, 1.0, -1.0)
        sd = np.sqrt(np.diag(conditional))
        rho = sign[0] * sign[1] * conditional[0, 1] / (sd[0] * sd[1])
        expected = gaussian + quadrature_log_cdf(*(sign * mean / sd), rho)
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked += 1
    assert checked == 6
    only_d2 = np.flatnonzero(~observed[:, 0] & ~observed[:, 1] & observed[:, 2])
    for i in only_d2:
        category = data["d2"].iloc[rows[i]]
        expected = log_ndtr(mu[i, 2]) if category == 1 else log_ndtr(-mu[i, 2])
        np.testing.assert_allclose(values[i], expected, rtol=1e-12)


def test_pointwise_log_likelihood_of_three_categories_and_a_gaussian_trait(population):
    """Three binary traits beside a Gaussian one: each complete record's log N(y_g | mu_g, R_gg) +
    log P(c1, c2, c3 | y_g), against the trivariate integral by quadrature (two categories of its
    records missing one binary trait against the bivariate one); the model samples."""
    from test_trivariate_normal import quadrature_log_rectangle as quadrature_log_rectangle_3

    data, pedigree = population
    rng = np.random.default_rng(12)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data = data.assign(d3=(0.4 * z + rng.standard_normal(len(data)) > -0.2).astype(float))
    data.loc[data.index[10:13], "d3"] = np.nan
    traits = ["weight", "d1", "d2", "d3"]
    model = _model((data, pedigree), traits, ["gaussian"] + ["threshold"] * 3)
    idata = model.sample(draws=15, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    chain = _stepped(model, seed=3, steps=5)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = [
        [2.0, 0.6, -0.5, 0.4],
        [0.6, 1.0, 0.0, 0.0],
        [-0.5, 0.0, 1.0, 0.0],
        [0.4, 0.0, 0.0, 1.0],
    ]
    values = likelihood.log_likelihood(state, chain.ctx)
    cov = state["sigma2_e"]
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    observed = ~np.isnan(data[traits].to_numpy()[rows])
    checked = 0
    for i, row in enumerate(rows):
        if not observed[i].all() or checked >= 4:
            continue
        y = data["weight"].iloc[row]
        gaussian = -0.5 * (np.log(2 * np.pi * cov[0, 0]) + (y - mu[i, 0]) ** 2 / cov[0, 0])
        mean = mu[i, 1:] + cov[1:, 0] / cov[0, 0] * (y - mu[i, 0])
        conditional = cov[1:, 1:] - np.outer(cov[1:, 0], cov[0, 1:]) / cov[0, 0]
        sd = np.sqrt(np.diag(conditional))
        above = data[["d1", "d2", "d3"]].iloc[row].to_numpy() == 1
        lower = np.where(above, -mean / sd, -np.inf)
        upper = np.where(above, np.inf, -mean / sd)
        expected = gaussian + quadrature_log_rectangle_3(lower, upper, conditional / np.outer(sd, sd))
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked += 1
    assert checked == 4
    # records missing d3: the Gaussian trait and two categories, a bivariate rectangle
    for i in np.flatnonzero(observed[:, :3].all(axis=1) & ~observed[:, 3])[:2]:
        y = data["weight"].iloc[rows[i]]
        gaussian = -0.5 * (np.log(2 * np.pi * cov[0, 0]) + (y - mu[i, 0]) ** 2 / cov[0, 0])
        mean = mu[i, 1:3] + cov[1:3, 0] / cov[0, 0] * (y - mu[i, 0])
        conditional = cov[1:3, 1:3] - np.outer(cov[1:3, 0], cov[0, 1:3]) / cov[0, 0]
        sign = np.where(data[["d1", "d2"]].iloc[rows[i]].to_numpy() == 1, 1.0, -1.0)
        sd = np.sqrt(np.diag(conditional))
        rho = sign[0] * sign[1] * conditional[0, 1] / (sd[0] * sd[1])
        np.testing.assert_allclose(values[i], gaussian + quadrature_log_cdf(*(sign * mean / sd), rho), rtol=1e-9)


def test_four_threshold_traits_beside_a_gaussian_one_are_refused(population):
    data, pedigree = population
    with pytest.raises(ValueError, match="beside Gaussian traits a model takes one to three threshold traits"):
        bg.Model(
            data.assign(d3=data["d1"], d4=data["d2"]),
            ["weight", "d1", "d2", "d3", "d4"],
            [bg.Animal("id", pedigree)],
            family=["gaussian"] + ["threshold"] * 4,
        )


# ---------------------------------------------------------------------- an ordinal trait beside a Gaussian one
@pytest.fixture(scope="module")
def with_ordinal(population):
    data, pedigree = population
    data = data.copy()
    rng = np.random.default_rng(9)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    score = np.digitize(0.6 * z + 0.8 * rng.standard_normal(len(data)), [-0.4, 0.7])
    data["score"] = pd.Categorical.from_codes(score, ["low", "mid", "high"], ordered=True)
    data.loc[data.index[8:12], "score"] = np.nan
    return data, pedigree


def test_an_ordinal_trait_beside_a_gaussian_one(with_ordinal):
    data, _ = with_ordinal
    model = _model(with_ordinal, ["weight", "score"], ["gaussian", "threshold"])
    idata = model.sample(draws=30, burn=30, chains=1, seed=1, progress=False, check_convergence=False)
    cutpoints = idata.posterior["cutpoints"]
    assert list(cutpoints.coords["cutpoint"].values) == ["mid|high"]
    assert np.all(cutpoints.values > 0.0) and np.unique(cutpoints.values).size > 1  # sampled, after 0
    sigma2_e = idata.posterior["sigma2_e"].values
    np.testing.assert_array_equal(sigma2_e[..., 1, 1], 1.0)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    assert model.likelihood.describe()["cutpoints"] == ["mid|high"]
    # every liability lies in its category's interval for the state's cut-points
    chain = _stepped(model, seed=2, steps=3)
    state, likelihood = chain.states[-1], model.likelihood
    rows = likelihood.observed_rows
    has = likelihood._has_category[:, 0]
    liability = state["y"][rows[has], 1]
    codes = data["score"].cat.codes.to_numpy()[rows[has]]
    edges = np.concatenate([[-np.inf, 0.0], state["cutpoints"], [np.inf]])
    assert np.all((liability > edges[codes]) & (liability <= edges[codes + 1]))


def test_pointwise_log_likelihood_of_an_ordinal_and_a_gaussian_trait(with_ordinal):
    """log N(y_g | mu_g, R_gg) + log P(tau_c < l <= tau_c+1 | y_g), against the joint density of
    (y_g, l) integrated over the category's interval by quadrature."""
    data, _ = with_ordinal
    model = _model(with_ordinal, ["weight", "score"], ["gaussian", "threshold"])
    chain = _stepped(model, seed=3, steps=5)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = [[2.0, 0.7], [0.7, 1.0]]
    state["cutpoints"][:] = [1.3]
    values = likelihood.log_likelihood(state, chain.ctx)
    cov = state["sigma2_e"]
    precision = np.linalg.inv(cov)
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    edges = [-np.inf, 0.0, 1.3, np.inf]
    codes = data["score"].cat.codes.to_numpy()
    weight = data["weight"].to_numpy()
    checked = {0: 0, 1: 0, 2: 0}
    for i, row in enumerate(rows):
        c = codes[row]
        if np.isnan(weight[row]) or c < 0 or checked[c] >= 2:
            continue

        def density(ell, i=i, row=row):
            r = np.array([weight[row] - mu[i, 0], ell - mu[i, 1]])
            return np.exp(-0.5 * r @ precision @ r) / (2 * np.pi * np.sqrt(np.linalg.det(cov)))

        expected = np.log(integrate.quad(density, edges[c], edges[c + 1], epsabs=0.0, epsrel=1e-12)[0])
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked[c] += 1
    assert checked == {0: 2, 1: 2, 2: 2}
    # records without the Gaussian trait: the category's probability under N(mu, 1)
    for i in np.flatnonzero(np.isnan(weight[rows]) & (codes[rows] >= 0)):
        c, m = codes[rows[i]], mu[i, 1]
        expected = np.log(ndtr(edges[c + 1] - m) - ndtr(edges[c] - m))
        np.testing.assert_allclose(values[i], expected, rtol=1e-10)


# ---------------------------------------------------------------------- threshold traits alone
@pytest.fixture(scope="module")
def thresholds_alone(with_ordinal):
    """Two binary traits and two ordinal ones (3 and 4 categories), some records missing each."""
    data, pedigree = with_ordinal
    data = data.copy()
    rng = np.random.default_rng(12)
    z = ((data["y"] - data["y"].mean()) / data["y"].std()).to_numpy()
    data["grade"] = np.digitize(0.5 * z + rng.standard_normal(len(data)), [-0.6, 0.1, 0.8]).astype(float)
    data.loc[data.index[12:16], "grade"] = np.nan
    return data, pedigree


ALONE = ["d1", "d2", "score", "grade"]


def test_threshold_traits_alone_any_number_binary_or_ordinal(thresholds_alone):
    """Four threshold traits, two of them ordinal: R = I, each ordinal trait its own cut-points
    (labelled by trait), every liability inside its category's interval."""
    data, _ = thresholds_alone
    model = _model(thresholds_alone, ALONE, ["threshold"] * 4)
    likelihood = model.likelihood
    assert likelihood.cutpoint_labels == ["score: mid|high", "grade: 1|2", "grade: 2|3"]
    assert likelihood.describe()["cutpoints"] == likelihood.cutpoint_labels
    slices = [likelihood._cutpoint_slice(c) for c in range(4)]
    assert slices[2:] == [slice(0, 1), slice(1, 3)] and all(s.start == s.stop for s in slices[:2])
    idata = model.sample(draws=20, burn=20, chains=1, seed=1, progress=False, check_convergence=False)
    assert list(idata.posterior["cutpoints"].coords["cutpoint"].values) == likelihood.cutpoint_labels
    cutpoints = idata.posterior["cutpoints"].values[0]
    assert np.all(cutpoints > 0.0) and np.all(np.diff(cutpoints[:, 1:], axis=1) > 0.0)
    np.testing.assert_array_equal(idata.posterior["sigma2_e"].values[0], np.broadcast_to(np.eye(4), (20, 4, 4)))
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    chain = _stepped(model, seed=2, steps=3)
    state, rows = chain.states[-1], likelihood.observed_rows
    own = {"score": state["cutpoints"][:1], "grade": state["cutpoints"][1:]}
    for column, name in enumerate(ALONE):
        has = likelihood._has_category[:, column]
        liability = state["y"][rows[has], column]
        codes = data[name].cat.codes.to_numpy() if name == "score" else data[name].to_numpy()
        codes = codes[rows[has]].astype(int)
        edges = np.concatenate([[-np.inf, 0.0], own.get(name, []), [np.inf]])
        assert np.all((liability > edges[codes]) & (liability <= edges[codes + 1])), name


def test_pointwise_log_likelihood_of_threshold_traits_alone(thresholds_alone):
    """With R = I each record's log P(categories) is the sum over its observed traits of
    log(Phi(tau_c+1 - mu) - Phi(tau_c - mu)), each trait with its own cut-points."""
    data, _ = thresholds_alone
    model = _model(thresholds_alone, ALONE, ["threshold"] * 4)
    chain = _stepped(model, seed=3, steps=4)
    state, likelihood = chain.states[-1], model.likelihood
    state["cutpoints"][:] = [1.3, 0.4, 1.1]
    values = likelihood.log_likelihood(state, chain.ctx)
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    edges = {
        "d1": [-np.inf, 0.0, np.inf],
        "d2": [-np.inf, 0.0, np.inf],
        "score": [-np.inf, 0.0, 1.3, np.inf],
        "grade": [-np.inf, 0.0, 0.4, 1.1, np.inf],
    }
    codes = {name: data[name].to_numpy().astype(float) for name in ["d1", "d2", "grade"]}
    codes["score"] = np.where(data["score"].isna(), np.nan, data["score"].cat.codes.to_numpy())
    expected = np.zeros(rows.size)
    for column, name in enumerate(ALONE):
        c = codes[name][rows]
        has = ~np.isnan(c)
        k = c[has].astype(int)
        e = np.asarray(edges[name])
        expected[has] += np.log(ndtr(e[k + 1] - mu[has, column]) - ndtr(e[k] - mu[has, column]))
    np.testing.assert_allclose(values, expected, rtol=1e-12)


def test_pointwise_log_likelihood_of_an_ordinal_a_binary_and_a_gaussian_trait(with_ordinal):
    """Each complete record's log N(y_g | mu_g, R_gg) + log P(binary category, ordinal category | y_g),
    against the rectangle's probability by quadrature; the model samples."""
    data, _ = with_ordinal
    model = _model(with_ordinal, ["weight", "d1", "score"], ["gaussian", "threshold", "threshold"])
    idata = model.sample(draws=15, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    assert list(idata.posterior["cutpoints"].coords["cutpoint"].values) == ["mid|high"]
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    chain = _stepped(model, seed=3, steps=5)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = [[2.0, 0.6, -0.7], [0.6, 1.0, 0.0], [-0.7, 0.0, 1.0]]
    state["cutpoints"][:] = [1.2]
    values = likelihood.log_likelihood(state, chain.ctx)
    cov = state["sigma2_e"]
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    weight, d1, score = data["weight"].to_numpy(), data["d1"].to_numpy(), data["score"].cat.codes.to_numpy()
    edges = ([-np.inf, 0.0, np.inf], [-np.inf, 0.0, 1.2, np.inf])
    checked = {0: 0, 1: 0, 2: 0}
    for i, row in enumerate(rows):
        c = (d1[row], score[row])
        if np.isnan(weight[row]) or np.isnan(c[0]) or c[1] < 0 or checked[c[1]] >= 2:
            continue
        y = weight[row]
        gaussian = -0.5 * (np.log(2 * np.pi * cov[0, 0]) + (y - mu[i, 0]) ** 2 / cov[0, 0])
        mean = mu[i, 1:] + cov[1:, 0] / cov[0, 0] * (y - mu[i, 0])
        conditional = cov[1:, 1:] - np.outer(cov[1:, 0], cov[0, 1:]) / cov[0, 0]
        sd = np.sqrt(np.diag(conditional))
        bounds = [(edges[j][int(c[j]) + k] - mean[j]) / sd[j] for j in (0, 1) for k in (0, 1)]
        expected = gaussian + quadrature_log_rectangle(*bounds, conditional[0, 1] / (sd[0] * sd[1]))
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked[c[1]] += 1
    assert checked == {0: 2, 1: 2, 2: 2}


def test_a_threshold_object_in_the_family_list_is_copied(with_ordinal):
    data, pedigree = with_ordinal
    ordinal = bg.Threshold(cutpoint_prior=2.0)
    model = bg.Model(data, ["weight", "score"], [bg.Animal("id", pedigree)], family=["gaussian", ordinal])
    assert ordinal.categories is None  # the user's object stays unbound
    assert (
        model.likelihood.log_prior({"sigma2_e": np.array([[2.0, 0.5], [0.5, 1.0]]), "cutpoints": np.array([1.0])})
        > -np.inf
    )
    state = {"sigma2_e": np.eye(2), "cutpoints": np.zeros(1)}
    model.likelihood.draw_prior(np.random.default_rng(0), state)
    assert state["cutpoints"][0] > 0.0 and state["sigma2_e"][1, 1] == 1.0


# ---------------------------------------------------------------------- each threshold trait's scale move
def _log_joint(model, states, resid):
    """log p(theta, working response | categories) up to a constant, written out densely: the
    residuals N(0, R), the animal effects N(0, A (x) G), G's inverse-Wishart prior, and of R's prior
    the one factor the move changes, C | R_ff.B ~ MN(Psi_fB Psi_BB^-1, R_ff.B, Psi_BB^-1); flat
    fixed effects (the categories' indicators do not change under k > 0)."""
    likelihood = model.likelihood
    animal_index = [k for k, t in enumerate(model.terms) if t.name == "animal"][0]
    animal, state_a = model.terms[animal_index], states[animal_index]
    r = states[-1]["sigma2_e"]
    e = resid[likelihood.observed_rows]
    out = -0.5 * np.einsum("ri,ij,rj->", e, np.linalg.inv(r), e) - 0.5 * e.shape[0] * np.linalg.slogdet(r)[1]
    u, g = state_a["u"], state_a["sigma2"]
    p = animal.level_precision().toarray()
    q, t = u.shape
    out += -0.5 * np.trace(np.linalg.solve(g, u.T @ p @ u)) - 0.5 * q * np.linalg.slogdet(g)[1]
    if animal.samples_covariance:  # inverse-Wishart
        df, scale = animal.prior.df, animal.prior.scale
        out += -0.5 * (df + t + 1) * np.linalg.slogdet(g)[1] - 0.5 * np.trace(np.linalg.solve(g, scale))
    free, thresholds = likelihood._free, likelihood.threshold_traits
    if not free.size:  # threshold traits alone: R = I, no C
        return out
    c = r[np.ix_(free, thresholds)]
    conditional = r[np.ix_(free, free)] - c @ c.T
    psi = likelihood.prior.scale
    mean = psi[np.ix_(free, thresholds)] @ np.linalg.inv(psi[np.ix_(thresholds, thresholds)])
    d = c - mean
    out += -0.5 * np.trace(psi[np.ix_(thresholds, thresholds)] @ d.T @ np.linalg.solve(conditional, d))
    return out


@pytest.mark.parametrize(
    "traits, animal_prior",
    [
        (["weight", "d1", "d2"], "iw"),
        (["weight", "score"], "iw"),
        (["weight", "d1", "d2"], "fixed"),
        (["d1", "score", "grade"], "iw"),
    ],
)
def test_each_threshold_traits_scale_move_declares_its_exact_target(thresholds_alone, traits, animal_prior):
    """For k in (0.6, 1.7): log p(g_k theta) + log J(k) - log p(theta) (written out densely, J the
    Jacobian of the move's map: the trait's working values, fixed and animal effects, G's row and
    column, C's column at 1/k, the cut-points) equals what the move's pieces declare,
    A log k - (k^2 - 1) Q / 2 + sum of the rests' log_factor(k) - log_factor(1). With a fixed
    animal covariance, G stays and its prior's cross terms make a rest linear in k."""
    import copy

    from bayesgen.sampler.scale_move import ScaleMove

    data, pedigree = thresholds_alone
    t = len(traits)
    fixed = 0.3 * np.eye(t) + 0.15  # a fixed covariance with covariances: the rest's linear term
    prior = bg.InverseWishart(t + 3.0, np.eye(t) * 2.0) if animal_prior == "iw" else bg.FixedVariance(fixed)
    model = bg.Model(
        data,
        traits,
        [bg.Fixed(), bg.Animal("id", pedigree, prior=prior)],
        family=["gaussian" if name == "weight" else "threshold" for name in traits],
        sampler="single-site",
    )
    chain = _stepped(model, seed=4, steps=5)
    moves = [b for b in model.blocks if isinstance(b, ScaleMove)]
    assert [m.trait for m in moves] == list(model.likelihood.threshold_traits)
    likelihood = model.likelihood
    for move in moves:
        b = move.trait
        column = list(likelihood.threshold_traits).index(b)
        n_cut = (
            chain.states[-1]["cutpoints"][likelihood._cutpoint_slice(column)].size
            if "cutpoints" in chain.states[-1]
            else 0
        )
        log_jacobian_per_log_k = (
            likelihood.n_observed
            + chain.states[0]["beta"].shape[0]
            + chain.states[1]["u"].shape[0]
            + ((t + 1) if animal_prior == "iw" else 0)
            - likelihood._free.size
            + n_cut
        )
        power = sum(s.power(chain.states[k]) for k, s in move.scalings)
        quadratic = sum(s.quadratic(chain.states[k], chain.ctx) for k, s in move.scalings)
        before = _log_joint(model, chain.states, chain.ctx.resid)
        for factor in (0.6, 1.7):
            rest = sum(
                s.log_factor(chain.states[k], factor) - s.log_factor(chain.states[k], 1.0) for k, s in move.scalings
            )
            states, resid = copy.deepcopy(chain.states), chain.ctx.resid.copy()
            resid[:, b] *= factor
            for k, s in move.scalings:
                s.apply(states[k], factor)
            np.testing.assert_allclose(
                states[-1]["y"] - resid,
                (chain.states[-1]["y"] - chain.ctx.resid) * np.where(np.arange(len(traits)) == b, factor, 1.0),
                atol=1e-9,
            )
            after = _log_joint(model, states, resid)
            declared = power * np.log(factor) - 0.5 * (factor**2 - 1.0) * quadratic + rest
            np.testing.assert_allclose(
                after + log_jacobian_per_log_k * np.log(factor) - before, declared, rtol=1e-9, atol=1e-8
            )


@pytest.mark.parametrize(
    "traits, families",
    [
        (["weight", "d1"], ["gaussian", "threshold"]),
        (["weight", "score"], ["gaussian", "threshold"]),
        (["d1", "d2"], ["threshold", "threshold"]),
        (["d1", "score", "grade"], ["threshold"] * 3),
    ],
)
def test_marginal_log_likelihood_is_the_pointwise_sum(thresholds_alone, traits, families):
    """Where the marginal group moves run (complete records): the fast marginal log-likelihood equals
    the pointwise log-likelihood's sum (each checked against quadrature above), at a moved linear
    predictor too; the moves are on for each threshold trait."""
    data, pedigree = thresholds_alone
    complete = data.dropna(subset=traits)
    model = bg.Model(complete, traits, [bg.Fixed(), bg.Animal("id", pedigree)], family=families)
    likelihood = model.likelihood
    assert likelihood.integrates_augmentation
    assert likelihood.marginal_traits() == list(likelihood.threshold_traits)
    names = [b["term"] for b in model.describe()["sampler"] if b["block"] == "marginal group move"]
    assert names == [f"animal_{traits[b]}" for b in likelihood.threshold_traits]
    chain = _stepped(model, seed=5, steps=4)
    state, ctx = chain.states[-1], chain.ctx
    if likelihood._free.size:
        state["sigma2_e"][:] = [[2.0, 0.7], [0.7, 1.0]]
    mu = state["y"] - ctx.resid
    for shift in (0.0, 0.4):
        moved = mu + shift * np.where(np.arange(len(traits)) == likelihood.threshold_traits[-1], 1.0, 0.0)
        expected = likelihood.log_likelihood(state, _Residual(state["y"] - moved)).sum()
        np.testing.assert_allclose(likelihood.marginal_log_likelihood(state, moved), expected, rtol=1e-11)


class _Residual:
    """A step context holding only the residuals (what ``log_likelihood`` reads)."""

    def __init__(self, resid):
        self.resid = resid


def test_marginal_moves_with_records_missing_traits(population):
    """Records missing traits keep the marginal moves of one threshold trait: the augmentation draws
    the liabilities given the observed traits, then the missing ones given them, and the moves'
    target (the pointwise log-likelihood's sum, missing traits integrated out) is that of the
    data; two binary traits beside a Gaussian one stay without (their liabilities are drawn one
    given the other)."""
    data, _ = population
    # one threshold trait beside a Gaussian one, and two threshold traits alone (R = I), each with
    # records missing either trait: the moves' target is the pointwise log-likelihood's sum
    for traits, families, residual in (
        (["weight", "d1"], ["gaussian", "threshold"], [[2.0, 0.7], [0.7, 1.0]]),
        (["d1", "d2"], ["threshold", "threshold"], None),
    ):
        model = _model(population, traits, families)
        likelihood = model.likelihood
        assert likelihood.augments and likelihood.integrates_augmentation
        chain = _stepped(model, seed=6, steps=3)
        state, ctx = chain.states[-1], chain.ctx
        if residual is not None:
            state["sigma2_e"][:] = residual
        mu = state["y"] - ctx.resid
        for shift in (0.0, 0.3):
            moved = mu + shift
            expected = likelihood.log_likelihood(state, _Residual(state["y"] - moved)).sum()
            np.testing.assert_allclose(likelihood.marginal_log_likelihood(state, moved), expected, rtol=1e-12)
    complete = (data.dropna(subset=["weight", "d1", "d2"]), population[1])
    model = _model(complete, ["weight", "d1", "d2"], ["gaussian", "threshold", "threshold"])
    assert not model.likelihood.integrates_augmentation
    assert [b["trait"] for b in model.describe()["sampler"] if b["block"] == "scale move"] == ["d1", "d2"]
    off = bg.Threshold(scale_move=False, marginal_moves=False)
    model = _model(complete, ["weight", "d1"], ["gaussian", off])
    assert not [b for b in model.describe()["sampler"] if "move" in b["block"] and b["block"] != "group move"]
