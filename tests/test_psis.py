"""Pareto-smoothed importance sampling (bayesgen.diagnostics.psis) against arviz.psislw."""

import math

import arviz as az
import numpy as np
import pytest

from bayesgen.diagnostics import k_threshold, psis_log_weights


@pytest.mark.parametrize("n_draws", [30, 500, 4000])
@pytest.mark.parametrize("kind", ["normal", "student_t", "exponential", "pareto_k_1"])
def test_matches_arviz(kind, n_draws):
    rng = np.random.default_rng(n_draws)
    log_ratios = {
        "normal": lambda: rng.normal(size=n_draws),
        "student_t": lambda: 0.3 * rng.standard_t(3, size=n_draws),
        "exponential": lambda: rng.exponential(0.5, size=n_draws),  # weights Pareto with k = 0.5
        "pareto_k_1": lambda: rng.exponential(1.0, size=n_draws) + 7.0,  # k = 1, shifted
    }[kind]()
    given = log_ratios.copy()
    expected_log_weights, expected_k = az.psislw(log_ratios.copy())
    log_weights, k_hat = psis_log_weights(log_ratios)
    np.testing.assert_allclose(log_weights, expected_log_weights, rtol=0, atol=1e-10)
    assert k_hat == pytest.approx(float(expected_k), abs=1e-10)
    assert np.logaddexp.reduce(log_weights) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_array_equal(log_ratios, given)  # the input is not modified


def test_k_estimates_the_tail_shape():
    # weights exp(E) with E ~ Exponential(rate 1 / k) are Pareto with shape k
    rng = np.random.default_rng(0)
    for k in (0.3, 0.8):
        _, k_hat = psis_log_weights(rng.exponential(k, size=20_000))
        assert k_hat == pytest.approx(k, abs=0.1)


def test_short_tail_gives_infinite_k_and_raw_weights():
    log_ratios = np.linspace(0.0, 1.0, 20)  # tail of ceil(20 / 5) = 4 values: too few to fit
    log_weights, k_hat = psis_log_weights(log_ratios)
    assert k_hat == math.inf
    np.testing.assert_allclose(log_weights, log_ratios - np.logaddexp.reduce(log_ratios), atol=1e-14)


def test_k_threshold():
    assert k_threshold(100) == pytest.approx(0.5)
    assert k_threshold(1000) == pytest.approx(2 / 3)
    assert k_threshold(2155) == 0.7 and k_threshold(100_000) == 0.7


def test_non_finite_or_empty_log_ratios():
    for bad in ([], [0.0, np.nan], [0.0, -np.inf]):
        with pytest.raises(ValueError, match="log_ratios must be a non-empty vector of finite numbers"):
            psis_log_weights(bad)


def test_bad_r_eff():
    with pytest.raises(ValueError, match="r_eff must be > 0, got 0"):
        psis_log_weights(np.zeros(10), r_eff=0)


def test_r_eff_lengthens_the_tail_like_arviz():
    log_ratios = np.random.default_rng(3).standard_t(4, size=2000) * 0.5
    for r_eff in (0.3, 1.0):
        expected_log_weights, expected_k = az.psislw(log_ratios.copy(), reff=r_eff)
        log_weights, k_hat = psis_log_weights(log_ratios, r_eff=r_eff)
        np.testing.assert_allclose(log_weights, expected_log_weights, rtol=0, atol=1e-10)
        assert k_hat == pytest.approx(float(expected_k), abs=1e-10)
