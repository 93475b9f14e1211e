"""The working quantities one chain's terms share during an iteration."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class StepContext:
    """What every update of one chain reads and keeps consistent.

    ``resid``: (records x traits) residual, working response minus the linear predictor,
    Fortran-ordered so that ``resid[:, k]`` is contiguous; every update that changes effects
    keeps it consistent in place. ``weights``: (records x traits) 0/1 precision weights of the
    working response (0 = no data: a record missing every trait). The residual covariance is
    read from its one owner, the likelihood (``likelihood.covariance(likelihood_state)``),
    never copied. ``tuning``: True during burn-in, when adaptive steps may tune their
    proposals. ``iteration``: completed iterations of this chain.
    """

    resid: np.ndarray
    weights: np.ndarray
    likelihood: object
    likelihood_state: dict
    tuning: bool = False
    iteration: int = 0

    @property
    def residual_covariance(self) -> np.ndarray:
        """The current t x t residual (co)variance R (1 x 1 for one trait)."""
        return self.likelihood.covariance(self.likelihood_state)

    @property
    def sigma2_e(self) -> float:
        """The residual variance of a one-trait model."""
        return float(self.residual_covariance[0, 0])
