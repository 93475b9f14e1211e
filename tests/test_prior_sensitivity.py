"""Power-scaling sensitivity (bayesgen.diagnostics.prior_sensitivity) on conjugate models.

Every InferenceData here is built with arviz.from_dict from exact posterior draws of a
conjugate model, with the log prior of each draw in sample_stats and the pointwise
log-likelihood in log_likelihood, as model.sample() stores them.
"""

import math
import warnings

import arviz as az
import numpy as np
import pytest
from scipy import stats

from bayesgen.diagnostics import (
    NO_ISSUE,
    PRIOR_DATA_CONFLICT,
    WEAK_LIKELIHOOD,
    PowerScalingWarning,
    cjs_distance,
    prior_sensitivity,
    psis_log_weights,
)

CHAINS, DRAWS = 4, 1000


# --- conjugate models: power-scaled posteriors in closed form, exact draws -------------------


class NormalMean:
    """y_i ~ N(mu, sigma^2), sigma known; mu ~ N(m0, tau^2).

    Prior^a is N(m0, tau^2 / a) and likelihood^b has precision b n / sigma^2, so the
    power-scaled posterior is normal with precision a / tau^2 + b n / sigma^2.
    """

    def __init__(self, y, m0, tau, sigma=1.0):
        self.y, self.m0, self.tau, self.sigma = np.asarray(y, float), m0, tau, sigma

    def posterior(self, prior_power=1.0, likelihood_power=1.0):
        precision = prior_power / self.tau**2 + likelihood_power * self.y.size / self.sigma**2
        mean = (prior_power * self.m0 / self.tau**2 + likelihood_power * self.y.sum() / self.sigma**2) / precision
        return stats.norm(mean, precision**-0.5)

    def idata(self, seed):
        mu = self.posterior().rvs(size=(CHAINS, DRAWS), random_state=np.random.default_rng(seed))
        return mu, az.from_dict(
            posterior={"mu": mu},
            sample_stats={"log_prior": stats.norm.logpdf(mu, self.m0, self.tau)},
            log_likelihood={"y": stats.norm.logpdf(self.y, mu[..., None], self.sigma)},
            dims={"y": ["record"]},
        )


class NormalVariance:
    """y_i ~ N(0, s2); s2 ~ scaled inverse chi-square(nu, S), i.e. InvGamma(nu / 2, nu S / 2).

    Prior^a is InvGamma(a (nu / 2 + 1) - 1, a nu S / 2) and likelihood^b adds b n / 2 to
    the shape and b sum(y^2) / 2 to the rate.
    """

    def __init__(self, y, nu, scale):
        self.y, self.nu, self.scale = np.asarray(y, float), nu, scale

    def posterior(self, prior_power=1.0, likelihood_power=1.0):
        shape = prior_power * (self.nu / 2 + 1) - 1 + likelihood_power * self.y.size / 2
        rate = prior_power * self.nu * self.scale / 2 + likelihood_power * np.sum(self.y**2) / 2
        return stats.invgamma(shape, scale=rate)

    def idata(self, seed):
        s2 = self.posterior().rvs(size=(CHAINS, DRAWS), random_state=np.random.default_rng(seed))
        return s2, az.from_dict(
            posterior={"sigma2_e": s2},
            sample_stats={"log_prior": stats.invgamma.logpdf(s2, self.nu / 2, scale=self.nu * self.scale / 2)},
            log_likelihood={"y": stats.norm.logpdf(self.y, 0.0, np.sqrt(s2)[..., None])},
            dims={"y": ["record"]},
        )


def normal_inverse_gamma_idata(y, m0, k0, a0, b0, seed=0):
    """Exact draws of (mu, sigma2_e) for y_i ~ N(mu, s2), mu | s2 ~ N(m0, s2 / k0), s2 ~ InvGamma(a0, b0)."""
    n, ybar = y.size, y.mean()
    kn, an = k0 + n, a0 + n / 2
    mn = (k0 * m0 + n * ybar) / kn
    bn = b0 + 0.5 * np.sum((y - ybar) ** 2) + k0 * n * (ybar - m0) ** 2 / (2 * kn)
    rng = np.random.default_rng(seed)
    s2 = stats.invgamma.rvs(an, scale=bn, size=(CHAINS, DRAWS), random_state=rng)
    mu = rng.normal(mn, np.sqrt(s2 / kn))
    log_prior = stats.norm.logpdf(mu, m0, np.sqrt(s2 / k0)) + stats.invgamma.logpdf(s2, a0, scale=b0)
    log_lik = stats.norm.logpdf(y, mu[..., None], np.sqrt(s2)[..., None])
    return az.from_dict(
        posterior={"mu": mu, "sigma2_e": s2},
        sample_stats={"log_prior": log_prior},
        log_likelihood={"y": log_lik},
        dims={"y": ["record"]},
    )


# --- the exact sensitivity: the same CJS between exact CDFs ----------------------------------


def exact_cjs(cdf_base, cdf_scaled, low, high, n_grid=20_001):
    """The CJS distance of the module docstring between two exact CDFs, integrated over [low, high]
    (the range of the draws, as in the estimate), max over theta and -theta (survival functions)."""
    x = np.linspace(low, high, n_grid)
    p, q = cdf_base(x), cdf_scaled(x)
    distances = []
    for a, b in ((p, q), (1.0 - p, 1.0 - q)):
        mid = 0.5 * (a + b)
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.nan_to_num(a * np.log2(a / mid)) + np.nan_to_num(b * np.log2(b / mid))
        distances.append(math.sqrt(max(np.trapezoid(f, x) / np.trapezoid(a + b, x), 0.0)))
    return max(distances)


def exact_sensitivity(model, draws):
    """Finite-difference derivative in log2(alpha) at alpha = 0.99 and 1.01, between exact posteriors."""
    base = model.posterior()
    out = {}
    for component in ("prior", "likelihood"):
        ds = {}
        for alpha in (0.99, 1.01):
            power = {f"{component}_power": alpha}
            ds[alpha] = exact_cjs(base.cdf, model.posterior(**power).cdf, draws.min(), draws.max())
        out[component] = 0.5 * (ds[1.01] / math.log2(1.01) + ds[0.99] / -math.log2(0.99))
    return out


@pytest.mark.parametrize(
    "model",
    [
        NormalMean(np.random.default_rng(3).normal(1.0, 1.0, 10), m0=0.0, tau=0.5),
        NormalVariance(np.random.default_rng(4).normal(0.0, 2.0, 10), nu=4.0, scale=1.0),
    ],
    ids=["normal_mean", "normal_variance"],
)
def test_sensitivity_matches_exact_power_scaled_posteriors(model):
    # 20 independent replicates of 4,000 exact draws: the mean of (estimate - exact) is within
    # 4 Monte Carlo standard errors of 0 (sd over replicates 3-9% of the value; the estimate is
    # noisier when a draw lands far in a long tail, where the ECDFs' last gap is wide).
    replicates = 20
    errors = {"prior": [], "likelihood": []}
    exact_values = {"prior": [], "likelihood": []}
    for r in range(replicates):
        draws, idata = model.idata(seed=100 + r)
        estimate = prior_sensitivity(idata).iloc[0]
        exact = exact_sensitivity(model, draws.ravel())
        for component in errors:
            errors[component].append(estimate[component] - exact[component])
            exact_values[component].append(exact[component])
    for component, error in errors.items():
        error = np.asarray(error)
        mcse = error.std(ddof=1) / math.sqrt(replicates)
        exact_mean = float(np.mean(exact_values[component]))
        assert exact_mean > 0.05, (component, exact_mean)  # a sensitivity well away from 0 is checked
        assert abs(error.mean()) <= 4 * mcse, (component, error.mean(), mcse, exact_mean)


# --- diagnosis labels ------------------------------------------------------------------------


def test_strong_prior_far_from_data_is_prior_data_conflict():
    y = np.random.default_rng(1).normal(0.0, 1.0, 30)
    table = prior_sensitivity(NormalMean(y, m0=5.0, tau=0.25).idata(seed=0)[1])
    assert table.loc["mu", "prior"] > 0.5 and table.loc["mu", "likelihood"] > 0.5
    assert table.loc["mu", "diagnosis"] == PRIOR_DATA_CONFLICT == "potential prior-data conflict"


def test_vague_prior_with_plenty_of_data_is_fine_for_mean_and_variance():
    y = np.random.default_rng(5).normal(3.0, 2.0, 200)
    table = prior_sensitivity(normal_inverse_gamma_idata(y, m0=0.0, k0=1e-3, a0=1e-3, b0=1e-3))
    assert list(table.index) == ["mu", "sigma2_e"]
    assert (table["prior"] < 0.05).all()
    # informative data: power-scaling the likelihood moves the posterior, which is as it should be
    assert (table["likelihood"] > 0.05).all()
    assert (table["diagnosis"] == NO_ISSUE).all() and NO_ISSUE == "-"


def test_one_noisy_observation_is_weak_likelihood():
    table = prior_sensitivity(NormalMean([0.5], m0=0.0, tau=1.0, sigma=10.0).idata(seed=0)[1])
    assert table.loc["mu", "prior"] > 0.05 > table.loc["mu", "likelihood"]
    assert table.loc["mu", "diagnosis"] == WEAK_LIKELIHOOD == "potential strong prior / weak likelihood"


def test_threshold_moves_the_diagnosis():
    idata = NormalMean([0.5], m0=0.0, tau=1.0, sigma=10.0).idata(seed=0)[1]
    table = prior_sensitivity(idata, threshold=0.2)
    assert table.loc["mu", "diagnosis"] == NO_ISSUE
    assert table.attrs["threshold"] == 0.2


# --- the table -------------------------------------------------------------------------------


def test_columns_pareto_k_and_var_names():
    y = np.random.default_rng(5).normal(3.0, 2.0, 50)
    idata = normal_inverse_gamma_idata(y, m0=0.0, k0=1.0, a0=2.0, b0=2.0)
    before = idata.copy()  # a deep copy
    table = prior_sensitivity(idata, var_names="sigma2_e")
    assert list(table.index) == ["sigma2_e"] and table.index.name == "parameter"
    assert list(table.columns) == [
        "prior",
        "likelihood",
        "diagnosis",
        "k_prior_lower",
        "k_prior_upper",
        "k_likelihood_lower",
        "k_likelihood_upper",
    ]
    log_prior = idata.sample_stats["log_prior"].values.ravel()
    log_lik = idata.log_likelihood["y"].values.sum(axis=2).ravel()
    for column, log_ratios in [
        ("k_prior_lower", -0.01 * log_prior),
        ("k_prior_upper", 0.01 * log_prior),
        ("k_likelihood_lower", -0.01 * log_lik),
        ("k_likelihood_upper", 0.01 * log_lik),
    ]:
        assert table.loc["sigma2_e", column] == pytest.approx(float(az.psislw(log_ratios)[1]), abs=1e-10)
    assert table.attrs["n_draws"] == CHAINS * DRAWS and table.attrs["alphas"] == (0.99, 1.01)
    assert table.attrs["k_threshold"] == 0.7  # min(1 - 1/log10(4000) = 0.72, 0.7)
    both = prior_sensitivity(idata, var_names=["sigma2_e", "mu"])
    assert list(both.index) == ["sigma2_e", "mu"]
    assert both.loc["sigma2_e", "prior"] == table.loc["sigma2_e", "prior"]
    assert all(idata[group].equals(before[group]) for group in idata.groups())  # nothing modified


def test_vector_variables_are_skipped_by_default():
    model = NormalMean(np.zeros(5), m0=0.0, tau=1.0)
    mu, idata = model.idata(seed=0)
    idata.posterior["u"] = (("chain", "draw", "animal"), np.zeros(mu.shape + (3,)))
    assert list(prior_sensitivity(idata).index) == ["mu"]


def test_large_pareto_k_warns_and_names_the_direction():
    # log_prior ~ Exponential(mean 100): at alpha = 1.01 the weights exp(0.01 log_prior) are
    # Pareto with k = 1, far above 0.7; at alpha = 0.99 their tail is bounded.
    rng = np.random.default_rng(7)
    idata = az.from_dict(
        posterior={"h2": rng.uniform(size=(CHAINS, DRAWS))},
        sample_stats={"log_prior": rng.exponential(100.0, size=(CHAINS, DRAWS))},
        log_likelihood={"y": rng.normal(size=(CHAINS, DRAWS, 3))},
    )
    with pytest.warns(PowerScalingWarning, match=r"prior at alpha=1\.01: k=(0\.[89]|1\.\d)") as record:
        table = prior_sensitivity(idata)
    assert "prior at alpha=0.99" not in str(record[0].message)
    assert table.loc["h2", "k_prior_upper"] > 0.8 and table.loc["h2", "k_prior_lower"] < 0.7


def test_constant_log_prior_gives_zero_prior_sensitivity_without_warning():
    model = NormalMean(np.random.default_rng(2).normal(size=20), m0=0.0, tau=1.0)
    _, idata = model.idata(seed=0)
    idata.sample_stats["log_prior"] = idata.sample_stats["log_prior"] * 0.0 - 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = prior_sensitivity(idata)
    assert table.loc["mu", "prior"] == 0.0 and np.isnan(table.loc["mu", "k_prior_upper"])
    assert table.loc["mu", "likelihood"] > 0.05


# --- the CJS distance ------------------------------------------------------------------------


def test_cjs_distance_two_point_case_by_hand():
    # draws {0, 1}: P = 1/2 and Q = w on [0, 1); mirrored, P = 1/2 and Q = 1 - w on [-1, 0).
    w = 0.3

    def by_hand(p, q):
        mid = (p + q) / 2
        return math.sqrt((p * math.log2(p / mid) + q * math.log2(q / mid)) / (p + q))

    expected = max(by_hand(0.5, w), by_hand(0.5, 1 - w))
    assert cjs_distance([1.0, 0.0], [1 - w, w]) == pytest.approx(expected, rel=1e-12)
    assert cjs_distance([0.0, 1.0], [w, 1 - w]) == pytest.approx(expected, rel=1e-12)


def test_cjs_distance_zero_cases_and_sign_invariance():
    x = np.random.default_rng(0).normal(size=500)
    w = np.exp(0.5 * x)
    assert cjs_distance(x) == 0.0
    assert cjs_distance(x, np.ones(500)) == 0.0
    assert cjs_distance(np.full(10, 2.0), np.arange(1.0, 11.0)) == 0.0  # a point mass cannot move
    assert cjs_distance(-x, w) == pytest.approx(cjs_distance(x, w), rel=1e-12)
    assert 0.0 < cjs_distance(x, w) < 1.0


def test_cjs_distance_weights_length_error():
    with pytest.raises(ValueError, match=r"weights must have one value per draw \(3\), got 2"):
        cjs_distance([1.0, 2.0, 3.0], [1.0, 1.0])


# --- errors ----------------------------------------------------------------------------------


@pytest.fixture
def idata():
    return NormalMean(np.random.default_rng(2).normal(size=5), m0=0.0, tau=1.0).idata(seed=0)[1]


def test_missing_sample_stats_group(idata):
    del idata.sample_stats
    with pytest.raises(
        ValueError,
        match=r"has no sample_stats group: power-scaling the prior needs "
        r"sample_stats\['log_prior'\].*store=\"full\"",
    ):
        prior_sensitivity(idata)


def test_sample_stats_without_log_prior(idata):
    idata.sample_stats = idata.sample_stats.rename({"log_prior": "lp"})
    with pytest.raises(ValueError, match=r"has a sample_stats group without log_prior.*store=\"full\""):
        prior_sensitivity(idata)


def test_missing_log_likelihood_group(idata):
    del idata.log_likelihood
    with pytest.raises(
        ValueError,
        match=r"has no log_likelihood group \(or an empty one\): power-scaling the "
        r"likelihood needs the pointwise log-likelihood.*store=\"full\"",
    ):
        prior_sensitivity(idata)


def test_not_inference_data():
    with pytest.raises(TypeError, match="idata must be an arviz.InferenceData, got dict"):
        prior_sensitivity({"posterior": None})


def test_no_posterior_group(idata):
    del idata.posterior
    with pytest.raises(ValueError, match="has no posterior group"):
        prior_sensitivity(idata)


def test_log_prior_with_wrong_dims(idata):
    idata.sample_stats["log_prior"] = idata.sample_stats["log_prior"].expand_dims(extra=2, axis=-1)
    with pytest.raises(ValueError, match=r"sample_stats\['log_prior'\] must have dims \('chain', 'draw'\)"):
        prior_sensitivity(idata)


def test_log_prior_with_other_draws_than_posterior(idata):
    idata.sample_stats = idata.sample_stats.isel(draw=slice(0, 10))
    with pytest.raises(
        ValueError,
        match=r"sample_stats\['log_prior'\] must have one value per draw, shape "
        r"\(chain, draw\) = \(4, 1000\) like the posterior, got shape \(4, 10\)",
    ):
        prior_sensitivity(idata)


def test_log_likelihood_with_other_draws_than_posterior(idata):
    idata.log_likelihood = idata.log_likelihood.isel(draw=slice(0, 10))
    with pytest.raises(
        ValueError,
        match=r"log_likelihood\['y'\] has \(chain, draw\) = \(4, 10\), the posterior "
        r"\(4, 1000\)",
    ):
        prior_sensitivity(idata)


def test_log_likelihood_without_draw_dim(idata):
    idata.log_likelihood = idata.log_likelihood.mean("draw")
    with pytest.raises(ValueError, match=r"log_likelihood\['y'\] must have dims \('chain', 'draw', \.\.\.\)"):
        prior_sensitivity(idata)


def test_non_finite_log_density(idata):
    idata.log_likelihood["y"][0, 3, 1] = -np.inf
    with pytest.raises(
        ValueError,
        match=r"the log-likelihood \(log_likelihood summed over records\) has 1 "
        r"non-finite values of 4000",
    ):
        prior_sensitivity(idata)


def test_non_finite_posterior_draws(idata):
    idata.posterior["mu"][1, 2] = np.nan
    with pytest.raises(ValueError, match=r"posterior\['mu'\] has 1 non-finite draws"):
        prior_sensitivity(idata)


def test_unknown_var_names(idata):
    with pytest.raises(
        ValueError,
        match=r"var_names \['h2'\] are not posterior variables; the ones reported by default "
        r"are \['mu'\]",
    ):
        prior_sensitivity(idata, var_names=["mu", "h2"])


def test_vector_var_names(idata):
    idata.posterior["u"] = (("chain", "draw", "animal"), np.zeros((CHAINS, DRAWS, 3)))
    with pytest.raises(ValueError, match=r"must name scalar parameters.*u has dims \('chain', 'draw', 'animal'\)"):
        prior_sensitivity(idata, var_names="u")


def test_empty_var_names(idata):
    with pytest.raises(ValueError, match="var_names is empty"):
        prior_sensitivity(idata, var_names=[])


def test_var_names_of_wrong_type(idata):
    with pytest.raises(TypeError, match="var_names must be a str or a list of str, got 3"):
        prior_sensitivity(idata, var_names=3)


@pytest.mark.parametrize("threshold", [0, -0.1, math.inf, math.nan, True, "0.05"])
def test_bad_threshold(idata, threshold):
    with pytest.raises(ValueError, match="threshold must be a positive finite number"):
        prior_sensitivity(idata, threshold=threshold)


def test_psis_is_used_for_the_weights():
    # the estimate reweights with Pareto-smoothed weights, not raw ones: on heavy-tailed
    # ratios the two differ, and the sensitivity follows the smoothed weights.
    rng = np.random.default_rng(11)
    theta = rng.normal(size=4000)
    log_prior = 100.0 * theta + rng.exponential(60.0, size=4000)
    smoothed, _ = psis_log_weights(0.01 * log_prior)
    raw = 0.01 * log_prior - np.logaddexp.reduce(0.01 * log_prior)
    assert not np.allclose(smoothed, raw)
    idata = az.from_dict(
        posterior={"theta": theta[None]},
        sample_stats={"log_prior": log_prior[None]},
        log_likelihood={"y": rng.normal(size=(1, 4000, 2))},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PowerScalingWarning)
        table = prior_sensitivity(idata)
    smoothed_lower, _ = psis_log_weights(-0.01 * log_prior)
    expected = 0.5 * (
        cjs_distance(theta, np.exp(smoothed)) / math.log2(1.01)
        + cjs_distance(theta, np.exp(smoothed_lower)) / -math.log2(0.99)
    )
    assert table.loc["theta", "prior"] == pytest.approx(expected, rel=1e-12)


# --- several traits --------------------------------------------------------------------------


def test_two_trait_fit_reports_each_element_of_the_covariances_and_h2():
    """Issue 16 item 4: a two-trait fit has no scalar parameter; every element of its
    variance, correlation and h2 variables is a parameter (covariance upper triangle,
    correlation strict upper triangle), with the sensitivity of that element's draws."""
    import bayesgen as bg

    sim = bg.simulate(n_founders=20, n_generations=2, n_offspring=50, n_markers=0, seed=8)
    data = sim.phenotypes.assign(y2=0.5 * sim.phenotypes["y"] + np.random.default_rng(1).normal(size=100))
    model = bg.Model(data, ["y", "y2"], [bg.Fixed(["sex"]), bg.Animal("id", sim.pedigree_object())])
    idata = model.sample(draws=100, burn=50, chains=2, seed=1, progress=False, check_convergence=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PowerScalingWarning)  # 200 draws: k-hat may exceed its limit
        table = prior_sensitivity(idata)
        assert list(table.index) == [
            "sigma2_a[y, y]",
            "sigma2_a[y, y2]",
            "sigma2_a[y2, y2]",
            "rho_animal[y, y2]",
            "sigma2_e[y, y]",
            "sigma2_e[y, y2]",
            "sigma2_e[y2, y2]",
            "rho_e[y, y2]",
            "h2[y]",
            "h2[y2]",
        ]
        assert np.isfinite(table[["prior", "likelihood"]].to_numpy()).all()
        assert (table["likelihood"] > 0).all()
        # An element's row is the sensitivity of its own draws, as if it were a scalar.
        element = idata.posterior["sigma2_a"].sel(trait_row="y", trait_col="y2").values
        scalar = az.InferenceData(
            posterior=idata.posterior.assign(x=(("chain", "draw"), element)),
            sample_stats=idata.sample_stats,
            log_likelihood=idata.log_likelihood,
        )
        alone = prior_sensitivity(scalar, var_names="x")
        assert table.loc["sigma2_a[y, y2]", "prior"] == alone.loc["x", "prior"]
        assert table.loc["sigma2_a[y, y2]", "likelihood"] == alone.loc["x", "likelihood"]
        # var_names may name a matrix variable: its elements.
        assert list(prior_sensitivity(idata, var_names="h2").index) == ["h2[y]", "h2[y2]"]
