"""The protocol every prior on a variance component implements.

A variance component is a matrix: 1 x 1 for one trait (or one effect per level), t x t for
t traits or correlated effects (intercept and slopes, direct and maternal). Terms never read
a prior's fields; they ask it for draws and densities through this protocol, so a new prior
(half-t, inverse-Wishart, fixed) plugs into every term.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class VariancePrior(ABC):
    r"""A prior on a t x t covariance matrix :math:`\Sigma` of effects (t = 1: a variance).

    ``draw_posterior(rng, sum_squares, count, aux)`` draws :math:`\Sigma` given ``count``
    effect vectors :math:`u_k \in \mathbb{R}^t` with
    ``sum_squares`` :math:`= \sum_k u_k u_k'` (already weighted by the inverse of their prior
    correlation, e.g. :math:`U'A^{-1}U`); the likelihood of :math:`\Sigma` is then
    :math:`|\Sigma|^{-count/2}\exp(-\tfrac12 \mathrm{tr}(\Sigma^{-1} SS))`.

    Priors that are scale mixtures of conjugate ones (the half-t) keep auxiliary variables
    per chain in ``aux`` (a dict from ``init_aux``, stored by the term in its state):
    ``draw_posterior`` then draws :math:`\Sigma` given ``aux`` and refreshes ``aux`` given
    :math:`\Sigma`; ``log_density(value, aux)`` is the density conditional on ``aux`` (for
    Metropolis steps that keep ``aux`` fixed), ``log_density(value)`` the marginal prior.
    """

    #: False for a fixed (known) variance, which is never updated.
    sampled: bool = True
    #: The dimension t the prior was built for, or None if it fits any (e.g. a scalar prior on t = 1 only).
    dim: int | None = 1
    #: True for a prior on diagonal matrices only (off-diagonal elements are 0, never sampled):
    #: samplers then move the diagonal elements alone (``bayesgen.sampler.parametrisation``).
    diagonal: bool = False

    @abstractmethod
    def draw_posterior(
        self, rng: np.random.Generator, sum_squares: np.ndarray, count: int, aux: dict | None = None
    ) -> np.ndarray:
        """One draw of the t x t matrix given the sufficient statistics (see class docstring)."""

    @abstractmethod
    def draw_prior(self, rng: np.random.Generator, aux: dict | None = None) -> np.ndarray:
        """One draw from the prior (proper priors only; for joint-distribution tests)."""

    @abstractmethod
    def log_density(self, value: np.ndarray, aux: dict | None = None) -> float:
        """Log prior density at ``value`` (t x t), up to a constant that does not depend on it."""

    def log_density_gradient(self, value: np.ndarray) -> np.ndarray:
        r"""G with :math:`d\log p = \mathrm{tr}(G\,d\Sigma)` for symmetric :math:`d\Sigma` (the marginal
        density, auxiliary variables integrated out): the gradient that Hamiltonian steps on
        variance components use. This default differentiates ``log_density`` numerically;
        the priors of bayesgen override it with the closed form."""
        value = np.asarray(value, dtype=np.float64)
        d = value.shape[0]
        out = np.zeros((d, d))
        for i in range(d):
            for j in range(i + 1):
                h = 1e-6 * max(abs(value[i, j]), np.sqrt(abs(value[i, i] * value[j, j])), 1e-12)
                step = np.zeros((d, d))
                step[i, j] = step[j, i] = h
                slope = (self.log_density(value + step) - self.log_density(value - step)) / (2.0 * h)
                out[i, j] = out[j, i] = slope if i == j else 0.5 * slope
        return out

    def init_aux(self, rng: np.random.Generator) -> dict:
        """Per-chain auxiliary variables (none for conjugate priors)."""
        return {}

    def refresh_aux(self, rng: np.random.Generator, value: np.ndarray, aux: dict) -> None:
        """Draw the auxiliary variables given the current value (after a Metropolis step)."""

    @abstractmethod
    def initial_value(self, fallback: np.ndarray) -> np.ndarray:
        """A starting value: a central value of the prior, or ``fallback`` when it is improper."""

    @property
    def is_proper(self) -> bool:
        return True

    @property
    def improper_at_zero(self) -> bool:
        """True when the density does not vanish fast enough at 0 for a random-effect variance.

        Random-effect likelihoods stay bounded away from 0 as the variance goes to 0, so a
        prior that is not integrable there gives an improper posterior (Hobert & Casella 1996).
        """
        return False

    @abstractmethod
    def to_dict(self) -> dict:
        """A JSON-able description (family and parameters)."""

    def check_dim(self, dim: int, name: str) -> None:
        """Raise if the prior cannot be used for a ``dim`` x ``dim`` component called ``name``."""
        if self.dim is not None and self.dim != dim:
            raise ValueError(
                f"The prior for {name} is {self.dim} x {self.dim} but {name} is {dim} x {dim} "
                f"(use InverseWishart for a {dim} x {dim} covariance)."
            )
