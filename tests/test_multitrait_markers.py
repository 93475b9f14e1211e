"""Multi-trait marker effects (BRR and BayesC with t traits): kernel oracle, closed forms, Geweke, errors.

Quick tests: the sweep kernel against dense NumPy, the bivariate posterior with fixed diagonal
covariances against two one-trait closed forms, the default prior, the names and every error.
Statistical ones (``pytest -m statistical``): the Geweke joint-distribution test, and a
planted error (the sweep ignoring R's off-diagonal) that must fail it.
"""

import numpy as np
import pandas as pd
import pytest
from conftest import mcse_mean, mcse_sd
from geweke import geweke_test
from packed_codes import STORED, as_stored

import bayesgen as bg
from bayesgen.kernels.markers import marker_code_stats, weighted_cross_products
from bayesgen.kernels.markers_multitrait import genetic_values_multitrait, sweep_markers_multitrait
from bayesgen.priors.inverse_wishart import InverseWishart


def oracle_multitrait_sweep(rng, alpha, x, resid, w, gv, r_inv, s_inv, pi=1.0):
    """Each alpha_j | rest ~ N(P^-1 b, P^-1) in turn, with dense linear algebra; with pi < 1,
    first delta_j with alpha_j integrated out (the ratio of the two marginal likelihoods)."""
    t = alpha.shape[1]
    n_included = 0
    for j in range(alpha.shape[0]):
        xj = x[:, j]
        xx = xj @ (w * xj)
        precision = xx * r_inv + s_inv
        rhs = r_inv @ (resid.T @ (w * xj) + xx * alpha[j])
        if pi < 1.0:
            log_odds = (
                np.log(pi / (1 - pi))
                - 0.5 * np.linalg.slogdet(np.linalg.inv(s_inv))[1]
                - 0.5 * np.linalg.slogdet(precision)[1]
                + 0.5 * rhs @ np.linalg.solve(precision, rhs)
            )
            if not rng.random() < 1.0 / (1.0 + np.exp(-log_odds)):
                change = np.outer(xj, -alpha[j])
                resid -= change
                gv += change
                alpha[j] = 0.0
                continue
        n_included += 1
        chol = np.linalg.cholesky(precision)
        new = np.linalg.solve(chol.T, np.linalg.solve(chol, rhs) + rng.standard_normal(t))
        change = np.outer(xj, new - alpha[j])
        resid -= change
        gv += change
        alpha[j] = new
    return n_included


def _codes_and_lookup(rng, n, p, missing):
    codes = rng.integers(0, 3, (p, n)).astype(np.int8)
    if missing == "listed":  # 3 of 200 missing in marker 1: its list is used
        codes[1, [0, 7, 150]] = 3
    elif missing == "masked":  # more than 1/64 missing in markers 1 and 3: a masked pass
        codes[1, rng.random(n) < 0.2] = 3
        codes[3, rng.random(n) < 0.1] = 3
    centre = np.array([row[row < 3].mean() for row in codes])
    lookup = np.zeros((p, 4))
    lookup[:, :3] = np.arange(3)[None, :] - centre[:, None]
    x = np.take_along_axis(lookup, codes.astype(np.intp), axis=1).T  # n x p dense oracle
    return codes, lookup, x


@pytest.mark.parametrize("t", [2, 3])
@pytest.mark.parametrize("missing", ["none", "listed", "masked"])
@pytest.mark.parametrize("weights", ["binary", "all-one", "fractional"])
@STORED
def test_multitrait_sweep_matches_dense_oracle(t, missing, weights, stored):
    # Each path: 0/1 weights with and without unphenotyped records (the one-trait helpers per
    # trait column), other weights (one pass for the t products), listed / masked missing genotypes.
    rng = np.random.default_rng(3)
    n, p = 200, 6
    codes, lookup, x = _codes_and_lookup(rng, n, p, missing)
    kc = as_stored(codes, stored)  # what the kernels read
    w = {
        "binary": (rng.random(n) > 0.3).astype(float),
        "all-one": np.ones(n),
        "fractional": rng.uniform(0.0, 2.0, n) * (rng.random(n) > 0.3),
    }[weights]
    xx = weighted_cross_products(kc, lookup, w)[1]
    a = rng.standard_normal((t, t))
    r = a @ a.T + t * np.eye(t)  # non-diagonal R
    b = rng.standard_normal((t, t))
    s = 0.1 * (b @ b.T + np.eye(t))
    r_inv, s_inv = np.linalg.inv(r), np.linalg.inv(s)
    alpha0 = rng.standard_normal((p, t))
    resid0 = np.asfortranarray(rng.standard_normal((n, t)))
    a1, r1, gv1 = alpha0.copy(), resid0.copy(order="F"), np.asfortranarray(x @ alpha0)
    a2, r2, gv2 = alpha0.copy(), resid0.copy(), x @ alpha0
    g1, g2 = np.random.default_rng(11), np.random.default_rng(11)
    stats = marker_code_stats(kc, n)
    for _ in range(3):
        sweep_markers_multitrait(g1, a1, kc, lookup, xx, r1, w, gv1, r_inv, s_inv, code_stats=stats)
        oracle_multitrait_sweep(g2, a2, x, r2, w, gv2, r_inv, s_inv)
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(genetic_values_multitrait(kc, lookup, a1, n), x @ a1, rtol=1e-12, atol=1e-12)
    if missing != "none":  # a missing genotype contributes nothing: marker 1 alone leaves e there as it was
        at = codes[1] == 3
        r3, a3, gv3 = resid0.copy(order="F"), np.zeros((1, t)), np.zeros((n, t), order="F")
        sweep_markers_multitrait(np.random.default_rng(0), a3, kc[1:2], lookup[1:2], xx[1:2], r3, w, gv3, r_inv, s_inv)
        assert np.all(a3 != 0.0)
        assert np.array_equal(r3[at], resid0[at])
        assert np.all(gv3[at] == 0.0)


@pytest.mark.parametrize("weights", ["binary", "fractional"])
@STORED
def test_multitrait_spike_slab_sweep_matches_dense_oracle(weights, stored):
    rng = np.random.default_rng(5)
    n, p, t = 150, 40, 2
    codes, lookup, x = _codes_and_lookup(rng, n, p, "masked")
    codes = as_stored(codes, stored)  # what the kernels read
    w = (rng.random(n) > 0.2) * (1.0 if weights == "binary" else rng.uniform(0.0, 2.0, n))
    xx = weighted_cross_products(codes, lookup, w)[1]
    r = np.array([[1.0, 0.6], [0.6, 2.0]])
    s = np.array([[0.02, -0.01], [-0.01, 0.03]])
    r_inv, s_inv = np.linalg.inv(r), np.linalg.inv(s)
    alpha0 = np.where(rng.random((p, 1)) < 0.5, rng.standard_normal((p, t)) * 0.2, 0.0)
    resid0 = np.asfortranarray(rng.standard_normal((n, t)) + x @ rng.standard_normal((p, t)) * 0.2)
    a1, r1, gv1 = alpha0.copy(), resid0.copy(order="F"), np.asfortranarray(x @ alpha0)
    a2, r2, gv2 = alpha0.copy(), resid0.copy(), x @ alpha0
    g1, g2 = np.random.default_rng(12), np.random.default_rng(12)
    pi = 0.3
    log_prior_odds = np.log(pi / (1 - pi)) - 0.5 * np.linalg.slogdet(s)[1]
    counts = []
    for _ in range(3):
        k1 = sweep_markers_multitrait(
            g1, a1, codes, lookup, xx, r1, w, gv1, r_inv, s_inv, log_prior_odds=log_prior_odds
        )
        k2 = oracle_multitrait_sweep(g2, a2, x, r2, w, gv2, r_inv, s_inv, pi=pi)
        assert k1 == k2 == int(np.any(a1 != 0, axis=1).sum())
        counts.append(k1)
    assert 0 < min(counts) and max(counts) < p  # both branches taken
    np.testing.assert_allclose(a1, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r1, r2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv1, x @ a1, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------- model level
@pytest.fixture(scope="module")
def bivariate():
    """60 genotyped individuals, 12 markers (5% genotypes missing), two traits, some missing."""
    rng = np.random.default_rng(7)
    n, p = 60, 12
    matrix = rng.integers(0, 3, (n, p)).astype(float)
    matrix[rng.random((n, p)) < 0.05] = np.nan
    ids = [f"i{k}" for k in range(n)]
    genotypes = bg.Genotypes(ids, matrix)
    x = np.nan_to_num(matrix - np.nanmean(matrix, axis=0))
    effects = rng.multivariate_normal([0, 0], [[0.1, 0.06], [0.06, 0.1]], p)
    y = np.array([3.0, -1.0]) + x @ effects + rng.multivariate_normal([0, 0], [[1.0, 0.4], [0.4, 1.0]], n)
    data = pd.DataFrame({"id": ids, "y1": y[:, 0], "y2": y[:, 1]})
    return data, genotypes


def closed_form_one_trait(data, genotypes, trait, sigma2_alpha, sigma2_e):
    """Posterior mean and sd of (intercept, alpha) for one trait: a flat intercept, alpha ~ N(0, s2 I)."""
    observed = data[trait].notna().to_numpy()
    x = np.take_along_axis(genotypes.centred_lookup(), genotypes.codes.astype(np.intp), axis=1).T
    rows = genotypes.index([str(v) for v in data["id"]])
    design = np.column_stack([np.ones(observed.sum()), x[rows][observed]])
    precision = design.T @ design / sigma2_e + np.diag([0.0] + [1.0 / sigma2_alpha] * x.shape[1])
    cov = np.linalg.inv(precision)
    mean = cov @ design.T @ data[trait].to_numpy()[observed] / sigma2_e
    return mean, np.sqrt(np.diag(cov))


@pytest.mark.parametrize("partial", [False, True], ids=["complete", "partially-missing"])
def test_fixed_diagonal_covariances_give_two_one_trait_brr_posteriors(bivariate, partial):
    """With Sigma_alpha and R fixed and diagonal the traits are independent, so each trait's
    marginal posterior is the one-trait BRR posterior, Gaussian in closed form. With missing
    traits (``partial``) the bivariate model augments them; the closed form drops those records."""
    data, genotypes = bivariate
    data = data.copy()
    if partial:
        rng = np.random.default_rng(9)
        data.loc[rng.random(len(data)) < 0.25, "y2"] = np.nan
        data.loc[rng.random(len(data)) < 0.10, "y1"] = np.nan
    s, r = np.diag([0.08, 0.15]), np.diag([1.0, 1.4])
    model = bg.Model(
        data, ["y1", "y2"], [bg.Fixed(), bg.Markers("id", genotypes, prior=bg.RidgePrior(prior=s))], sigma2_e=r
    )
    post = model.sample(draws=1000, burn=100, chains=2, seed=5, progress=False).posterior
    assert "sigma2_alpha" not in post
    for k, trait in enumerate(["y1", "y2"]):
        mean, sd = closed_form_one_trait(data, genotypes, trait, s[k, k], r[k, k])
        draws = [post["beta"].values[..., 0, k]] + [post["alpha"].values[..., j, k] for j in (0, 5, 11)]
        for value, m, d in zip(draws, mean[[0, 1, 6, 12]], sd[[0, 1, 6, 12]]):
            assert abs(value.mean() - m) / mcse_mean(value) < 4.5, (trait, value.mean(), m)
            assert abs(value.std() - d) / mcse_sd(value) < 4.5, (trait, value.std(), d)


def test_names_dims_and_h2_of_a_bivariate_brr(bivariate):
    data, genotypes = bivariate
    model = bg.BRR(data, ["y1", "y2"], "id", genotypes)
    chain_draws = model.sample(draws=20, burn=5, chains=1, seed=1, progress=False)
    post = chain_draws.posterior
    assert post["alpha"].dims == ("chain", "draw", "marker", "trait")
    assert list(post["alpha"].coords["trait"].values) == ["y1", "y2"]
    for name in ("var_g", "cor_g", "sigma2_alpha"):
        assert post[name].dims == ("chain", "draw", "trait_row", "trait_col"), name
    cov = post["var_g"].values
    np.testing.assert_allclose(
        post["cor_g"].values[..., 0, 1], cov[..., 0, 1] / np.sqrt(cov[..., 0, 0] * cov[..., 1, 1])
    )
    genetic = cov[..., [0, 1], [0, 1]]
    total = genetic + post["sigma2_e"].values[..., [0, 1], [0, 1]]
    np.testing.assert_allclose(post["h2"].values, genetic / total)
    # var_g is the covariance of the genomic values over the phenotyped records.
    x = np.take_along_axis(genotypes.centred_lookup(), genotypes.codes.astype(np.intp), axis=1).T
    values = x @ post["alpha"].values[0, -1]
    np.testing.assert_allclose(cov[0, -1], np.cov(values.T, bias=True), rtol=1e-10)
    named = bg.Model(data, ["y1", "y2"], [bg.Fixed(), bg.Markers("id", genotypes, prior=bg.RidgePrior(), name="snp")])
    post = named.sample(draws=3, burn=1, chains=1, seed=1, progress=False).posterior
    assert {"alpha_snp", "var_snp", "cor_snp", "sigma2_alpha_snp"} <= set(post.data_vars), list(post.data_vars)


def test_default_covariance_prior_has_the_one_trait_brr_mode_per_trait(bivariate):
    data, genotypes = bivariate
    both = bg.Model(data, ["y1", "y2"], [bg.Fixed(), bg.Markers("id", genotypes, prior=bg.RidgePrior())])
    prior = both.term(bg.Markers).prior
    assert isinstance(prior.variance_prior, InverseWishart)
    assert prior.variance_prior.df == 5.0
    for k, trait in enumerate(["y1", "y2"]):
        one = bg.Model(data, trait, [bg.Fixed(), bg.Markers("id", genotypes, prior=bg.RidgePrior())])
        mode = one.term(bg.Markers).prior.variance_prior.mode()
        np.testing.assert_allclose(prior.variance_prior.mode()[k, k], mode, rtol=1e-12)
    assert prior.variance_prior.mode()[0, 1] == 0.0


# ---------------------------------------------------------------------- errors
def test_one_trait_marker_priors_are_rejected_with_several_traits(bivariate):
    data, genotypes = bivariate
    with pytest.raises(
        ValueError,
        match=r"Markers 'markers': with several traits the marker prior must be one of "
        r".*got BayesAPrior, which is for one trait only",
    ):
        bg.Model(data, ["y1", "y2"], [bg.Markers("id", genotypes)])


def test_a_one_trait_ridge_variance_is_rejected_with_several_traits(bivariate):
    data, genotypes = bivariate
    with pytest.raises(ValueError, match=r"The prior for sigma2_alpha is 1 x 1 but sigma2_alpha is 2 x 2"):
        bg.Model(data, ["y1", "y2"], [bg.Markers("id", genotypes, prior=bg.RidgePrior(prior=0.5))])
    with pytest.raises(ValueError, match=r"The prior for sigma2_alpha_snp is 1 x 1 but sigma2_alpha_snp is 2 x 2"):
        bg.Model(
            data,
            ["y1", "y2"],
            [bg.Markers("id", genotypes, name="snp", prior=bg.RidgePrior(prior=bg.ScaledInvChi2(5.0, 0.1)))],
        )


def test_the_deprecated_multitrait_names_warn_and_are_the_unified_priors(bivariate):
    data, genotypes = bivariate
    with pytest.warns(DeprecationWarning, match=r"use RidgePrior\(prior=...\)"):
        ridge = bg.MultiTraitRidgePrior(covariance=np.diag([0.1, 0.2]))
    with pytest.warns(DeprecationWarning, match=r"use BayesCPrior\(pi, prior=...\)"):
        bayes_c = bg.MultiTraitBayesCPrior(pi=0.3)
    assert isinstance(ridge, bg.RidgePrior) and isinstance(bayes_c, bg.BayesCPrior)
    np.testing.assert_array_equal(ridge.variance, np.diag([0.1, 0.2]))
    assert bayes_c.inclusion.value == 0.3 and bayes_c.variance is None and bayes_c.variance_prior is None
    # One trait is a 1 x 1 common variance of the same prior.
    model = bg.Model(data, "y1", [bg.Markers("id", genotypes, prior=bayes_c)])
    assert model.term(bg.Markers).prior.variance_prior.dim == 1


def test_block_size_is_rejected_with_several_traits(bivariate):
    data, genotypes = bivariate
    with pytest.raises(ValueError, match=r"Markers 'markers': block_size is for one trait"):
        bg.Model(data, ["y1", "y2"], [bg.Markers("id", genotypes, prior=bg.RidgePrior(), block_size=4)])


def test_a_covariance_prior_of_the_wrong_dimension_is_named(bivariate):
    data, genotypes = bivariate
    prior = bg.RidgePrior(prior=InverseWishart(6.0, np.eye(3)))
    with pytest.raises(ValueError, match=r"prior for sigma2_alpha is 3 x 3 but sigma2_alpha is 2 x 2"):
        bg.Model(data, ["y1", "y2"], [bg.Markers("id", genotypes, prior=prior)])


def test_a_one_trait_bayes_c_variance_is_rejected_with_several_traits(bivariate):
    data, genotypes = bivariate
    with pytest.raises(ValueError, match=r"The prior for sigma2_alpha is 1 x 1 but sigma2_alpha is 2 x 2"):
        bg.Model(data, ["y1", "y2"], [bg.Markers("id", genotypes, prior=bg.BayesCPrior(0.2, prior=0.5))])


def test_bivariate_bayes_c_names_and_pi(bivariate):
    data, genotypes = bivariate
    model = bg.BayesCPi(data, ["y1", "y2"], "id", genotypes)
    prior = model.term(bg.Markers).prior
    assert isinstance(prior, bg.BayesCPrior) and prior.inclusion.sampled
    post = model.sample(draws=30, burn=5, chains=1, seed=2, progress=False).posterior
    assert {"alpha", "var_g", "cor_g", "sigma2_alpha", "pi", "n_included"} <= set(post.data_vars)
    counts = (post["alpha"].values != 0).any(axis=-1).sum(axis=-1)
    np.testing.assert_array_equal(post["n_included"].values, counts)
    # The default slab has the one-trait BayesC mode: BRR's per-trait rule over pi0.
    ridge = bg.Model(data, ["y1", "y2"], [bg.Fixed(), bg.Markers("id", genotypes, prior=bg.RidgePrior())])
    np.testing.assert_allclose(
        prior.variance_prior.mode(), ridge.term(bg.Markers).prior.variance_prior.mode() / 0.5, rtol=1e-12
    )


def test_summary_store_keeps_one_inclusion_probability_per_marker_for_every_trait(bivariate):
    data, genotypes = bivariate
    idata = bg.BayesC(data, ["y1", "y2"], "id", genotypes, pi=0.3).sample(
        draws=30, burn=5, chains=2, seed=4, progress=False, store="summary"
    )
    pip = idata.posterior_summary["alpha_pip"]
    assert pip.dims == ("marker", "trait")
    np.testing.assert_array_equal(pip.values[:, 0], pip.values[:, 1])  # one indicator for both traits
    assert 0.0 < pip.values.mean() < 1.0


def test_multitrait_ridge_prior_argument_errors():
    with pytest.raises(TypeError, match=r"RidgePrior variance must be None, a number or t x t matrix"):
        bg.RidgePrior(prior="diag")
    with pytest.raises(ValueError, match=r"RidgePrior variance: A fixed covariance must be positive"):
        bg.RidgePrior(prior=[[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match=r"RidgePrior variance prior must be proper"):
        bg.RidgePrior(prior=bg.ScaledInvChi2(0.0, 0.0))


def test_the_user_prior_is_not_modified(bivariate):
    data, genotypes = bivariate
    prior = bg.RidgePrior(prior=None)
    ridge = bg.RidgePrior()
    bg.Model(
        data,
        ["y1", "y2"],
        [bg.Markers("id", genotypes, prior=prior), bg.Markers("id", genotypes, prior=ridge, name="snp")],
    )
    assert prior.variance_prior is None and prior.variance is None
    assert ridge.variance_prior is None and ridge.variance is None


# ---------------------------------------------------------------------- statistical: Geweke
N_MARGINAL = 4000
N_SUCCESSIVE = 10000


@pytest.fixture(scope="module")
def small_bivariate():
    """20 genotyped records, 5 markers (some genotypes missing), two traits, a few missing."""
    rng = np.random.default_rng(31)
    n, p = 20, 5
    matrix = rng.integers(0, 3, (n, p)).astype(float)
    matrix[rng.random((n, p)) < 0.08] = np.nan
    ids = [f"i{k}" for k in range(n)]
    y = rng.standard_normal((n, 2))
    data = pd.DataFrame({"id": ids, "y1": y[:, 0], "y2": y[:, 1]})
    data.loc[[2, 9], "y2"] = np.nan
    data.loc[5, "y1"] = np.nan
    data.loc[13, ["y1", "y2"]] = np.nan
    return data, bg.Genotypes(ids, matrix)


def _geweke_model(small_bivariate):
    data, genotypes = small_bivariate
    # df = 14: light tails (finite fourth moments of the variances); strong correlations both in
    # Sigma_alpha and R so that an error in either off-diagonal shows.
    sigma_alpha = InverseWishart(14.0, 11.0 * np.array([[0.3, 0.2], [0.2, 0.3]]))
    residual = InverseWishart(14.0, 11.0 * np.array([[1.0, 0.7], [0.7, 1.0]]))
    return bg.Model(
        data, ["y1", "y2"], [bg.Markers("id", genotypes, prior=bg.RidgePrior(sigma_alpha))], sigma2_e=residual
    )


@pytest.mark.statistical
def test_geweke_multitrait_brr(small_bivariate):
    result = geweke_test(
        _geweke_model(small_bivariate), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41, n_effects=3
    )
    print(result)
    assert result.passed, str(result)


def _geweke_bayes_c(small_bivariate):
    data, genotypes = small_bivariate
    sigma_alpha = InverseWishart(14.0, 11.0 * np.array([[0.5, 0.3], [0.3, 0.5]]))
    residual = InverseWishart(14.0, 11.0 * np.array([[1.0, 0.5], [0.5, 1.0]]))
    prior = bg.BayesCPrior(pi=bg.Beta(4.0, 4.0), prior=sigma_alpha)
    return bg.Model(data, ["y1", "y2"], [bg.Markers("id", genotypes, prior=prior)], sigma2_e=residual)


@pytest.mark.statistical
def test_geweke_multitrait_bayes_c_pi(small_bivariate):
    result = geweke_test(
        _geweke_bayes_c(small_bivariate), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43, n_effects=3
    )
    print(result)
    assert result.passed, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_without_the_slab_determinant_fails(small_bivariate, monkeypatch):
    """The inclusion log-odds without -log|Sigma_alpha| / 2 (a classic slip): must fail."""
    from bayesgen.priors.inclusion import log_odds

    monkeypatch.setattr(bg.BayesCPrior, "log_prior_odds", lambda self, state: log_odds(state["pi"][0]))
    result = geweke_test(
        _geweke_bayes_c(small_bivariate), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=43, n_effects=3
    )
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.0 * result.threshold, str(result)


@pytest.mark.statistical
def test_geweke_planted_error_ignoring_the_residual_correlation_fails(small_bivariate, monkeypatch):
    import bayesgen.priors.ridge as module

    exact = module.sweep_markers_multitrait

    def diagonal_r(rng, alpha, codes, lookup, xx, resid, weights, gv, r_inv, s_inv, **options):
        cov = np.linalg.inv(r_inv)
        return exact(rng, alpha, codes, lookup, xx, resid, weights, gv, np.diag(1.0 / np.diag(cov)), s_inv, **options)

    monkeypatch.setattr(module, "sweep_markers_multitrait", diagonal_r)
    result = geweke_test(
        _geweke_model(small_bivariate), n_marginal=N_MARGINAL, n_successive=N_SUCCESSIVE, seed=41, n_effects=3
    )
    print(result)
    assert not result.passed
    assert result.max_abs_z > 2.0 * result.threshold, str(result)
