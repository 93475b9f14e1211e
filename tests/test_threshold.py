"""Threshold (binary, ordinal) and censored-Gaussian likelihoods: data reading, errors, the
truncated-normal draws, the pointwise log-likelihood, predictions, simulation and CV (quick tests)."""

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import bayesgen as bg
from bayesgen.likelihoods.truncated_normal import draw_truncated_normal, log_interval_probability
from bayesgen.sampler import Gibbs


@pytest.fixture(scope="module")
def small():
    sim = bg.simulate(
        n_founders=20, n_generations=2, n_offspring=60, n_markers=0, h2=0.4, seed=3, family="threshold", prevalence=0.3
    )
    data = sim.phenotypes.set_index("id", drop=False)
    z = (data["liability"] - data["liability"].mean()) / data["liability"].std()
    data["o"] = np.digitize(z, [-0.4, 0.6]).astype(float)
    return data, sim


def terms(sim):
    return [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object())]


# ---------------------------------------------------------------------- truncated normal
@pytest.mark.parametrize(
    "lower, upper",
    [
        (-np.inf, 0.0),
        (0.0, np.inf),
        (1.0, 2.0),
        (-0.3, 0.4),
        (6.0, np.inf),
        (-np.inf, -9.0),
        (35.0, 36.0),
        (1.0, 1.5),  # upper tail, short: the uniform proposal
        (-2.0, -1.8),  # the same mirrored
        (-0.1, 3.0),  # holds 0, wide: normal proposals
        (-np.inf, np.inf),
    ],
)
def test_truncated_normal_draws_match_scipy(lower, upper):
    """Every branch of the rejection sampler (bayesgen.kernels.truncated_normal) against scipy."""
    rng = np.random.default_rng(1)
    n = 40000
    x = draw_truncated_normal(rng, np.zeros(n), 1.0, np.full(n, lower), np.full(n, upper))
    assert np.all((x >= lower) & (x <= upper))
    reference = stats.truncnorm(lower, upper)
    # Kolmogorov-Smirnov at 1%: the draws are the truncated normal.
    assert stats.kstest(x, reference.cdf).pvalue > 0.01


def test_truncated_normal_with_means_and_sds_and_same_seed_same_draws():
    mean = np.array([0.5, -1.0, 3.0])
    lower, upper = np.array([0.0, -np.inf, 2.0]), np.array([np.inf, 0.0, 2.5])
    n = 20000
    draws = np.stack(
        [
            draw_truncated_normal(np.random.default_rng(k), mean, np.array([1.0, 2.0, 0.5]), lower, upper)
            for k in range(n)
        ]
    )
    for j, (m, s) in enumerate(zip(mean, [1.0, 2.0, 0.5])):
        reference = stats.truncnorm((lower[j] - m) / s, (upper[j] - m) / s, loc=m, scale=s)
        assert stats.kstest(draws[:, j], reference.cdf).pvalue > 0.01
    again = draw_truncated_normal(np.random.default_rng(7), mean, 1.0, lower, upper)
    np.testing.assert_array_equal(again, draw_truncated_normal(np.random.default_rng(7), mean, 1.0, lower, upper))


def test_log_interval_probability_is_accurate_in_the_tails():
    lower = np.array([-np.inf, 0.0, 1.0, 8.0, -40.0, 30.0])
    upper = np.array([np.inf, np.inf, 2.0, np.inf, -39.0, 31.0])
    expected = [
        0.0,
        np.log(0.5),
        np.log(stats.norm.cdf(2) - stats.norm.cdf(1)),
        stats.norm.logsf(8.0),
        stats.norm.logcdf(-39.0) + np.log1p(-np.exp(stats.norm.logcdf(-40.0) - stats.norm.logcdf(-39.0))),
        stats.norm.logsf(30.0) + np.log1p(-np.exp(stats.norm.logsf(31.0) - stats.norm.logsf(30.0))),
    ]
    np.testing.assert_allclose(log_interval_probability(lower, upper), expected, rtol=1e-10, atol=1e-12)


def test_numba_log_ndtr_agrees_with_scipy_over_the_whole_line():
    """The kernels' log Phi against scipy's log_ndtr from -60 to 37 (past that Phi(x) = 1 - 1e-300:
    subnormal differences), both sides of the switch to the asymptotic series at -37; and the
    summed kernel against the elementwise one."""
    from scipy.special import log_ndtr

    from bayesgen.kernels.truncated_normal import log_ndtr_one
    from bayesgen.likelihoods.truncated_normal import sum_log_interval_probability

    x = np.concatenate([np.linspace(-60.0, 37.0, 9701), [-37.0, np.nextafter(-37.0, 0.0), -37.000001]])
    ours = np.array([log_ndtr_one(v) for v in x])
    np.testing.assert_allclose(ours, log_ndtr(x), rtol=1e-12)
    assert log_ndtr_one(-np.inf) == -np.inf and log_ndtr_one(np.inf) == 0.0
    rng = np.random.default_rng(3)
    lower = rng.normal(0.0, 3.0, 500)
    upper = lower + rng.exponential(2.0, 500)
    lower[:50], upper[50:100] = -np.inf, np.inf
    mean = rng.normal(0.0, 2.0, 500)
    np.testing.assert_allclose(
        sum_log_interval_probability(lower, upper, mean),
        np.sum(log_interval_probability(lower - mean, upper - mean)),
        rtol=1e-13,
    )


# ---------------------------------------------------------------------- reading the data
def test_binary_columns_bool_integer_and_categorical_agree(small):
    data, sim = small
    data = data.copy()
    data["as_bool"] = data["y"] == 1
    data["as_cat"] = pd.Categorical(
        np.where(data["y"] == 1, "case", "control"), categories=["control", "case"], ordered=True
    )
    codes = [bg.Model(data, column, terms(sim), family="threshold").y for column in ("y", "as_bool", "as_cat")]
    np.testing.assert_array_equal(codes[0], codes[1])
    np.testing.assert_array_equal(codes[0], codes[2])


def test_sorted_integer_codes_are_the_categories(small):
    data, sim = small
    data = data.copy()
    data["coded"] = data["o"] * 10 + 1  # 1, 11, 21
    model = bg.Model(data, "coded", terms(sim), family="threshold")
    assert model.likelihood.categories == [1, 11, 21]
    np.testing.assert_array_equal(model.y, data["o"].to_numpy())


def test_threshold_errors_name_column_and_values(small):
    data, sim = small
    data = data.copy()
    data["one"] = 1.0
    with pytest.raises(ValueError, match=r"'one' has 1 observed category .*at least 2"):
        bg.Model(data, "one", terms(sim), family="threshold")
    data["words"] = np.where(data["y"] == 1, "sick", "healthy")
    with pytest.raises(TypeError, match=r"'words' holds non-ordered categories .*'healthy'.*ordered pandas"):
        bg.Model(data, "words", terms(sim), family="threshold")
    data["unordered"] = pd.Categorical(data["words"])
    with pytest.raises(TypeError, match=r"'unordered' is an unordered Categorical"):
        bg.Model(data, "unordered", terms(sim), family="threshold")
    data["empty"] = pd.Categorical(data["words"], categories=["healthy", "mild", "sick"], ordered=True)
    with pytest.raises(ValueError, match=r"'empty' has categories with no record: 'mild'"):
        bg.Model(data, "empty", terms(sim), family="threshold")
    data["fraction"] = data["y"] + 0.5 * (data.index == data.index[3])
    with pytest.raises(ValueError, match=r"'fraction' has non-integer values 1\.5 in rows 'A00024'"):
        bg.Model(data, "fraction", terms(sim), family="threshold")
    with pytest.raises(ValueError, match="fixes the residual variance"):
        bg.Model(data, "y", terms(sim), family="threshold", sigma2_e=2.0)
    with pytest.raises(ValueError, match="family must be one of"):
        bg.Model(data, "y", terms(sim), family="probit")
    with pytest.raises(ValueError, match="bounds= is for family='censored'"):
        bg.Model(data, "y", terms(sim), family="threshold", bounds=("a", "b"))


def test_boolean_gaussian_phenotype_points_to_threshold(small):
    data, sim = small
    with pytest.raises(TypeError, match="family='threshold'"):
        bg.Model(data.assign(b=data["y"] == 1), "b", terms(sim))


def test_user_data_and_family_object_are_not_modified(small):
    data, sim = small
    before = data.copy()
    family = bg.Threshold(cutpoint_prior=2.0)
    bg.Model(data, "o", terms(sim), family=family)
    pd.testing.assert_frame_equal(data, before)
    assert family.categories is None


# ---------------------------------------------------------------------- sampling
def test_same_seed_same_draws_serial_or_parallel(small):
    data, sim = small
    model = bg.Model(data, "o", terms(sim), family="threshold")
    one = model.sample(draws=30, burn=20, chains=2, seed=4, progress=False, cores=1, check_convergence=False)
    two = model.sample(draws=30, burn=20, chains=2, seed=4, progress=False, cores=2, check_convergence=False)
    for name in ("cutpoints", "sigma2_a", "h2", "beta"):
        np.testing.assert_array_equal(one.posterior[name].values, two.posterior[name].values)


@pytest.mark.parametrize("sampler", ["single-site", "joint", "pcg", "collapsed"])
def test_every_sampler_runs_on_liabilities(small, sampler):
    data, sim = small
    idata = bg.Model(data, "y", terms(sim), family="threshold", sampler=sampler).sample(
        draws=20, burn=10, chains=1, seed=1, progress=False, check_convergence=False
    )
    assert {"h2", "h2_observed", "sigma2_a"} <= set(idata.posterior.data_vars)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))


def test_liabilities_respect_their_categories(small):
    data, sim = small
    model = bg.Model(data, "o", terms(sim), family="threshold")
    gibbs = Gibbs(model)
    rng = np.random.default_rng(2)
    chain = gibbs.init(rng)
    for _ in range(5):
        gibbs.step(rng, chain)
    state = chain.states[-1]
    rows = model.likelihood.observed_rows
    edges = np.concatenate([[-np.inf, 0.0], state["cutpoints"], [np.inf]])
    liability, category = state["y"][rows, 0], state["category"]
    assert np.all((liability > edges[category]) & (liability <= edges[category + 1]))
    np.testing.assert_array_equal(category, model.y[rows].astype(int))


def test_cutpoint_move_rejects_what_its_reverse_proposal_cannot_reach():
    """Cowles' proposal draws tau_j' truncated to (tau_{j-1}', tau_{j+1}); its reverse draws tau_j
    within (tau_{j-1}, tau_{j+1}'), so from tau' = (0.2, 0.3) it cannot return to tau = (0.5, 1.0):
    q(tau | tau') = 0 and the log ratio is -inf. Inside the support the ratio is the normalising
    constants' (the Gaussian kernels cancel)."""
    threshold = bg.Threshold(cutpoint_prior=1.0)
    current = np.array([0.5, 1.0])
    assert threshold._log_proposal_ratio(current, np.array([0.2, 0.3]), 0.4) == -np.inf
    proposed, s = np.array([0.2, 0.8]), 0.4

    def z(mean, lower, upper):
        return np.log(stats.norm.cdf((upper - mean) / s) - stats.norm.cdf((lower - mean) / s))

    forward = z(0.5, 0.0, 1.0) + z(1.0, 0.2, np.inf)  # tau_1' in (0, tau_2), tau_2' in (tau_1', inf)
    backward = z(0.2, 0.0, 0.8) + z(0.8, 0.5, np.inf)  # tau_1 in (0, tau_2'), tau_2 in (tau_1, inf)
    np.testing.assert_allclose(threshold._log_proposal_ratio(current, proposed, s), forward - backward, rtol=1e-12)


def test_cutpoint_move_alone_samples_the_cutpoints_prior():
    """With no record the move's target is the prior of two free cut-points, sorted half-normals
    (s = 1): E[tau_2] = int 4(1 - Phi(t))^2 dt, E[tau_3] = 2 sqrt(2/pi) - E[tau_2]. Means of 20,000
    moves within 4 batch-means standard errors (the reverse-support error gave 0.353 against 0.465)."""
    threshold = bg.Threshold(cutpoint_prior=1.0)
    rng = np.random.default_rng(7)
    state = {"cutpoints": np.array([0.5, 1.0]), "category": np.zeros(0, dtype=np.int64)}
    state.update(log_scale=np.array([np.log(0.8)]), moves=np.zeros(2))
    draws = np.empty((20000, 2))
    for i in range(draws.shape[0]):
        threshold._move_cutpoints(rng, state, np.zeros(0), tuning=False)
        draws[i] = state["cutpoints"]
    low = integrate.quad(lambda t: 4.0 * stats.norm.sf(t) ** 2, 0.0, np.inf)[0]
    expected = np.array([low, 2.0 * np.sqrt(2.0 / np.pi) - low])
    batches = draws.reshape(50, -1, 2).mean(axis=1)
    mcse = batches.std(axis=0, ddof=1) / np.sqrt(50)
    assert np.all(np.abs(draws.mean(axis=0) - expected) < 4.0 * mcse), (draws.mean(axis=0), expected, mcse)


def test_pointwise_log_likelihood_is_the_category_probability(small):
    data, sim = small
    model = bg.Model(data, "o", terms(sim), family="threshold", log_likelihood="conditional")
    gibbs = Gibbs(model)
    rng = np.random.default_rng(3)
    chain = gibbs.init(rng)
    for _ in range(3):
        gibbs.step(rng, chain)
    state = chain.states[-1]
    rows = model.likelihood.observed_rows
    mu = state["y"][rows, 0] - chain.ctx.resid[rows, 0]
    edges = np.concatenate([[-np.inf, 0.0], state["cutpoints"], [np.inf]])
    c = state["category"]
    expected = np.log(stats.norm.cdf(edges[c + 1] - mu) - stats.norm.cdf(edges[c] - mu))
    np.testing.assert_allclose(gibbs.record(chain)[("log_likelihood", "y")], expected, rtol=1e-10)


def test_integrated_log_likelihood_integrates_the_own_effect_numerically(small):
    """P(c | .) with the record's own effect b ~ N(m, v) integrated out equals the quadrature of
    Phi(tau_{c+1} - mu_r + b_r - b) - Phi(tau_c - mu_r + b_r - b) against N(b | m, v)."""
    data, sim = small
    data = data.copy()
    data["family"] = [f"f{k % 15}" for k in range(len(data))]
    model = bg.Model(data, "o", [bg.Fixed(), bg.Random("family")], family="threshold")
    gibbs = Gibbs(model)
    rng = np.random.default_rng(5)
    chain = gibbs.init(rng)
    for _ in range(3):
        gibbs.step(rng, chain)
    shift, extra = model.integrated_likelihood(chain.states, chain.ctx)
    values = gibbs.record(chain)[("log_likelihood", "y")]
    state = chain.states[-1]
    rows = model.likelihood.observed_rows
    mu = state["y"][rows, 0] - chain.ctx.resid[rows, 0]
    edges = np.concatenate([[-np.inf, 0.0], state["cutpoints"], [np.inf]])
    for i in (0, 7, 31):
        r, c = rows[i], state["category"][i]
        # mu without the own effect's current deviation from its conditional mean m: mu - shift; b - m ~ N(0, v).
        centre, v = mu[i] - shift[r], extra[r]
        density = stats.norm(0.0, np.sqrt(v)).pdf
        value, _ = integrate.quad(
            lambda d: (stats.norm.cdf(edges[c + 1] - centre - d) - stats.norm.cdf(edges[c] - centre - d)) * density(d),
            -12 * np.sqrt(v),
            12 * np.sqrt(v),
        )
        np.testing.assert_allclose(values[i], np.log(value), rtol=1e-6)


def test_observed_scale_heritability_is_dempster_lerner(small):
    data, sim = small
    model = bg.Model(data, "y", terms(sim), family="threshold")
    idata = model.sample(draws=20, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    p = float(np.mean(data["y"]))
    z = stats.norm.pdf(stats.norm.ppf(p))
    np.testing.assert_allclose(
        idata.posterior["h2_observed"].values, idata.posterior["h2"].values * z * z / (p * (1 - p)), rtol=1e-12
    )


def test_predictions_and_replicates_are_categories(small):
    data, sim = small
    data = data.copy()
    data.loc[data.index[:5], "o"] = np.nan
    model = bg.Model(data, "o", terms(sim), family="threshold", posterior_predictive=True)
    idata = model.sample(draws=20, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    probability = idata.predictions["probability"].values
    assert probability.shape[-2:] == (5, 3)
    np.testing.assert_allclose(probability.sum(axis=-1), 1.0, rtol=1e-12)
    cut = idata.posterior["cutpoints"].values[..., 0]
    mu = idata.predictions["mu"].values
    np.testing.assert_allclose(probability[..., 0], stats.norm.cdf(-mu), rtol=1e-10)
    # The top category's probability is computed as 1 - Phi (the differences of the CDF): exact to
    # ~1e-16 absolute, so tiny probabilities are compared on that scale.
    np.testing.assert_allclose(probability[..., 2], stats.norm.sf(cut[..., None] - mu), rtol=1e-8, atol=1e-15)
    assert set(np.unique(idata.predictions["y"].values)) <= {0.0, 1.0, 2.0}
    assert set(np.unique(idata.posterior_predictive["y"].values)) <= {0.0, 1.0, 2.0}


def test_cross_validation_scores_auc_and_log_score(small):
    data, sim = small
    model = bg.Model(data, "y", terms(sim), family="threshold")
    table = bg.cross_validate(model, folds=2, seed=1, draws=20, burn=10, chains=1)
    assert list(table.columns[-2:]) == ["auc", "log_score"]
    assert table["auc"].between(0, 1).all() and (table["log_score"] < 0).all()
    ordinal = bg.cross_validate(
        bg.Model(data, "o", terms(sim), family="threshold"), folds=2, seed=1, draws=20, burn=10, chains=1
    )
    assert ordinal["auc"].isna().all() and (ordinal["log_score"] < 0).all()


def test_auc_of_known_scores():
    from bayesgen.likelihoods.threshold import _auc

    assert _auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert _auc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5


# ---------------------------------------------------------------------- censored
@pytest.fixture(scope="module")
def censored():
    sim = bg.simulate(
        n_founders=20, n_generations=2, n_offspring=60, n_markers=0, seed=4, family="censored", censoring=0.3
    )
    return sim.phenotypes.set_index("id", drop=False), sim


def test_censored_reading_and_errors(censored):
    data, sim = censored
    model = bg.Model(data, "y", terms(sim), family="censored", bounds=("lower", "upper"))
    n_censored = int(data["lower"].notna().sum())
    assert model.likelihood.n_censored == n_censored
    np.testing.assert_array_equal(model.y[data["lower"].notna().to_numpy()], data["lower"].dropna().to_numpy())
    bad = data.copy()
    bad["upper"] = bad["lower"] - 1.0
    with pytest.raises(ValueError, match=r"Lower bound column 'lower' is above upper bound column 'upper' in rows"):
        bg.Model(bad, "y", terms(sim), family="censored", bounds=("lower", "upper"))
    bad = data.copy()
    exact = bad.index[bad["y"].notna()][0]
    bad.loc[exact, "lower"] = bad.loc[exact, "y"] + 1.0
    with pytest.raises(ValueError, match=rf"exact values outside their bounds .* rows '{exact}'"):
        bg.Model(bad, "y", terms(sim), family="censored", bounds=("lower", "upper"))
    with pytest.raises(TypeError, match=r"needs bounds="):
        bg.Model(data, "y", terms(sim), family="censored")
    with pytest.raises(ValueError, match=r"'nope'"):
        bg.Model(data, "y", terms(sim), family="censored", bounds=("lower", "nope"))


def test_censored_values_stay_in_their_windows_and_log_likelihood(censored):
    data, sim = censored
    model = bg.Model(data, "y", terms(sim), family="censored", bounds=("lower", "upper"), log_likelihood="conditional")
    gibbs = Gibbs(model)
    rng = np.random.default_rng(1)
    chain = gibbs.init(rng)
    for _ in range(5):
        gibbs.step(rng, chain)
    state = chain.states[-1]
    rows = model.likelihood.observed_rows
    censored_rows = data["lower"].notna().to_numpy()[rows]
    value = state["y"][rows, 0]
    assert np.all(value[censored_rows] > data["lower"].to_numpy()[rows][censored_rows])
    np.testing.assert_array_equal(value[~censored_rows], data["y"].to_numpy()[rows][~censored_rows])
    mu = value - chain.ctx.resid[rows, 0]
    sd = np.sqrt(state["sigma2_e"][0, 0])
    expected = np.where(
        censored_rows, stats.norm.logsf(data["lower"].to_numpy()[rows], mu, sd), stats.norm.logpdf(value, mu, sd)
    )
    np.testing.assert_allclose(gibbs.record(chain)[("log_likelihood", "y")], expected, rtol=1e-10)


@pytest.fixture(scope="module")
def censored_pair(censored):
    """The censored trait beside a Gaussian trait correlated with it, a few records missing one trait."""
    data, sim = censored
    data = data.copy()
    rng = np.random.default_rng(6)
    data["g"] = (
        0.8 * data["true_bv"] + 0.5 * (data["y_uncensored"] - data["true_bv"]) + 0.6 * rng.standard_normal(len(data))
    )
    data.loc[data.index[:3], "g"] = np.nan
    data.loc[data.index[3:6], ["y", "lower", "upper"]] = np.nan
    return data, sim


def test_a_censored_trait_beside_a_gaussian_one(censored_pair):
    data, sim = censored_pair
    model = bg.Model(data, ["g", "y"], terms(sim), family=["gaussian", "censored"], bounds=("lower", "upper"))
    assert model.likelihood.trait == 1 and model.likelihood.describe()["censored_trait"] == "y"
    idata = model.sample(draws=20, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    assert idata.posterior["sigma2_e"].shape[-2:] == (2, 2)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    gibbs = Gibbs(model)
    rng = np.random.default_rng(1)
    chain = gibbs.init(rng)
    for _ in range(3):
        gibbs.step(rng, chain)
    state, likelihood = chain.states[-1], model.likelihood
    rows = likelihood.observed_rows
    lower = data["lower"].to_numpy()[rows]
    upper = data["upper"].to_numpy()[rows]
    value = state["y"][rows, 1]
    right = ~np.isnan(lower) & np.isnan(upper)
    assert right.sum() > 10 and np.all(value[right] > lower[right])
    exact = ~np.isnan(data["y"].to_numpy()[rows])
    np.testing.assert_array_equal(value[exact], data["y"].to_numpy()[rows][exact])


def test_pointwise_log_likelihood_of_a_censored_record_beside_a_gaussian_trait(censored_pair):
    """log of the joint density of (g, y) integrated over the censored record's window, by quadrature;
    a record without g: its window's probability under N(mu, R_yy)."""
    from scipy.special import ndtr

    data, sim = censored_pair
    model = bg.Model(data, ["g", "y"], terms(sim), family=["gaussian", "censored"], bounds=("lower", "upper"))
    gibbs = Gibbs(model)
    rng = np.random.default_rng(3)
    chain = gibbs.init(rng)
    for _ in range(5):
        gibbs.step(rng, chain)
    state, likelihood = chain.states[-1], model.likelihood
    state["sigma2_e"][:] = [[0.7, 0.3], [0.3, 0.9]]
    values = likelihood.log_likelihood(state, chain.ctx)
    cov = state["sigma2_e"]
    precision = np.linalg.inv(cov)
    rows = likelihood.observed_rows
    mu = state["y"][rows] - chain.ctx.resid[rows]
    g = data["g"].to_numpy()[rows]
    lower = np.nan_to_num(data["lower"].to_numpy()[rows], nan=-np.inf)
    upper = np.nan_to_num(data["upper"].to_numpy()[rows], nan=np.inf)
    censored = state["censored"]
    assert censored.sum() > 10
    checked = 0
    for i in np.flatnonzero(censored & ~np.isnan(g))[:6]:

        def density(value, i=i):
            r = np.array([g[i] - mu[i, 0], value - mu[i, 1]])
            return np.exp(-0.5 * r @ precision @ r) / (2 * np.pi * np.sqrt(np.linalg.det(cov)))

        expected = np.log(integrate.quad(density, lower[i], upper[i], epsabs=0.0, epsrel=1e-12)[0])
        np.testing.assert_allclose(values[i], expected, rtol=1e-9)
        checked += 1
    assert checked == 6
    alone = np.flatnonzero(censored & np.isnan(g))
    assert alone.size
    for i in alone:
        sd = np.sqrt(cov[1, 1])
        expected = np.log(ndtr((upper[i] - mu[i, 1]) / sd) - ndtr((lower[i] - mu[i, 1]) / sd))
        np.testing.assert_allclose(values[i], expected, rtol=1e-10)
    # exact records: the bivariate normal density of their observed traits
    i = np.flatnonzero(~censored & ~np.isnan(g) & ~np.isnan(data["y"].to_numpy()[rows]))[0]
    r = np.array([g[i] - mu[i, 0], state["y"][rows[i], 1] - mu[i, 1]])
    expected = -0.5 * (2 * np.log(2 * np.pi) + np.log(np.linalg.det(cov)) + r @ precision @ r)
    np.testing.assert_allclose(values[i], expected, rtol=1e-12)


def test_censored_family_lists_errors(censored_pair):
    data, sim = censored_pair
    data = data.assign(b=(data["g"] > data["g"].median()).astype(float))
    with pytest.raises(TypeError, match="give its bounds"):
        bg.Model(data, ["g", "y"], terms(sim), family=["gaussian", "censored"])
    data = data.assign(b2=data["b"], b3=data["b"])
    with pytest.raises(ValueError, match="a censored trait goes beside one or two threshold traits"):
        bg.Model(
            data,
            ["b", "b2", "b3", "y"],
            terms(sim),
            family=["threshold", "threshold", "threshold", "censored"],
            bounds=("lower", "upper"),
        )
    with pytest.raises(ValueError, match="lists 'censored' once"):
        bg.Model(data, ["y", "g"], terms(sim), family=["censored", "censored"], bounds=("lower", "upper"))
    with pytest.raises(ValueError, match="bounds= is for a 'censored' trait"):
        bg.Model(data, ["g", "b"], terms(sim), family=["gaussian", "threshold"], bounds=("lower", "upper"))
    with pytest.raises(ValueError, match="trait=2: the censored trait's position is beyond"):
        bg.Model(data, ["g", "y"], terms(sim), family=bg.Censored(bounds=("lower", "upper"), trait=2))


# ---------------------------------------------------------------------- simulation
def test_simulate_threshold_and_censoring_options():
    sim = bg.simulate(
        n_founders=20, n_generations=2, n_offspring=100, n_markers=0, seed=1, family="threshold", prevalence=0.05
    )
    assert sim.phenotypes["y"].mean() == pytest.approx(0.05, abs=0.006)
    assert sim.truth["sigma2_a_liability"] == pytest.approx(0.4 / 0.6)
    assert ((sim.phenotypes["liability"] > sim.truth["threshold"]) == (sim.phenotypes["y"] == 1)).all()
    for argument, value in (("prevalence", 1.0), ("censoring", 0.0), ("family", "poisson")):
        with pytest.raises(ValueError, match=argument):
            bg.simulate(n_markers=0, seed=1, **{argument: value})
    # The Gaussian path draws the same data as before the options existed.
    before = bg.simulate(n_founders=10, n_generations=1, n_offspring=20, n_markers=0, seed=5)
    assert list(before.phenotypes.columns) == ["id", "sex", "generation", "y", "true_bv"]


# ---------------------------------------------------------------------- the command line
def test_spec_keys_family_categories_and_bounds(tmp_path, capsys):
    phenotypes = _write_spec_data(tmp_path)
    phenotypes["grade"] = np.select([phenotypes["true_bv"] < -0.3, phenotypes["true_bv"] < 0.3], ["low", "mid"], "high")
    phenotypes.to_csv(tmp_path / "phen.csv", index=False)
    head = SPEC_DATA + '[model]\ntype = "animal"\nid = "id"\n'
    cases = [
        ('trait = "grade"\nfamily = "threshold"\ncategories = ["low", "mid", "high"]\n', 0, "cutpoints"),
        ('trait = "y"\nfamily = "censored"\nbounds = ["lower", "upper"]\n', 0, "sigma2_a"),
        ('trait = "grade"\nfamily = "threshold"\n', 2, "'grade' holds non-ordered categories"),
        ('trait = "grade"\nfamily = "threshold"\ncategories = ["low", "high"]\n', 2, "values ['mid'] not in model"),
        ('trait = "y"\nfamily = "censored"\n', 2, "needs model.bounds"),
        ('trait = "y"\nfamily = "logit"\n', 2, "model.family must be one of"),
    ]
    _check_spec_cases(tmp_path, capsys, head, SPEC_SAMPLER, cases)


def test_spec_family_list_for_a_formula_of_several_traits(tmp_path, capsys):
    """model.family as a list, one per trait of a cbind(...) formula, with model.bounds for a
    censored entry; errors name the key."""
    phenotypes = _write_spec_data(tmp_path)
    phenotypes["d"] = (phenotypes["true_bv"] + np.random.default_rng(1).standard_normal(len(phenotypes)) > 0).astype(
        int
    )
    phenotypes["g"] = phenotypes["true_bv"] + np.random.default_rng(2).standard_normal(len(phenotypes))
    phenotypes.to_csv(tmp_path / "phen.csv", index=False)
    head = SPEC_DATA + "[model]\n"
    cases = [
        ('formula = "cbind(g, d) ~ trait + animal(id)"\nfamily = ["gaussian", "threshold"]\n', 0, "rho_e"),
        (
            'formula = "cbind(y, d) ~ trait + animal(id)"\nfamily = ["censored", "threshold"]\nbounds = ["lower", "upper"]\n',
            0,
            "rho_e",
        ),
        ('formula = "cbind(y, d) ~ trait + animal(id)"\nfamily = ["censored", "threshold"]\n', 2, "needs model.bounds"),
        ('formula = "cbind(g, d) ~ trait + animal(id)"\nfamily = ["gaussian"]\n', 2, "lists 1 families for the"),
        (
            'formula = "cbind(g, d) ~ trait + animal(id)"\nfamily = ["gaussian", "probit"]\n',
            2,
            "model.family[1] must be",
        ),
        ('formula = "g ~ animal(id)"\nfamily = ["gaussian", "threshold"]\n', 2, "goes with a model.formula of several"),
        ('type = "animal"\nid = "id"\ntrait = "g"\nfamily = ["gaussian"]\n', 2, "goes with a model.formula of several"),
    ]
    _check_spec_cases(tmp_path, capsys, head, SPEC_SAMPLER, cases)


#: The specs' [data] section (files written by ``_write_spec_data``) and their short [sampler].
SPEC_DATA = '[data]\nphenotypes = "phen.csv"\npedigree = "ped.csv"\n'
SPEC_SAMPLER = "[sampler]\ndraws = 5\nburn = 2\nchains = 1\nseed = 1\n"


def _write_spec_data(tmp_path):
    """A simulated censored trait's pedigree written to ``ped.csv``; its phenotypes (the caller adds
    columns and writes ``phen.csv``)."""
    sim = bg.simulate(n_founders=10, n_generations=1, n_offspring=40, n_markers=0, seed=2, family="censored")
    sim.pedigree.to_csv(tmp_path / "ped.csv", index=False)
    return sim.phenotypes.copy()


def _check_spec_cases(tmp_path, capsys, head, tail, cases):
    """Each [model] text between ``head`` and ``tail`` makes a spec; ``bayesgen fit`` exits with the
    case's code and prints its message (stdout when it succeeds, stderr when it fails)."""
    from bayesgen.cli.main import main

    for k, (model, code, message) in enumerate(cases):
        spec = tmp_path / f"spec{k}.toml"
        spec.write_text(head + model + tail)
        assert main(["fit", str(spec), "--no-progress", "--output", str(tmp_path / f"fit{k}.nc")]) == code, model
        captured = capsys.readouterr()
        assert message in (captured.out if code == 0 else captured.err), (
            model,
            captured.out[-800:],
            captured.err[-500:],
        )


# ---------------------------------------------------------------------- a Gaussian and a binary trait
def test_gaussian_binary_pair_fixes_the_binary_residual_variance(small):
    data, sim = small
    data = data.copy()
    data["weight"] = data["liability"] + np.random.default_rng(1).standard_normal(len(data))
    data.loc[data.index[:4], "weight"] = np.nan
    data.loc[data.index[4:8], "y"] = np.nan
    model = bg.Model(
        data, ["weight", "y"], [bg.Fixed(), bg.Animal("id", sim.pedigree_object())], family=["gaussian", "threshold"]
    )
    idata = model.sample(draws=20, burn=10, chains=1, seed=1, progress=False, check_convergence=False)
    sigma2_e = idata.posterior["sigma2_e"].values
    np.testing.assert_array_equal(sigma2_e[..., 1, 1], 1.0)
    assert np.all(sigma2_e[..., 0, 1] != 0.0) and np.all(np.abs(idata.posterior["rho_e"].values[..., 0, 1]) < 1)
    assert np.all(np.isfinite(idata.log_likelihood["y"].values))
    gibbs = Gibbs(model)
    rng = np.random.default_rng(2)
    chain = gibbs.init(rng)
    for _ in range(3):
        gibbs.step(rng, chain)
    state = chain.states[-1]
    rows = model.likelihood.observed_rows
    has = model.likelihood._has_category[:, 0]
    liability = state["y"][rows[has], 1]
    np.testing.assert_array_equal(liability > 0, data["y"].to_numpy()[rows[has]] == 1)


def test_mixed_families_errors(small):
    data, sim = small
    data = data.assign(weight=data["liability"])
    with pytest.raises(ValueError, match="beside Gaussian traits a model takes one to three threshold"):
        bg.Model(
            data.assign(y2=data["y"], y3=data["y"], y4=data["y"]),
            ["weight", "y", "y2", "y3", "y4"],
            terms(sim),
            family=["gaussian"] + ["threshold"] * 4,
        )
    with pytest.raises(ValueError, match="two or more traits, one or more of them 'threshold'"):
        bg.Model(data, ["weight", "y"], terms(sim), family=["gaussian", "gaussian"])
    with pytest.raises(ValueError, match="'gaussian', 'threshold' or a Threshold object"):
        bg.Model(data, ["weight", "o"], terms(sim), family=["gaussian", "ordinal"])
    with pytest.raises(TypeError, match="need an InverseWishart prior"):
        bg.Model(data, ["weight", "y"], terms(sim), family=["gaussian", "threshold"], sigma2_e=bg.HuangWand())


def test_cross_validation_of_a_censored_trait_masks_the_bounds(censored):
    data, sim = censored
    model = bg.Model(data, "y", terms(sim), family="censored", bounds=("lower", "upper"))
    table = bg.cross_validate(model, folds=2, seed=1, draws=20, burn=10, chains=1)
    assert list(table.columns[-3:]) == ["accuracy", "slope", "mse"]
    assert table["n_test"].sum() == int(model.observed.sum())
