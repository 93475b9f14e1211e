"""BRR (RidgePrior) and BayesC/BayesCpi (BayesCPrior): kernels, exact cases, input errors."""

import numpy as np
import pytest
from packed_codes import STORED, as_stored

import bayesgen as bg
from bayesgen.kernels import weighted_cross_products
from bayesgen.kernels.spike_slab import marker_code_stats, sweep_markers_spike_slab


def oracle_spike_slab_sweep(rng, alpha, var_alpha, pi, x, resid, w, gv, sigma2_e, reverse=False, reference=None):
    """Joint (delta_j, alpha_j) draws from the full conditional, written with dense vectors. With a
    ``reference`` (pi', v) also returns sum_j log[(1 - pi) + pi BF_j] - log[(1 - pi') + pi' BF'_j]
    (BF'_j with the slab variance v var_alpha[j]) at the states the markers are drawn in."""
    n_in = 0
    log_ratio = 0.0
    order = range(alpha.size - 1, -1, -1) if reverse else range(alpha.size)
    for j in order:
        xj = x[:, j]
        lhs = xj @ (w * xj) + sigma2_e / var_alpha[j]
        rhs = xj @ (w * (resid + xj * alpha[j]))
        # P(delta=1 | .) / P(delta=0 | .) = pi/(1-pi) * N(r; 0, slab) / N(r; 0, spike), beta_j integrated out
        log_bf = 0.5 * np.log(sigma2_e / (lhs * var_alpha[j])) + rhs**2 / (2 * sigma2_e * lhs)
        if reference is not None:
            pi_ref, var_ref = reference[0], reference[1] * var_alpha[j]
            lhs_ref = xj @ (w * xj) + sigma2_e / var_ref
            log_bf_ref = 0.5 * np.log(sigma2_e / (lhs_ref * var_ref)) + rhs**2 / (2 * sigma2_e * lhs_ref)
            log_ratio += np.log(1 - pi + pi * np.exp(log_bf)) - np.log(1 - pi_ref + pi_ref * np.exp(log_bf_ref))
        p_in = 1.0 if pi == 1.0 else 1.0 / (1.0 + (1 - pi) / pi * np.exp(-log_bf))
        if rng.random() < p_in:
            new = rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
            n_in += 1
        else:
            new = 0.0
        resid -= xj * (new - alpha[j])
        gv += xj * (new - alpha[j])
        alpha[j] = new
    return n_in if reference is None else (n_in, log_ratio)


def move_sweep_data(seed, missing, weights, stored):
    """Data for the oracle tests of the moves' sweeps: 40 records x 15 markers (``missing``: a
    marker and the records whose genotype is missing), 0/1 or general weights; returns the
    generator (to draw the rest from), n, p, the dense centred codes x, the codes as the kernels
    read them, the lookup, the weights and x'Wx."""
    rng = np.random.default_rng(seed)
    n, p = 40, 15
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    codes[missing[0], missing[1]] = 3
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - rng.uniform(0.2, 1.8, p)[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T
    kc = as_stored(codes, stored)  # what the kernels read
    w = (rng.random(n) > 0.2).astype(float)
    if weights == "general":
        w *= rng.uniform(0.5, 2.0, n)
    _, xx = weighted_cross_products(kc, lookup, w)
    return rng, n, p, x, kc, lookup, w, xx


@STORED
@pytest.mark.parametrize("weights", ["binary", "general"])
def test_reverse_sweep_and_its_reference_ratio_match_the_oracle(weights, stored):
    """The (pi, sigma2_alpha) move's sweep: markers in reverse order, and the sum of the log prior
    predictive ratios against a second (pi', v sigma2_j) accumulated on the way."""
    rng, n, p, x, kc, lookup, w, xx = move_sweep_data(13, (2, [1, 5]), weights, stored)
    alpha0 = np.where(rng.random(p) < 0.5, rng.standard_normal(p) * 0.3, 0.0)
    var_alpha = np.full(p, 0.2)
    resid0 = rng.standard_normal(n) + x @ (rng.standard_normal(p) * 0.3)
    pi, pi_ref, ratio = 0.3, 0.6, 0.5
    a1, r1, gv1 = alpha0.copy(), resid0.copy(), x @ alpha0
    a2, r2, gv2 = alpha0.copy(), resid0.copy(), x @ alpha0
    g1, g2 = np.random.default_rng(6), np.random.default_rng(6)
    reference = np.array([np.log(pi_ref / (1 - pi_ref)), ratio, 0.0])
    k1 = sweep_markers_spike_slab(
        g1,
        a1,
        var_alpha,
        np.log(pi / (1 - pi)),
        kc,
        lookup,
        xx,
        marker_code_stats(kc, n),
        r1,
        w,
        gv1,
        0.8,
        True,
        reference,
    )
    k2, log_ratio = oracle_spike_slab_sweep(
        g2, a2, var_alpha, pi, x, r2, w, gv2, 0.8, reverse=True, reference=(pi_ref, ratio)
    )
    assert k1 == k2 and 0 < k1 < p
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reference[2], log_ratio, rtol=1e-10)
    assert reference[2] != 0.0


@pytest.mark.parametrize("weights", ["binary", "general"])
@pytest.mark.parametrize("pi", [0.3, 1.0])
@STORED
def test_spike_slab_sweep_matches_oracle(pi, weights, stored):
    rng = np.random.default_rng(3)
    n, p = 30, 12
    codes = rng.integers(0, 4, (p, n)).astype(np.int8)  # 3 = missing
    centre = rng.uniform(0.2, 1.8, p)
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T
    kc = as_stored(codes, stored)  # what the kernels read
    w = (rng.random(n) > 0.3).astype(float)  # 0/1: the raw-code path; else element by element
    if weights == "general":
        w *= rng.uniform(0.5, 2.0, n)
    _, xx = weighted_cross_products(kc, lookup, w)
    alpha0 = np.where(rng.random(p) < 0.5, rng.standard_normal(p), 0.0)
    var_alpha = rng.uniform(0.05, 1.0, p)
    resid0 = rng.standard_normal(n) * 2.0
    a1, r1, gv1 = alpha0.copy(), resid0.copy(), x @ alpha0
    a2, r2, gv2 = alpha0.copy(), resid0.copy(), x @ alpha0
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    log_odds = np.inf if pi == 1.0 else np.log(pi / (1 - pi))
    stats = marker_code_stats(kc, n)
    # packed: observed code sums, missing counts, offsets, then listed missing records (none at 25% missing)
    np.testing.assert_array_equal(stats[:p], np.where(codes == 3, 0, codes).sum(axis=1, dtype=np.int64))
    np.testing.assert_array_equal(stats[p : 2 * p], (codes == 3).sum(axis=1))
    np.testing.assert_array_equal(stats[2 * p :], 0)
    counts = []
    for _ in range(4):
        k1 = sweep_markers_spike_slab(g1, a1, var_alpha, log_odds, kc, lookup, xx, stats, r1, w, gv1, 0.8)
        k2 = oracle_spike_slab_sweep(g2, a2, var_alpha, pi, x, r2, w, gv2, 0.8)
        assert k1 == k2 == np.count_nonzero(a1)
        counts.append(k1)
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-12)
    if pi < 1.0:
        assert 0 < min(counts) and max(counts) < p  # both branches exercised
    else:
        assert counts == [p] * 4


def test_spike_slab_log_odds_do_not_overflow():
    """A marker with a huge signal (log odds ~ 1e6) is included; a tiny pi (log odds ~ -700) excluded."""
    n = 50
    codes = np.tile(np.array([0, 2], dtype=np.int8), n // 2)[None, :]
    lookup = np.array([[-1.0, 0.0, 1.0, 0.0]])
    w = np.ones(n)
    _, xx = weighted_cross_products(codes, lookup, w)
    resid = 300.0 * lookup[0, codes[0]]
    alpha, gv = np.zeros(1), np.zeros(n)
    with np.errstate(all="raise"):
        k = sweep_markers_spike_slab(
            np.random.default_rng(0),
            alpha,
            np.ones(1),
            0.0,
            codes,
            lookup,
            xx,
            marker_code_stats(codes),
            resid,
            w,
            gv,
            1e-3,
        )
    assert k == 1 and abs(alpha[0] - 300.0) < 1.0
    alpha, resid = np.zeros(1), np.zeros(n)
    k = sweep_markers_spike_slab(
        np.random.default_rng(0),
        alpha,
        np.ones(1),
        -700.0,
        codes,
        lookup,
        xx,
        marker_code_stats(codes),
        resid,
        w,
        gv,
        1.0,
    )
    assert k == 0 and alpha[0] == 0.0 and np.all(np.isfinite(resid))


@pytest.fixture(scope="module")
def small_markers():
    sim = bg.simulate(n_founders=20, n_generations=3, n_offspring=40, n_markers=15, seed=4)
    return sim.phenotypes, sim.genotypes


def _design(data, genotypes):
    rows = genotypes.index([str(i) for i in data["id"]])
    codes = genotypes.codes[:, rows]
    return np.take_along_axis(genotypes.centred_lookup(), codes.astype(np.intp), axis=1).T


def test_ridge_posterior_mean_is_the_ridge_solution(small_markers):
    """With sigma2_alpha and sigma2_e fixed: E[alpha | y] = (W'W + lambda I)^{-1} W'y, lambda = s2e/s2a."""
    data, genotypes = small_markers
    y = data["y"].to_numpy()
    y = y - y.mean()
    data = data.assign(y=y)
    sigma2_a, sigma2_e = 0.02, 0.6
    model = bg.Model(data, "y", [bg.Markers("id", genotypes, prior=bg.RidgePrior(prior=sigma2_a))], sigma2_e=sigma2_e)
    idata = model.sample(draws=2000, burn=100, chains=1, seed=7, progress=False)
    draws = idata.posterior["alpha"].values[0]
    w = _design(data, genotypes)
    exact = np.linalg.solve(w.T @ w + sigma2_e / sigma2_a * np.eye(w.shape[1]), w.T @ y)
    # Monte Carlo error from 20 batch means (the chain is autocorrelated).
    batches = draws.reshape(20, -1, draws.shape[1]).mean(axis=1)
    se = batches.std(axis=0, ddof=1) / np.sqrt(20)
    z = (draws.mean(axis=0) - exact) / se
    assert np.max(np.abs(z)) < 4.0, z
    assert "sigma2_alpha" not in idata.posterior


def test_bayes_c_with_pi_one_is_brr(small_markers):
    """BayesC at pi = 1 is BRR: same posterior of the variances and effects within MC error."""
    data, genotypes = small_markers
    variance = bg.ScaledInvChi2(df=5.0, scale=0.02)
    fits = {}
    for label, prior in [("brr", bg.RidgePrior(prior=variance)), ("c", bg.BayesCPrior(pi=1.0, prior=variance))]:
        model = bg.Model(data, "y", [bg.Fixed(), bg.Markers("id", genotypes, prior=prior)])
        fits[label] = model.sample(draws=1500, burn=200, chains=2, seed=3, progress=False).posterior
    assert np.all(fits["c"]["n_included"].values == genotypes.codes.shape[0])
    for name in ["sigma2_e", "sigma2_alpha", "var_g"]:
        a, b = (fits[k][name].values for k in ("brr", "c"))
        se = np.hypot(*(_mcse(v) for v in (a, b)))
        assert abs(a.mean() - b.mean()) < 4.0 * se, (name, a.mean(), b.mean(), se)
    a, b = (fits[k]["alpha"].values for k in ("brr", "c"))
    se = np.hypot(_mcse(a), _mcse(b))
    assert np.all(np.abs(a.mean(axis=(0, 1)) - b.mean(axis=(0, 1))) < 4.5 * se)


def _mcse(values, n_batches=20):
    """Batch-means standard error of the mean over chains x draws (per trailing coordinate)."""
    values = values.reshape(-1, *values.shape[2:]) if values.ndim > 2 else values.reshape(-1)
    batches = values[: values.shape[0] // n_batches * n_batches].reshape(n_batches, -1, *values.shape[1:]).mean(axis=1)
    return batches.std(axis=0, ddof=1) / np.sqrt(n_batches)


def test_bayes_cpi_shortcut_records_pi_and_inclusion(small_markers):
    data, genotypes = small_markers
    idata = bg.BayesCPi(data, "y", "id", genotypes).sample(draws=30, burn=10, chains=1, seed=1, progress=False)
    post = idata.posterior
    assert {"pi", "n_included", "sigma2_alpha", "alpha"} <= set(post.data_vars)
    assert np.all((post["pi"] > 0) & (post["pi"] < 1))
    np.testing.assert_array_equal(post["n_included"].values, (post["alpha"].values != 0).sum(axis=-1))
    fixed = bg.BayesC(data, "y", "id", genotypes, pi=0.2).sample(draws=5, burn=0, chains=1, seed=1, progress=False)
    assert "pi" not in fixed.posterior
    brr = bg.BRR(data, "y", "id", genotypes).sample(draws=5, burn=0, chains=1, seed=1, progress=False)
    assert "sigma2_alpha" in brr.posterior


def test_default_slab_variance_follows_the_r2_rule():
    ridge, c = bg.RidgePrior(), bg.BayesCPrior(pi=0.25)
    ridge.bind(0.01)
    c.bind(0.01)
    assert ridge.variance_prior.mode() == pytest.approx(0.01)
    assert c.variance_prior.mode() == pytest.approx(0.04)  # only a share pi of the markers carries it
    cpi = bg.BayesCPrior(pi=bg.Beta(2.0, 8.0))
    cpi.bind(0.01)
    assert cpi.variance_prior.mode() == pytest.approx(0.05)


@pytest.mark.parametrize("pi", [0.0, 1.5, -0.1, float("nan")])
def test_pi_outside_unit_interval_is_rejected(pi):
    with pytest.raises(ValueError, match=r"BayesC pi must be in \(0, 1\], got"):
        bg.BayesCPrior(pi=pi)


def test_pi_of_wrong_type_is_rejected():
    with pytest.raises(TypeError, match="BayesC pi must be a number in .* or a Beta prior, got '0.1'"):
        bg.BayesCPrior(pi="0.1")


def test_bayes_cpi_needs_a_beta_prior(small_markers):
    data, genotypes = small_markers
    with pytest.raises(TypeError, match="BayesCPi samples pi: pass a bayesgen.Beta prior"):
        bg.BayesCPi(data, "y", "id", genotypes, pi=0.1)


def test_improper_slab_variance_prior_is_rejected():
    with pytest.raises(ValueError, match="RidgePrior variance prior must be proper"):
        bg.RidgePrior(prior=bg.ScaledInvChi2(0.0, 0.0))
    with pytest.raises(ValueError, match="BayesC variance prior must be proper"):
        bg.BayesCPrior(prior=bg.ScaledInvChi2(5.0, 0.0))


def test_fixed_variances_must_be_positive():
    with pytest.raises(ValueError, match="RidgePrior variance must be finite and > 0, got -1"):
        bg.RidgePrior(prior=-1.0)
    with pytest.raises(ValueError, match="BayesC variance must be finite and > 0, got 0"):
        bg.BayesCPrior(prior=0)


def test_beta_parameters_must_be_positive():
    with pytest.raises(ValueError, match="Beta a must be finite and > 0, got 0"):
        bg.Beta(0, 1)


def test_bayes_b_shortcut_records_pi_scale_and_inclusion(small_markers):
    data, genotypes = small_markers
    idata = bg.BayesB(data, "y", "id", genotypes, pi=bg.Beta(2.0, 2.0)).sample(
        draws=30, burn=10, chains=1, seed=2, progress=False
    )
    post = idata.posterior
    assert {"pi", "n_included", "scale", "alpha"} <= set(post.data_vars)
    np.testing.assert_array_equal(post["n_included"].values, (post["alpha"].values != 0).sum(axis=-1))
    prior = bg.BayesBPrior(pi=0.25, df=5.0)
    prior.bind(0.01)
    assert prior.scale_prior.mode() * 5.0 / 7.0 == pytest.approx(0.04)  # mode of sigma2_j: R2 rule / pi


def test_bayes_b_pi_outside_unit_interval_is_rejected():
    with pytest.raises(ValueError, match=r"BayesB pi must be in \(0, 1\], got 0"):
        bg.BayesBPrior(pi=0)


def test_inverse_gaussian_draws_follow_the_distribution_and_stay_finite():
    from scipy import stats

    from bayesgen.priors.lasso import draw_inverse_gaussian

    rng = np.random.default_rng(8)
    for mean, shape in [(0.5, 2.0), (1e6, 1.0)]:  # the second: mu*y >> lambda, where the textbook form cancels
        x = draw_inverse_gaussian(rng, np.full(50000, mean), shape)
        assert stats.kstest(x, stats.invgauss(mean / shape, scale=shape).cdf).pvalue > 1e-3
    extreme = draw_inverse_gaussian(rng, np.array([1e300, 1e-300]), 1.0)
    assert np.all(np.isfinite(extreme) & (extreme > 0))


def test_bayes_lasso_shortcut_records_lambda2(small_markers):
    data, genotypes = small_markers
    idata = bg.BayesLasso(data, "y", "id", genotypes).sample(draws=20, burn=5, chains=1, seed=2, progress=False)
    assert np.all(idata.posterior["lambda2"].values > 0)
    prior = bg.LassoPrior()
    prior.bind(0.01)
    assert prior.lambda2_prior.mode() == pytest.approx(200.0)  # prior variance 2 / lambda2 = R2-rule variance


def test_lasso_lambda2_must_be_positive():
    with pytest.raises(ValueError, match="LassoPrior lambda2 must be finite and > 0, got -2"):
        bg.LassoPrior(lambda2=-2)


def oracle_mixture_sweep(
    rng, alpha, classes, pi, class_variances, x, resid, w, sigma2_e, reverse=False, reference=None
):
    """BayesR class-and-effect draws, with the class probabilities normalised directly. With a
    ``reference`` (pi', v') also returns sum_j log sum_k pi_k BF_jk - log sum_k pi'_k BF'_jk at the
    states the markers are drawn in (BF_j0 = 1)."""
    log_ratio = 0.0
    order = range(alpha.size - 1, -1, -1) if reverse else range(alpha.size)
    for j in order:
        xj = x[:, j]
        xx = xj @ (w * xj)
        rhs = xj @ (w * (resid + xj * alpha[j]))

        def densities(weights, variances):
            dens = np.empty(weights.size)
            dens[0] = weights[0]
            for k in range(1, weights.size):
                lhs = xx + sigma2_e / variances[k]
                dens[k] = weights[k] * np.sqrt(sigma2_e / (lhs * variances[k])) * np.exp(rhs**2 / (2 * sigma2_e * lhs))
            return dens

        dens = densities(pi, class_variances)
        if reference is not None:
            log_ratio += np.log(dens.sum()) - np.log(densities(*reference).sum())
        k = int(np.searchsorted(np.cumsum(dens), rng.random() * dens.sum(), side="right"))
        classes[j] = k
        if k == 0:
            new = 0.0
        else:
            lhs = xx + sigma2_e / class_variances[k]
            new = rhs / lhs + np.sqrt(sigma2_e / lhs) * rng.standard_normal()
        resid -= xj * (new - alpha[j])
        alpha[j] = new
    return log_ratio


@STORED
def test_mixture_sweep_matches_oracle(stored):
    from bayesgen.kernels.spike_slab import sweep_markers_mixture

    rng = np.random.default_rng(4)
    n, p = 30, 15
    codes = rng.integers(0, 4, (p, n)).astype(np.int8)
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - rng.uniform(0.2, 1.8, p)[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T
    kc = as_stored(codes, stored)  # what the kernels read
    w = (rng.random(n) > 0.2) * rng.uniform(0.5, 2.0, n)
    _, xx = weighted_cross_products(kc, lookup, w)
    pi = np.array([0.5, 0.2, 0.2, 0.1])
    class_variances = np.array([0.0, 0.01, 0.1, 1.0])
    alpha0, resid0 = np.zeros(p), rng.standard_normal(n) * 2
    a1, r1, c1, gv1 = alpha0.copy(), resid0.copy(), np.zeros(p, dtype=np.int64), np.zeros(n)
    a2, r2, c2 = alpha0.copy(), resid0.copy(), np.zeros(p, dtype=np.int64)
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    for _ in range(4):
        sweep_markers_mixture(g1, a1, c1, np.log(pi), class_variances, kc, lookup, xx, r1, w, gv1, 0.7)
        oracle_mixture_sweep(g2, a2, c2, pi, class_variances, x, r2, w, 0.7)
        np.testing.assert_array_equal(c1, c2)
    assert len(set(c1.tolist())) > 1
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-12)


@STORED
@pytest.mark.parametrize("weights", ["binary", "general"])
def test_reverse_mixture_sweep_and_its_reference_ratio_match_the_oracle(weights, stored):
    """BayesR's proportion move's sweep: markers in reverse order, and the sum of the log prior
    predictive ratios against a second (pi', v') accumulated on the way."""
    from bayesgen.kernels.spike_slab import sweep_markers_mixture

    rng, n, p, x, kc, lookup, w, xx = move_sweep_data(21, (3, [2, 7]), weights, stored)
    pi, class_variances = np.array([0.5, 0.2, 0.2, 0.1]), np.array([0.0, 0.01, 0.1, 1.0])
    pi_ref, variances_ref = np.array([0.2, 0.4, 0.1, 0.3]), np.array([0.0, 0.02, 0.3, 0.6])
    alpha0 = np.where(rng.random(p) < 0.5, rng.standard_normal(p) * 0.3, 0.0)
    resid0 = rng.standard_normal(n) + x @ (rng.standard_normal(p) * 0.3)
    a1, r1, c1, gv1 = alpha0.copy(), resid0.copy(), np.zeros(p, dtype=np.int64), x @ alpha0
    a2, r2, c2 = alpha0.copy(), resid0.copy(), np.zeros(p, dtype=np.int64)
    reference = np.concatenate((np.log(pi_ref), variances_ref, [0.0]))
    g1, g2 = np.random.default_rng(8), np.random.default_rng(8)
    sweep_markers_mixture(
        g1,
        a1,
        c1,
        np.log(pi),
        class_variances,
        kc,
        lookup,
        xx,
        r1,
        w,
        gv1,
        0.8,
        marker_code_stats(kc, n),
        True,
        reference,
    )
    log_ratio = oracle_mixture_sweep(
        g2, a2, c2, pi, class_variances, x, r2, w, 0.8, reverse=True, reference=(pi_ref, variances_ref)
    )
    np.testing.assert_array_equal(c1, c2)
    assert len(set(c1.tolist())) > 1
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(reference[-1], log_ratio, rtol=1e-10)
    assert reference[-1] != 0.0


def test_bayes_r_shortcut_records_class_counts(small_markers):
    data, genotypes = small_markers
    post = bg.BayesR(data, "y", "id", genotypes).sample(draws=20, burn=5, chains=1, seed=2, progress=False).posterior
    counts = post["class_counts"].values
    assert counts.shape[-1] == 4 and np.all(counts.sum(axis=-1) == genotypes.codes.shape[0])
    np.testing.assert_array_equal(post["n_included"].values, (post["alpha"].values != 0).sum(axis=-1))
    np.testing.assert_allclose(post["pi"].values.sum(axis=-1), 1.0)


def test_bayes_r_gamma_must_start_with_zero():
    with pytest.raises(
        ValueError, match=r"BayesR gamma must start with 0 followed by positive finite multipliers, got \[0.1"
    ):
        bg.BayesRPrior(gamma=(0.1, 1.0))
    with pytest.raises(ValueError, match="BayesR dirichlet must hold 4 positive numbers"):
        bg.BayesRPrior(dirichlet=(1.0, 1.0))


@pytest.mark.parametrize("make", [bg.RidgePrior, bg.BayesCPrior, bg.BayesRPrior], ids=["BRR", "BayesC", "BayesR"])
def test_fixed_variance_fixes_the_common_marker_variance_as_a_number_does(make):
    fixed, number = make(prior=bg.FixedVariance(0.3)), make(prior=0.3)
    assert fixed.variance == number.variance == 0.3 and fixed.variance_prior is None
    assert "sigma2_alpha" not in [v.name for v in fixed.variables()]
    assert fixed.to_dict() == number.to_dict()


def test_a_fixed_covariance_matrix_is_not_a_one_trait_marker_variance(small_markers):
    # BayesR is for one trait: one number. BRR and BayesC take a t x t matrix, checked against the traits.
    with pytest.raises(ValueError, match=r"BayesR variance must be one number, got a 2 x 2 FixedVariance"):
        bg.BayesRPrior(prior=bg.FixedVariance(np.eye(2)))
    data, genotypes = small_markers
    for prior in (bg.BayesCPrior(prior=bg.FixedVariance(np.eye(2))), bg.RidgePrior(prior=np.eye(2))):
        with pytest.raises(ValueError, match=r"The prior for sigma2_alpha is 2 x 2 but sigma2_alpha is 1 x 1"):
            bg.Model(data, "y", [bg.Markers("id", genotypes, prior=prior)])
