r"""BRR on centred markers W is a Kernel term with K = W W' (issue 8, "exact where the math says so").

With :math:`\alpha \sim N(0, \sigma^2 I)`, the genetic values :math:`g = W\alpha \sim N(0, \sigma^2 WW')`,
the law of the Kernel term's :math:`u` with :math:`K = WW'` and the same prior on
:math:`\sigma^2`. So the posterior of g is the same in both models:

* variances fixed: exactly Gaussian, with (flat intercept, :math:`V = \sigma^2 K + \sigma^2_e I`,
  :math:`P = V^{-1} - V^{-1}1(1'V^{-1}1)^{-1}1'V^{-1}`)
  :math:`E(g \mid y) = \sigma^2 K P y` and :math:`\mathrm{Var}(g \mid y) = \sigma^2 K - \sigma^4 K P K`;
  and the BRR effects have mean :math:`(W'W + \lambda I)^{-1} W'y` and covariance
  :math:`\sigma^2_e (W'W + \lambda I)^{-1}`, :math:`\lambda = \sigma^2_e / \sigma^2` (W centred, so W'1 = 0);
* variances sampled: the two samplers' posterior means of g and of g² agree within Monte Carlo error.

Tolerances: z-scores from arviz's MCSE (ESS-based), Bonferroni over all compared quantities
at a family-wise 1% level. Fixed seeds.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import mcse_mean
from scipy.stats import norm

import bayesgen as bg

pytestmark = pytest.mark.statistical

N_IDS, N_MARKERS = 40, 60
SIGMA2_ALPHA, SIGMA2_E = 0.02, 0.6


@pytest.fixture(scope="module")
def population():
    """40 individuals with one record each, 60 markers (p > n, so K = WW' has rank n - 1)."""
    rng = np.random.default_rng(8)
    ids = [f"i{k:02d}" for k in range(N_IDS)]
    freq = rng.uniform(0.1, 0.9, N_MARKERS)
    codes = rng.binomial(2, freq, size=(N_IDS, N_MARKERS)).astype(float)
    genotypes = bg.Genotypes(ids, codes, [f"m{j:02d}" for j in range(N_MARKERS)])
    w = genotypes.codes.T - genotypes.centre[None, :]  # the centring the Markers term uses
    effects = np.zeros(genotypes.n_markers)
    effects[:5] = rng.normal(0.0, 0.4, 5)
    data = pd.DataFrame({"id": ids, "y": 3.0 + w @ effects + rng.normal(0.0, np.sqrt(SIGMA2_E), N_IDS)})
    kernel = pd.DataFrame(w @ w.T, index=ids, columns=ids)
    return data, genotypes, w, kernel


def brr_model(population, variance, sigma2_e):
    data, genotypes, _, _ = population
    return bg.Model(
        data, "y", [bg.Fixed(), bg.Markers("id", genotypes, prior=bg.RidgePrior(prior=variance))], sigma2_e=sigma2_e
    )


def kernel_model(population, variance, sigma2_e):
    data, _, _, kernel = population
    return bg.Model(data, "y", [bg.Fixed(), bg.Kernel("id", kernel, prior=variance, name="g")], sigma2_e=sigma2_e)


def genetic_value_draws(population, idata, markers: bool) -> np.ndarray:
    """(chain, draw, record) draws of g: W alpha for BRR, u of each record's id for the Kernel."""
    data, _, w, _ = population
    if markers:
        return idata.posterior["alpha"].values @ w.T
    return idata.posterior["g"].sel(g_level=data["id"].tolist()).values


def bonferroni(n_tests: int, alpha: float = 0.01) -> float:
    return float(norm.ppf(1.0 - alpha / (2.0 * n_tests)))


def closed_form(population):
    data, _, w, kernel = population
    K = kernel.to_numpy()
    y = data["y"].to_numpy()
    V = SIGMA2_ALPHA * K + SIGMA2_E * np.eye(N_IDS)
    Vi = np.linalg.inv(V)
    one = np.ones((N_IDS, 1))
    P = Vi - Vi @ one @ np.linalg.inv(one.T @ Vi @ one) @ one.T @ Vi
    mean_g = SIGMA2_ALPHA * K @ P @ y
    cov_g = SIGMA2_ALPHA * K - SIGMA2_ALPHA**2 * K @ P @ K
    lhs = w.T @ w + (SIGMA2_E / SIGMA2_ALPHA) * np.eye(w.shape[1])
    mean_alpha = np.linalg.solve(lhs, w.T @ y)
    cov_alpha = SIGMA2_E * np.linalg.inv(lhs)
    return mean_g, cov_g, mean_alpha, cov_alpha


def z_scores(draws: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """|mean - truth| / MCSE per last-axis element of (chain, draw, k) draws."""
    return np.array([abs(draws[..., k].mean() - truth[k]) / mcse_mean(draws[..., k]) for k in range(truth.size)])


def test_closed_forms_agree_with_each_other(population):
    """The two closed forms describe one posterior: W times the ridge solution is E(g | y)."""
    _, _, w, _ = population
    mean_g, cov_g, mean_alpha, cov_alpha = closed_form(population)
    np.testing.assert_allclose(w @ mean_alpha, mean_g, atol=1e-10)
    np.testing.assert_allclose(w @ cov_alpha @ w.T, cov_g, atol=1e-10)


@pytest.mark.parametrize("markers", [True, False], ids=["BRR", "Kernel-WWt"])
def test_fixed_variances_give_the_closed_form_posterior(population, markers):
    make = brr_model if markers else kernel_model
    model = make(population, bg.FixedVariance(SIGMA2_ALPHA), bg.FixedVariance(SIGMA2_E))
    idata = model.sample(draws=3000, burn=200, chains=2, seed=2026, progress=False)
    mean_g, cov_g, mean_alpha, cov_alpha = closed_form(population)
    g = genetic_value_draws(population, idata, markers)
    # Means of g and of (g - E g)^2, whose expectation is the posterior variance.
    scores = [z_scores(g, mean_g), z_scores((g - mean_g) ** 2, np.diag(cov_g))]
    if markers:
        alpha = idata.posterior["alpha"].values
        scores += [z_scores(alpha, mean_alpha), z_scores((alpha - mean_alpha) ** 2, np.diag(cov_alpha))]
    scores = np.concatenate(scores)
    assert scores.max() < bonferroni(scores.size), f"largest z {scores.max():.2f} of {scores.size}"


def test_sampled_variances_give_the_same_posterior_of_w_alpha(population):
    prior = bg.ScaledInvChi2(df=6.0, scale=SIGMA2_ALPHA)
    residual = bg.ScaledInvChi2(df=6.0, scale=SIGMA2_E)
    fits = {}
    for markers in (True, False):
        make = brr_model if markers else kernel_model
        idata = make(population, prior, residual).sample(draws=4000, burn=300, chains=2, seed=7, progress=False)
        g = genetic_value_draws(population, idata, markers)
        sigma2 = idata.posterior["sigma2_alpha" if markers else "sigma2_g"].values[..., None]
        stats = np.concatenate([g, g**2, sigma2, idata.posterior["sigma2_e"].values[..., None]], axis=-1)
        fits[markers] = (stats.mean(axis=(0, 1)), np.array([mcse_mean(stats[..., k]) for k in range(stats.shape[-1])]))
    (m1, s1), (m2, s2) = fits[True], fits[False]
    scores = np.abs(m1 - m2) / np.sqrt(s1**2 + s2**2)
    assert scores.max() < bonferroni(scores.size), f"largest z {scores.max():.2f} at {scores.argmax()} of {scores.size}"
