"""Gamma prior, used for the scale S^2 of marker-variance priors (as in BGLR's BayesA)."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_finite


class Gamma:
    r"""Gamma(shape, rate) prior: :math:`p(x) \propto x^{a-1} e^{-b x}`, mean :math:`a/b`.

    Used on the scale :math:`S^2` shared by per-marker variances
    :math:`\sigma^2_j \sim \text{Scale-inv-}\chi^2(\nu, S^2)`. Given the :math:`p`
    variances the full conditional is conjugate:
    :math:`S^2 \mid \cdot \sim \text{Gamma}(a + p\nu/2,\; b + (\nu/2)\sum_j 1/\sigma^2_j)`.
    """

    def __init__(self, shape: float, rate: float):
        self.shape = check_positive_finite(shape, "Gamma shape")
        self.rate = check_positive_finite(rate, "Gamma rate")

    @classmethod
    def with_mode(cls, mode: float, shape: float = 1.1) -> Gamma:
        """The Gamma with the given shape (> 1) whose mode is ``mode`` (BGLR's default rule)."""
        if shape <= 1:
            raise ValueError("Gamma.with_mode needs shape > 1 for the mode to be positive.")
        return cls(shape, (shape - 1.0) / check_positive_finite(mode, "Gamma mode"))

    def mean(self) -> float:
        return self.shape / self.rate

    def mode(self) -> float:
        return max(self.shape - 1.0, 0.0) / self.rate

    def log_density(self, x: float) -> float:
        """Log density up to a constant: (a - 1) log x - b x."""
        return (self.shape - 1.0) * np.log(x) - self.rate * x if x > 0 else -np.inf

    def draw_prior(self, rng: np.random.Generator, size=None):
        return rng.gamma(self.shape, 1.0 / self.rate, size=size)

    def to_dict(self) -> dict:
        return {"family": "Gamma", "shape": self.shape, "rate": self.rate}

    def __repr__(self) -> str:
        return f"Gamma(shape={self.shape:g}, rate={self.rate:g})"
