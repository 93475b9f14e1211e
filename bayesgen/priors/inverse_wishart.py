"""Inverse-Wishart prior on a covariance matrix (several traits, or correlated effects)."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_finite
from .base import VariancePrior


class InverseWishart(VariancePrior):
    r"""Inverse-Wishart prior :math:`\Sigma \sim IW(\nu, S)` on a t x t covariance matrix.

    Density :math:`p(\Sigma) \propto |\Sigma|^{-(\nu + t + 1)/2} \exp(-\tfrac12 \mathrm{tr}(S\Sigma^{-1}))`;
    mean :math:`S/(\nu - t - 1)` for :math:`\nu > t + 1`. For t = 1 it is
    ``ScaledInvChi2(nu, S / nu)``. (MCMCglmm's ``list(V, nu)`` is ``InverseWishart(nu, nu * V)``.)

    Parameters
    ----------
    df : float, ``> t - 1``
        Degrees of freedom :math:`\nu`.
    scale : array (t x t), symmetric positive definite
        The scale matrix S (in the units of the covariance, times :math:`\nu`).

    Conjugate update given m effect vectors with :math:`SS = \sum_k u_k u_k'`:
    :math:`\Sigma \mid \cdot \sim IW(\nu + m, S + SS)`.
    """

    sampled = True

    def __init__(self, df: float, scale):
        scale = np.atleast_2d(np.asarray(scale, dtype=np.float64))
        if scale.ndim != 2 or scale.shape[0] != scale.shape[1]:
            raise ValueError(f"InverseWishart scale must be a square matrix, got shape {scale.shape}.")
        if not np.isfinite(scale).all() or not np.allclose(scale, scale.T):
            raise ValueError("InverseWishart scale must be finite and symmetric.")
        if np.linalg.eigvalsh(scale).min() <= 0:
            raise ValueError("InverseWishart scale must be positive definite.")
        self.dim = scale.shape[0]
        self.df = check_positive_finite(df, "InverseWishart df")
        if self.df <= self.dim - 1:
            raise ValueError(f"InverseWishart df must be > t - 1 = {self.dim - 1}, got {self.df!r}.")
        self.scale = scale

    def mean(self) -> np.ndarray:
        t = self.dim
        return self.scale / (self.df - t - 1) if self.df > t + 1 else np.full((t, t), np.inf)

    def mode(self) -> np.ndarray:
        return self.scale / (self.df + self.dim + 1)

    def initial_value(self, fallback) -> np.ndarray:
        return self.mode()

    def draw_prior(self, rng, aux=None) -> np.ndarray:
        return _draw_inverse_wishart(rng, self.df, self.scale)

    def draw_posterior(self, rng, sum_squares, count: int, aux=None) -> np.ndarray:
        ss = np.asarray(sum_squares, dtype=np.float64).reshape(self.dim, self.dim)
        return _draw_inverse_wishart(rng, self.df + count, self.scale + ss)

    def log_density(self, value, aux=None) -> float:
        value = np.asarray(value, dtype=np.float64).reshape(self.dim, self.dim)
        sign, logdet = np.linalg.slogdet(value)
        if sign <= 0:
            return -np.inf
        return -0.5 * (self.df + self.dim + 1) * logdet - 0.5 * np.trace(np.linalg.solve(value, self.scale))

    def to_dict(self) -> dict:
        return {"family": "InverseWishart", "df": self.df, "scale": self.scale.tolist()}

    def __repr__(self) -> str:
        return f"InverseWishart(df={self.df:g}, scale={self.scale.tolist()})"


def _draw_inverse_wishart(rng: np.random.Generator, df: float, scale: np.ndarray) -> np.ndarray:
    r"""One draw of IW(df, scale) from the Bartlett decomposition, with the given generator.

    If :math:`W \sim \text{Wishart}(df, S^{-1})` then :math:`W^{-1} \sim IW(df, S)`. With
    :math:`S^{-1} = LL'` and the Bartlett factor B (lower triangular,
    :math:`B_{ii}^2 \sim \chi^2_{df - i}`, :math:`B_{ij} \sim N(0,1)` below), :math:`W = LBB'L'`.
    """
    t = scale.shape[0]
    chol = np.linalg.cholesky(np.linalg.inv(scale))
    bartlett = np.zeros((t, t))
    for i in range(t):
        bartlett[i, i] = np.sqrt(rng.chisquare(df - i))
        bartlett[i, :i] = rng.standard_normal(i)
    factor = chol @ bartlett
    wishart = factor @ factor.T
    return np.linalg.inv(wishart)

