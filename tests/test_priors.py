"""Variance priors: conjugate draws and densities against closed forms and quadrature."""

import re

import numpy as np
import pytest
import scipy.stats
from conftest import mcse_mean

import bayesgen as bg


def gibbs_chain(prior, sum_squares, count, n, seed):
    rng = np.random.default_rng(seed)
    aux = prior.init_aux(rng)
    return np.array([prior.draw_posterior(rng, sum_squares, count, aux)[0, 0] for _ in range(n)])


def posterior_mean_by_quadrature(prior, sum_squares, count, transform=np.log):
    """E[transform(sigma2)] under p(sigma2) * sigma2^(-count/2) exp(-SS / (2 sigma2)), by a fine
    trapezoid rule on x = log sigma2 over [-40, 40] (both tails decay exponentially in x)."""
    x = np.linspace(-40.0, 40.0, 80001)
    log_prior = np.array([prior.log_density(np.array([[np.exp(v)]])) for v in x])
    log_density = log_prior - 0.5 * count * x - 0.5 * sum_squares * np.exp(-x) + x
    weights = np.exp(log_density - log_density.max())
    return np.trapezoid(transform(np.exp(x)) * weights, x) / np.trapezoid(weights, x)


@pytest.mark.parametrize("df,scale", [(1.0, 0.5), (3.0, 2.0)])
def test_half_t_gibbs_draws_match_the_marginal_posterior(df, scale):
    prior = bg.HalfT(df, scale)
    for ss, count in ((0.0, 0), (3.2, 4), (40.0, 25)):
        draws = np.log(gibbs_chain(prior, ss, count, 40000, seed=count))
        exact = posterior_mean_by_quadrature(prior, ss, count)
        z = abs(draws.mean() - exact) / mcse_mean(draws[None, :])
        assert z < 4, (ss, count, draws.mean(), exact, z)


def test_half_t_prior_draws_have_half_t_standard_deviations():
    prior = bg.HalfT(3.0, 2.0)
    rng = np.random.default_rng(1)
    sd = np.sqrt([prior.draw_prior(rng)[0, 0] for _ in range(20000)])
    # P(|t| <= x) = 2 F_t(x) - 1 for the half-t.
    assert scipy.stats.kstest(sd, lambda x: 2 * scipy.stats.t(3.0, scale=2.0).cdf(x) - 1).pvalue > 0.001


def test_scaled_inv_chi2_is_inverse_wishart_in_one_dimension():
    a, b = bg.ScaledInvChi2(5.0, 0.8), bg.InverseWishart(5.0, [[4.0]])
    values = [0.3, 1.0, 2.5]
    da = [a.log_density(np.array([[v]])) for v in values]
    db = [b.log_density(np.array([[v]])) for v in values]
    np.testing.assert_allclose(np.diff(da), np.diff(db), rtol=1e-12)


def test_inverse_wishart_density_matches_scipy_up_to_a_constant():
    prior = bg.InverseWishart(6.0, [[2.0, 0.3], [0.3, 1.0]])
    mats = [np.array([[1.0, 0.2], [0.2, 0.7]]), np.array([[0.4, -0.1], [-0.1, 2.0]])]
    ours = [prior.log_density(m) for m in mats]
    ref = [scipy.stats.invwishart(df=6.0, scale=prior.scale).logpdf(m) for m in mats]
    np.testing.assert_allclose(ours[0] - ours[1], ref[0] - ref[1], rtol=1e-10)


def test_inverse_wishart_posterior_draws_have_the_right_mean():
    prior = bg.InverseWishart(5.0, np.eye(2))
    ss = np.array([[10.0, 3.0], [3.0, 6.0]])
    rng = np.random.default_rng(3)
    draws = np.array([prior.draw_posterior(rng, ss, 20) for _ in range(20000)])
    expected = (np.eye(2) + ss) / (5.0 + 20 - 2 - 1)
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert (np.abs(draws.mean(axis=0) - expected) < 4 * se).all()


@pytest.mark.parametrize(
    "kwargs,match", [({"df": 0.0}, "HalfT df must be finite and > 0"), ({"scale": "1"}, "HalfT scale must be a number")]
)
def test_half_t_argument_errors(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        bg.HalfT(**kwargs)


@pytest.mark.parametrize(
    "make, value",
    [
        (lambda s: bg.HalfT(3, s), 1e300),
        (lambda s: bg.HalfT(3, s), 1e-300),
        (lambda s: bg.HuangWand(3, [1.0, s]), 1e300),
    ],
)
def test_scale_whose_square_leaves_float_range_is_refused_at_construction(make, value):
    """Issue 16 item 9: HalfT(3, 1e300) used to fail in sampling with OverflowError (34, ...)."""
    with pytest.raises(
        ValueError, match=r"(HalfT|HuangWand) scale must be between 1e-100 and 1e\+100, got " + re.escape(f"{value!r}")
    ):
        make(value)
    assert bg.HalfT(3, 1e100).scale == 1e100  # the bounds themselves are accepted


def test_error_unknown_variance_prior_lists_every_accepted_prior():
    """Issue 16 item 13: the message named only ScaledInvChi2 and InverseWishart; it lists
    every VariancePrior class a user builds, and says to pass an object, not its name."""
    import bayesgen.priors  # noqa: F401 (every prior class imported, so all subclasses exist)
    from bayesgen.priors.base import VariancePrior

    def subclasses(cls):
        return {c for s in cls.__subclasses__() for c in {s} | subclasses(s)}

    names = sorted(c.__name__ for c in subclasses(VariancePrior) if c.__module__.startswith("bayesgen."))
    data = bg.simulate(n_founders=10, n_generations=1, n_offspring=30, n_markers=0, seed=1).phenotypes
    with pytest.raises(TypeError, match=r"Prior for sigma2_sex must be a .*got 'HalfT'\. Pass a prior object, "
                                        r"e\.g\. bg\.HalfT\(\.\.\.\), not its name") as error:  # fmt: skip
        bg.Model(data, "y", [bg.Random("sex", prior="HalfT")])
    listed = str(error.value).split(" must be a ")[1].split(", a positive number")[0]
    assert sorted(listed.replace(" or ", ", ").split(", ")) == names
