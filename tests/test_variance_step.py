"""The adaptive Metropolis engine of the collapsed variance step (``bayesgen.sampler.variance_step``).

Quick tests on targets known in closed form (no mixed-model equations): the draws have the
target's moments, also when some candidates "fail" (raise) or when the independence proposal
is badly placed; the per-chain state holds only arrays and scalars of fixed size; the same seed
gives the same draws; adaptation diminishes and can be frozen; ``on_accept`` is called once per
accepted candidate.
"""

import numpy as np
import pytest
from scipy.stats import norm

from bayesgen.sampler.variance_step import FIRST_FIT, VarianceMetropolis

MEAN = np.array([0.5, -1.0, 2.0])
COV = np.array([[0.30, 0.20, -0.05], [0.20, 0.40, 0.00], [-0.05, 0.00, 0.10]])
PRECISION = np.linalg.inv(COV)


class Boom(ValueError):
    """Stands for a failed factorisation."""


def gaussian(x):
    d = x - MEAN
    return -0.5 * d @ PRECISION @ d


def run(engine, target, n, seed=0, burn=500, start=None):
    rng = np.random.default_rng(seed)
    state = engine.init_state(rng)
    phi = np.zeros(engine.dim) if start is None else np.array(start, dtype=float)
    current = target(phi) if np.isfinite(_safe(target, phi)) else -np.inf
    accepted = {"n": 0}

    def on_accept():
        accepted["n"] += 1

    draws, infos = [], []
    for it in range(burn + n):
        phi, current, info = engine.step(rng, phi, current, target, on_accept, state, tuning=it < burn)
        if it >= burn:
            draws.append(phi.copy())
            infos.append(info)
    return np.array(draws), infos, state, accepted["n"]


def _safe(target, phi):
    try:
        return target(phi)
    except Boom:
        return -np.inf


def batch_se(x, batches=40):
    length = x.shape[0] // batches
    means = x[: length * batches].reshape(batches, length, -1).mean(axis=1)
    return means.std(axis=0, ddof=1) / np.sqrt(batches)


def assert_moments(draws, mean, var, n_tests):
    """|mean - truth| and |var - truth| within a Bonferroni bound of 4 batch-means standard errors."""
    bound = norm.ppf(1 - 0.001 / (2 * n_tests))
    z_mean = (draws.mean(axis=0) - mean) / batch_se(draws)
    centred = (draws - mean) ** 2
    z_var = (centred.mean(axis=0) - var) / batch_se(centred)
    assert np.all(np.abs(z_mean) < bound), z_mean
    assert np.all(np.abs(z_var) < bound), z_var


@pytest.mark.parametrize("delayed_rejection", [False, True])
def test_draws_have_the_target_moments(delayed_rejection):
    engine = VarianceMetropolis(3, delayed_rejection=delayed_rejection)
    draws, infos, _, _ = run(engine, gaussian, 20000, seed=1)
    assert_moments(draws, MEAN, np.diag(COV), 6)
    independent = np.nanmean([i["accept_variances_independent"] for i in infos])
    assert independent > 0.5  # the fitted proposal matches a Gaussian target well


def test_failing_candidates_have_density_zero_and_are_counted():
    """A target that raises beyond x0 = 0.8: the draws are those of the truncated Gaussian."""
    raised = {"n": 0}

    def truncated(x):
        if x[0] > 0.8:
            raised["n"] += 1
            raise Boom("not positive definite")
        return gaussian(x)

    engine = VarianceMetropolis(3, failures=(Boom,), delayed_rejection=True)
    draws, infos, _, _ = run(engine, truncated, 20000, seed=2)
    # E and Var of x0 ~ N(0.5, 0.3) truncated above at 0.8
    sd = np.sqrt(COV[0, 0])
    beta = (0.8 - MEAN[0]) / sd
    ratio = norm.pdf(beta) / norm.cdf(beta)
    mean0 = MEAN[0] - sd * ratio
    var0 = COV[0, 0] * (1 - beta * ratio - ratio**2)
    assert draws[:, 0].max() <= 0.8
    assert_moments(draws[:, :1], np.array([mean0]), np.array([var0]), 2)
    counted = sum(i["rejected_factorisations"] for i in infos)
    assert counted > 100
    assert counted <= raised["n"]  # the burn-in's failures are not in `infos`


def test_other_exceptions_propagate():
    def broken(x):
        raise KeyError("a bug")

    engine = VarianceMetropolis(2, failures=(Boom,))
    rng = np.random.default_rng(0)
    with pytest.raises(KeyError):
        engine.step(rng, np.zeros(2), 0.0, broken, lambda: None, engine.init_state(rng), tuning=True)


def test_current_value_with_density_zero_is_left_for_the_first_valid_candidate():
    engine = VarianceMetropolis(2)
    rng = np.random.default_rng(3)
    state = engine.init_state(rng)
    calls = []
    phi, current, info = engine.step(
        rng, np.zeros(2), -np.inf, lambda x: -0.5 * x @ x, lambda: calls.append(1), state, tuning=True
    )
    assert np.isfinite(current) and calls == [1] and info["accept_variances_rw"] == 1.0


def test_a_badly_placed_start_recovers():
    """Start 40 sd away from the mode and a short burn-in: the kept draws still have the moments."""
    engine = VarianceMetropolis(3, delayed_rejection=True)
    draws, _, _, _ = run(engine, gaussian, 20000, seed=4, burn=200, start=MEAN + 40 * np.sqrt(np.diag(COV)))
    assert_moments(draws[2000:], MEAN, np.diag(COV), 6)


def test_state_is_arrays_and_scalars_of_fixed_size():
    engine = VarianceMetropolis(3, proposals=2, delayed_rejection=True)
    _, _, state, _ = run(engine, gaussian, 50, burn=10)
    shapes = {k: np.shape(v) for k, v in state.items()}
    _, _, state, _ = run(engine, gaussian, 3000, burn=10)
    assert {k: np.shape(v) for k, v in state.items()} == shapes
    for key, value in state.items():
        assert isinstance(value, (np.ndarray, int, float, bool)), (key, type(value))
    assert state["count"] == 2 * 3010


def test_same_seed_same_draws_and_on_accept_once_per_acceptance():
    engine = VarianceMetropolis(3, delayed_rejection=True)
    a, infos, _, accepted = run(engine, gaussian, 2000, seed=5)
    b, _, _, _ = run(engine, gaussian, 2000, seed=5)
    np.testing.assert_array_equal(a, b)
    moves = int(np.sum(np.any(a[1:] != a[:-1], axis=1)))
    # every change of the draw is an acceptance (burn-in acceptances come on top)
    assert accepted >= moves > 1000


def test_adaptation_diminishes_and_can_be_frozen():
    engine = VarianceMetropolis(3)
    rng = np.random.default_rng(6)
    state = engine.init_state(rng)
    phi, current = np.zeros(3), gaussian(np.zeros(3))
    changes = []
    for it in range(6000):
        before = state["mean"].copy()
        phi, current, _ = engine.step(rng, phi, current, gaussian, lambda: None, state, tuning=it < 500)
        changes.append(np.abs(state["mean"] - before).max())
    changes = np.array(changes)
    assert state["fitted"] and state["count"] == 6000
    # gain forgetting / n: the largest change of the mean shrinks like 1/n
    assert changes[5000:].max() < changes[1000:1100].max() / 3
    frozen = VarianceMetropolis(3, adapt_after_tuning=False)
    state = frozen.init_state(rng)
    for it in range(600):
        phi, current, _ = frozen.step(rng, phi, current, gaussian, lambda: None, state, tuning=it < 300)
    assert state["count"] == 300 and state["fitted"] and state["count"] >= FIRST_FIT


def test_no_parameters_gives_nan_statistics():
    engine = VarianceMetropolis(0)
    rng = np.random.default_rng(0)
    phi, current, info = engine.step(rng, np.zeros(0), 1.5, lambda x: 0.0, lambda: None, engine.init_state(rng), True)
    assert current == 1.5 and np.isnan(info["accept_variances_rw"]) and info["rejected_factorisations"] == 0.0
    assert [v.name for v in engine.info_variables()] == list(info)
