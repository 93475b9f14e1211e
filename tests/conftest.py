"""Shared fixtures: the reference data in ../shared (tests skip where it is absent)."""

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"reference data not found at {SHARED_DATA} (../shared is absent)")
    return SHARED_DATA


def z_within(estimate, truth, mcse, z=4.0):
    """|estimate - truth| <= z * MCSE, elementwise; returns the boolean array and the z-scores."""
    estimate, truth, mcse = map(np.asarray, (estimate, truth, mcse))
    scores = np.abs(estimate - truth) / mcse
    return scores <= z, scores


def mcse_mean(draws):
    """Monte Carlo standard error of the mean of (chain, draw) draws."""
    import arviz as az

    return np.asarray(az.mcse(np.asarray(draws), method="mean")).item()


def mcse_sd(draws):
    """MCSE of the posterior sd by the delta method, sd = sqrt(E(x - m)^2).

    (arviz 0.23's ``mcse(method="sd")`` fails under NumPy >= 2.4 when numba is installed.)
    """
    draws = np.asarray(draws)
    return mcse_mean((draws - draws.mean()) ** 2) / (2.0 * draws.std())
