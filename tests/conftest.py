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
