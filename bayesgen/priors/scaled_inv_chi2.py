"""Scaled-inverse-chi-squared prior on a variance component, and fixed variances."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_positive_finite
from .base import VariancePrior

#: Below this many degrees of freedom the mode nu S^2 / (nu + 2) is a corner of the prior, not a
#: typical value (MCMCglmm's ScaledInvChi2(0.002, 1): 0.001, deep in the flat region the prior
#: leaves near 0, where a chain started there spent its whole burn-in on gryphon's bwt): chains
#: start from the term's share of the phenotypic variance instead.
CENTRAL_DF = 1.0


class ScaledInvChi2(VariancePrior):
    r"""Scaled-inverse-:math:`\chi^2` prior, :math:`\sigma^2 \sim \text{Scale-inv-}\chi^2(\nu, S^2)`.

    Density: :math:`p(\sigma^2) \propto (\sigma^2)^{-(\nu/2 + 1)} \exp(-\nu S^2 / (2\sigma^2))`,
    i.e. :math:`\sigma^2 = \nu S^2 / X` with :math:`X \sim \chi^2_\nu`; equivalently an
    inverse-gamma with shape :math:`\nu/2` and scale :math:`\nu S^2/2`. Mean
    :math:`\nu S^2/(\nu-2)` for :math:`\nu > 2`; mode :math:`\nu S^2/(\nu+2)`.
    (BGLR's ``S0`` is :math:`\nu S^2`; MCMCglmm's ``list(V, nu)`` is ``ScaledInvChi2(nu, V)``.)

    Parameters
    ----------
    df : float, ``>= 0``
        Degrees of freedom :math:`\nu`.
    scale : float, ``>= 0``
        Scale :math:`S^2`, in the units of the variance.

    Notes
    -----
    Improper choices: :math:`\nu S^2 = 0` (``df = 0`` or ``scale = 0``) gives
    :math:`p(\sigma^2) \propto (\sigma^2)^{-(\nu/2+1)}`, e.g. :math:`1/\sigma^2` for ``df = 0``.
    That is allowed for the residual variance (the posterior is proper when there are more
    observed records than fixed effects), but for a random-effect variance the posterior is
    improper (Hobert & Casella 1996): the chain can collapse to 0, most visibly with few
    levels. Models warn when a random term gets such a prior.

    Conjugate update: given :math:`m` effects with sum of squares :math:`SS` (weighted by
    the inverse of their prior correlation), :math:`\sigma^2 \mid \cdot \sim
    \text{Scale-inv-}\chi^2(\nu + m, (\nu S^2 + SS)/(\nu + m))`.
    """

    sampled = True
    dim = 1

    def __init__(self, df: float, scale: float):
        self.df = check_positive_finite(df, "ScaledInvChi2 df", allow_zero=True)
        self.scale = check_positive_finite(scale, "ScaledInvChi2 scale", allow_zero=True)

    @property
    def is_proper(self) -> bool:
        return self.df > 0 and self.scale > 0

    @property
    def improper_at_zero(self) -> bool:
        return self.df * self.scale == 0

    def mean(self) -> float:
        return self.df * self.scale / (self.df - 2) if self.df > 2 else np.inf

    def mode(self) -> float:
        return self.df * self.scale / (self.df + 2)

    def initial_value(self, fallback) -> np.ndarray:
        """The prior mode when the prior is proper with at least ``CENTRAL_DF`` degrees of
        freedom, else ``fallback`` (1 x 1; the terms pass a share of the phenotypic variance)."""
        central = self.is_proper and self.df >= CENTRAL_DF
        value = self.mode() if central else float(np.asarray(fallback).reshape(-1)[0])
        return np.array([[value]])

    def draw_prior(self, rng: np.random.Generator, aux=None) -> np.ndarray:
        if not self.is_proper:
            raise ValueError(f"Cannot draw from the improper prior {self!r}.")
        return np.array([[self.df * self.scale / rng.chisquare(self.df)]])

    def draw_posterior(self, rng: np.random.Generator, sum_squares, count: int, aux=None) -> np.ndarray:
        df = self.df + count
        if df <= 0:
            raise ValueError("Posterior degrees of freedom must be positive.")
        ss = float(np.asarray(sum_squares).reshape(-1)[0])
        return np.array([[(self.df * self.scale + ss) / rng.chisquare(df)]])

    def log_density(self, value, aux=None) -> float:
        sigma2 = float(np.asarray(value).reshape(-1)[0])
        if sigma2 <= 0:
            return -np.inf
        return -(0.5 * self.df + 1.0) * np.log(sigma2) - 0.5 * self.df * self.scale / sigma2

    def log_density_gradient(self, value) -> np.ndarray:
        sigma2 = float(np.asarray(value).reshape(-1)[0])
        return np.array([[-(0.5 * self.df + 1.0) / sigma2 + 0.5 * self.df * self.scale / sigma2**2]])

    def to_dict(self) -> dict:
        return {"family": "ScaledInvChi2", "df": self.df, "scale": self.scale}

    def __repr__(self) -> str:
        return f"ScaledInvChi2(df={self.df:g}, scale={self.scale:g})"


class FixedVariance(VariancePrior):
    """A variance (or a t x t covariance matrix) held at a known value, never sampled.

    Passing a number where a prior is expected makes one.
    """

    sampled = False

    def __init__(self, value: ArrayLike):
        matrix = np.atleast_2d(np.asarray(value, dtype=np.float64)) if not np.isscalar(value) else None
        if matrix is None or matrix.size == 1:
            self.value = np.array(
                [[check_positive_finite(value if matrix is None else matrix.item(), "A fixed variance")]]
            )
        else:
            if matrix.shape[0] != matrix.shape[1] or not np.allclose(matrix, matrix.T) or not np.isfinite(matrix).all():
                raise ValueError(f"A fixed covariance must be a finite symmetric square matrix, got {matrix!r}.")
            if np.linalg.eigvalsh(matrix).min() <= 0:
                raise ValueError("A fixed covariance must be positive definite.")
            self.value = matrix
        self.dim = self.value.shape[0]

    def initial_value(self, fallback) -> np.ndarray:
        return self.value.copy()

    def draw_prior(self, rng, aux=None) -> np.ndarray:
        return self.value.copy()

    def draw_posterior(self, rng, sum_squares, count: int, aux=None) -> np.ndarray:
        return self.value.copy()

    def log_density(self, value, aux=None) -> float:
        return 0.0

    def log_density_gradient(self, value) -> np.ndarray:
        return np.zeros_like(np.asarray(value, dtype=np.float64))

    def to_dict(self) -> dict:
        v = self.value
        return {"family": "Fixed", "value": float(v[0, 0]) if v.size == 1 else v.tolist()}

    def __repr__(self) -> str:
        v = self.value
        return f"FixedVariance({v[0, 0]:g})" if v.size == 1 else f"FixedVariance({v.tolist()})"


#: Every prior a variance component accepts (the ``VariancePrior`` classes a user builds), for messages.
VARIANCE_PRIORS = ("ScaledInvChi2", "HalfT", "InverseWishart", "HuangWand", "DiagonalPrior", "FixedVariance")


def as_variance_prior(prior, default: VariancePrior, name: str) -> VariancePrior:
    """Turn what a user passed for a variance into a prior object.

    ``None`` gives ``default``; a number (or a matrix) fixes the variance; a
    ``VariancePrior`` is used as it is. Anything else is an error naming ``name``.
    """
    if prior is None:
        return default
    if isinstance(prior, VariancePrior):
        return prior
    if isinstance(prior, (int, float, np.integer, np.floating)) and not isinstance(prior, (bool, np.bool_)):
        try:
            return FixedVariance(prior)
        except ValueError as err:
            raise ValueError(f"Invalid fixed value for {name}: {err}") from None
    if isinstance(prior, (list, np.ndarray)):
        try:
            return FixedVariance(prior)
        except (TypeError, ValueError) as err:
            raise ValueError(f"Invalid fixed value for {name}: {err}") from None
    hint = f" Pass a prior object, e.g. bg.{prior}(...), not its name." if prior in VARIANCE_PRIORS else ""
    raise TypeError(
        f"Prior for {name} must be a {', '.join(VARIANCE_PRIORS[:-1])} or {VARIANCE_PRIORS[-1]}, a positive number "
        f"or matrix (a fixed variance), or None (the default), got {prior!r}.{hint}"
    )
