"""Closed-form posteriors checked within Monte Carlo error (4 MCSE, fixed seeds)."""

import numpy as np
import pandas as pd
import pytest
from conftest import mcse_mean, mcse_sd, z_within

import bayesgen as bg
from bayesgen.kernels import sweep_markers_gaussian, weighted_cross_products

SIRE_DATA = pd.DataFrame(
    {"y": [9, 12, 11, 6, 7, 14.0], "env": ["1", "2", "1", "1", "1", "2"], "sire": ["1", "1", "2", "2", "3", "3"]}
)


def mixed_model_solution(sigma2_e=6.0, sigma2_u=2.0):
    x = np.array([[1, 0], [0, 1], [1, 0], [1, 0], [1, 0], [0, 1]], float)
    z = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]], float)
    w = np.hstack([x, z])
    c = w.T @ w
    c[2:, 2:] += np.eye(3) * sigma2_e / sigma2_u
    y = SIRE_DATA["y"].to_numpy()
    return np.linalg.solve(c, w.T @ y), np.linalg.inv(c) * sigma2_e


def test_mixed_model_equations_give_the_textbook_solution():
    mean, _ = mixed_model_solution()
    np.testing.assert_allclose(mean, np.r_[148, 235, -1, 2, -1] / np.r_[18, 18, 18, 18, 18])


@pytest.mark.parametrize("sampler", ["single-site", "joint", "pcg", "collapsed"])
def test_sire_model_with_known_variances_matches_blue_blup_and_covariance(sampler):
    model = bg.Model(
        SIRE_DATA,
        "y",
        [bg.Fixed(["env"], intercept=False), bg.Random("sire", prior=2.0)],
        sigma2_e=6.0,
        sampler=sampler,
    )
    idata = model.sample(draws=5000, burn=100, chains=4, seed=20261121, progress=False)
    post = idata.posterior
    draws = np.concatenate([post["beta"].values, post["sire"].values], axis=-1)  # chain, draw, 5
    mean, cov = mixed_model_solution()
    assert list(post["beta"].coords["coef"].values) == ["env[1]", "env[2]"]
    assert (post["sigma2_e"].values == 6.0).all() and (post["sigma2_sire"].values == 2.0).all()

    # Means, sds, and contrasts (whose sds involve the posterior covariances).
    contrasts = np.array([[1, -1, 0, 0, 0], [0, 0, 1, -1, 0], [1, 0, 1, 0, 0], [0, 1, 0, 0, 1]], float)
    checks = []
    for k in range(5):
        d = draws[..., k]
        checks.append((d.mean(), mean[k], mcse_mean(d)))
        checks.append((d.std(ddof=1), np.sqrt(cov[k, k]), mcse_sd(d)))
    for c in contrasts:
        d = draws @ c
        checks.append((d.mean(), c @ mean, mcse_mean(d)))
        checks.append((d.std(ddof=1), np.sqrt(c @ cov @ c), mcse_sd(d)))
    estimate, truth, mcse = map(np.array, zip(*checks))
    ok, scores = z_within(estimate, truth, mcse)
    assert ok.all(), f"z-scores {np.round(scores, 2)}"


def test_gaussian_marker_sweep_targets_the_ridge_posterior():
    """With fixed variances the marker sweep's stationary law is N((X'X + lam I)^-1 X'y, s2e (X'X + lam I)^-1)."""
    rng = np.random.default_rng(5)
    n, p = 40, 5
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - codes.mean(axis=1)[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T
    y = x @ rng.standard_normal(p) + rng.standard_normal(n)
    sigma2_e, sigma2_alpha = 1.5, 0.4
    c = x.T @ x + np.eye(p) * sigma2_e / sigma2_alpha
    exact_mean, exact_cov = np.linalg.solve(c, x.T @ y), np.linalg.inv(c) * sigma2_e

    w = np.ones(n)
    _, xx = weighted_cross_products(codes, lookup, w)
    var_alpha = np.full(p, sigma2_alpha)
    chains, draws = 4, 4000
    samples = np.empty((chains, draws, p))
    for chain, seed in enumerate(np.random.SeedSequence(99).spawn(chains)):
        g = np.random.default_rng(seed)
        alpha, resid, gv = np.zeros(p), y.copy(), np.zeros(n)
        for it in range(draws + 50):
            sweep_markers_gaussian(g, alpha, var_alpha, codes, lookup, xx, resid, w, gv, sigma2_e)
            if it >= 50:
                samples[chain, it - 50] = alpha
    np.testing.assert_allclose(resid, y - x @ alpha, atol=1e-10)
    est = [samples[..., j].mean() for j in range(p)] + [samples[..., j].std(ddof=1) for j in range(p)]
    truth = list(exact_mean) + list(np.sqrt(np.diag(exact_cov)))
    mcse = [mcse_mean(samples[..., j]) for j in range(p)] + [mcse_sd(samples[..., j]) for j in range(p)]
    ok, scores = z_within(est, truth, mcse)
    assert ok.all(), f"z-scores {np.round(scores, 2)}"


@pytest.mark.parametrize("df,scale", [(4.0, 2.0), (0.0, 0.0)])
def test_conjugate_variance_draw_has_the_scaled_inverse_chi2_mean(df, scale):
    prior = bg.ScaledInvChi2(df, scale)
    rng = np.random.default_rng(3)
    sum_squares, count = 12.0, 10
    draws = np.array([prior.draw_posterior(rng, sum_squares, count) for _ in range(20000)])
    nu = df + count
    exact_mean = (df * scale + sum_squares) / (nu - 2)
    exact_sd = exact_mean * np.sqrt(2.0 / (nu - 4))
    mcse = exact_sd / np.sqrt(draws.size)  # independent draws
    ok, score = z_within(draws.mean(), exact_mean, mcse)
    assert ok, score
