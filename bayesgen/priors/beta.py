"""Beta prior, used for the inclusion probability pi of spike-and-slab marker priors."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_finite


class Beta:
    r"""Beta(a, b) prior: :math:`p(\pi) \propto \pi^{a-1}(1-\pi)^{b-1}`, mean :math:`a/(a+b)`.

    On the share :math:`\pi` of markers with a non-zero effect. Given :math:`k` of :math:`p`
    markers included the full conditional is conjugate:
    :math:`\pi \mid \delta \sim \text{Beta}(a + k,\; b + p - k)`.
    """

    def __init__(self, a: float, b: float):
        self.a = check_positive_finite(a, "Beta a")
        self.b = check_positive_finite(b, "Beta b")

    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def log_density(self, x: float) -> float:
        """Log density up to a constant: (a - 1) log x + (b - 1) log(1 - x)."""
        if not 0.0 < x < 1.0:
            return -np.inf
        return (self.a - 1.0) * np.log(x) + (self.b - 1.0) * np.log1p(-x)

    def draw_prior(self, rng: np.random.Generator, size=None):
        return rng.beta(self.a, self.b, size=size)

    def draw_posterior(self, rng: np.random.Generator, n_included: int, n_total: int) -> float:
        """A draw of pi given ``n_included`` of ``n_total`` Bernoulli(pi) indicators are 1."""
        return rng.beta(self.a + n_included, self.b + n_total - n_included)

    def to_dict(self) -> dict:
        return {"family": "Beta", "a": self.a, "b": self.b}

    def __repr__(self) -> str:
        return f"Beta(a={self.a:g}, b={self.b:g})"
