"""The Hamiltonian step's warm-up choice of its trajectory length (``bayesgen.sampler.hmc``), exactly."""

import numpy as np
import pytest

from bayesgen.sampler.hmc import LEAPFROG_STEPS, MAX_STEPS, WIDTH_END, WIDTH_START, HamiltonianStep


def _warm_up(step, draws, metric):
    """Run the warm-up adaptation over ``draws`` (one per warm-up iteration) with a fixed metric."""
    state = step.init_state(np.random.default_rng(0))
    step._set_metric(state, metric)
    state["started"] = True
    for phi in draws:
        step._adapt(phi, 0.8, state)
    return state


@pytest.mark.parametrize(
    "variance,expected", [(1.0, LEAPFROG_STEPS), (0.25, LEAPFROG_STEPS), (9.0, 12), (100.0, MAX_STEPS)]
)
def test_steps_grow_with_the_widest_direction_in_the_metrics_units(variance, expected):
    """Draws 51-150 with covariance diag(variance, 1) x metric: 4 sqrt(largest eigenvalue) steps,
    never fewer than 4 nor more than 16."""
    rng = np.random.default_rng(3)
    metric = np.array([[0.5, 0.1], [0.1, 0.2]])
    root = np.linalg.cholesky(metric)
    white = rng.standard_normal((WIDTH_END, 2))
    white = (white - white.mean(0)) / white.std(0, ddof=1)
    white[:, 1] -= white[:, 0] * (white[:, 0] @ white[:, 1]) / (white[:, 0] @ white[:, 0])
    white[:, 1] /= white[:, 1].std(ddof=1)
    draws = (white * np.sqrt([variance, 1.0])) @ root.T  # the late draws' covariance: root diag root'
    draws = np.vstack([np.zeros((WIDTH_START, 2)), draws[: WIDTH_END - WIDTH_START]])
    state = _warm_up(HamiltonianStep(2, inverse_metric=metric), draws, metric)
    late = draws[WIDTH_START:WIDTH_END]
    whitened = np.linalg.solve(root, np.cov(late, rowvar=False)) @ np.linalg.inv(root).T
    largest = np.linalg.eigvalsh(whitened)[-1]
    assert state["steps"] == int(
        min(MAX_STEPS, max(LEAPFROG_STEPS, round(LEAPFROG_STEPS * np.sqrt(max(largest, 1.0)))))
    )
    assert state["steps"] == expected
    assert state["width_n"] == WIDTH_END - WIDTH_START


def test_steps_stay_fixed_after_warm_up_and_without_enough_draws():
    metric = np.eye(2)
    step = HamiltonianStep(2, inverse_metric=metric)  # a fixed metric, as the Laplace approximation gives
    short = _warm_up(step, np.random.default_rng(1).standard_normal((WIDTH_END - 1, 2)) * 10.0, metric)
    assert short["steps"] == LEAPFROG_STEPS  # the length is set at iteration WIDTH_END only
    wide = _warm_up(step, np.random.default_rng(1).standard_normal((WIDTH_END, 2)) * 10.0, metric)
    assert wide["steps"] == MAX_STEPS
    assert wide["dual_count"] == 0  # the step size's dual averaging starts again for the new length
