"""Inverse-Wishart prior on a covariance matrix (several traits, or correlated effects)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_positive_finite, check_square_representable
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

    Notes
    -----
    Conjugate update given m effect vectors with :math:`SS = \sum_k u_k u_k'`:
    :math:`\Sigma \mid \cdot \sim IW(\nu + m, S + SS)`.
    """

    sampled = True

    def __init__(self, df: float, scale: ArrayLike):
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
        with np.errstate(divide="ignore"):  # a singular value (an HMC trajectory's end): density 0 below
            sign, logdet = np.linalg.slogdet(value)
        if sign <= 0:
            return -np.inf
        return -0.5 * (self.df + self.dim + 1) * logdet - 0.5 * np.trace(np.linalg.solve(value, self.scale))

    def log_density_gradient(self, value) -> np.ndarray:
        inverse = np.linalg.inv(np.asarray(value, dtype=np.float64).reshape(self.dim, self.dim))
        return -0.5 * (self.df + self.dim + 1) * inverse + 0.5 * inverse @ self.scale @ inverse

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


class HuangWand(VariancePrior):
    r"""Half-t marginal prior on a t x t covariance (Huang & Wand 2013): the multi-trait default.

    Hierarchy: :math:`\Sigma \mid a \sim IW(\nu + t - 1,\; 2\nu\,\mathrm{diag}(1/a_1, \dots, 1/a_t))`,
    :math:`a_k \sim IG(1/2, 1/A_k^2)`. Marginally each standard deviation
    :math:`\sqrt{\Sigma_{kk}} \sim t^+_\nu(0, A_k)` (the single-trait default ``HalfT(nu, A)``,
    to which it reduces for t = 1) and each correlation has density
    :math:`\propto (1 - \rho^2)^{\nu/2 - 1}` (uniform for :math:`\nu = 2`; for the default
    :math:`\nu = 3`, mildly pulled towards 0). Unlike an inverse-Wishart with small df, the
    variances are not tied to the correlations and a variance near 0 keeps positive density.

    Marginal log density, up to a constant:
    :math:`-\tfrac{\nu + 2t}{2}\log|\Sigma| - \tfrac{\nu + t}{2}\sum_k \log\big(\nu(\Sigma^{-1})_{kk} + 1/A_k^2\big)`.
    Given m effect vectors with :math:`SS = \sum u u'`, the conditionals are conjugate:
    :math:`\Sigma \mid a, u \sim IW(\nu + t - 1 + m,\; 2\nu\,\mathrm{diag}(1/a) + SS)` and
    :math:`a_k \mid \Sigma \sim IG\big((\nu + t)/2,\; \nu(\Sigma^{-1})_{kk} + 1/A_k^2\big)`.

    Parameters
    ----------
    df : float, > 0
        :math:`\nu`.
    scale : array of t floats, > 0
        :math:`A_k`, the scale of each trait's standard deviation (its units).
    """

    sampled = True

    def __init__(self, df: float = 3.0, scale: ArrayLike = (1.0, 1.0)):
        self.df = check_positive_finite(df, "HuangWand df")
        scale = np.atleast_1d(np.asarray(scale, dtype=np.float64))
        if scale.ndim != 1 or scale.size < 1 or not np.isfinite(scale).all() or (scale <= 0).any():
            raise ValueError(f"HuangWand scale must be a vector of positive finite numbers, got {scale.tolist()!r}.")
        for value in scale:
            check_square_representable(float(value), self.df, "HuangWand scale")
        self.scale = scale
        self.dim = scale.size

    def _iw_df(self) -> float:
        return self.df + self.dim - 1.0

    def init_aux(self, rng) -> dict:
        # a_k ~ IG(1/2, 1/A_k^2) sits on the scale 1/A_k^2 (Sigma | a is centred near diag(1/a)).
        return {"a": 1.0 / self.scale**2}

    def initial_value(self, fallback) -> np.ndarray:
        return np.array(fallback, dtype=np.float64).reshape(self.dim, self.dim)

    def _draw_aux(self, rng, value: np.ndarray, aux: dict) -> None:
        rate = self.df * np.diag(np.linalg.inv(value)) + 1.0 / self.scale**2
        aux["a"][:] = rate / rng.gamma(0.5 * (self.df + self.dim), size=self.dim)

    def draw_prior(self, rng, aux=None) -> np.ndarray:
        a = (1.0 / self.scale**2) / rng.gamma(0.5, size=self.dim)
        if aux is not None:
            aux["a"][:] = a
        return _draw_inverse_wishart(rng, self._iw_df(), np.diag(2.0 * self.df / a))

    def draw_posterior(self, rng, sum_squares, count: int, aux=None) -> np.ndarray:
        if aux is None:
            raise ValueError("HuangWand.draw_posterior needs the chain's auxiliary variables (init_aux).")
        ss = np.asarray(sum_squares, dtype=np.float64).reshape(self.dim, self.dim)
        value = _draw_inverse_wishart(rng, self._iw_df() + count, np.diag(2.0 * self.df / aux["a"]) + ss)
        self._draw_aux(rng, value, aux)
        return value

    def refresh_aux(self, rng, value, aux: dict) -> None:
        self._draw_aux(rng, np.asarray(value, dtype=np.float64).reshape(self.dim, self.dim), aux)

    def log_density(self, value, aux=None) -> float:
        value = np.asarray(value, dtype=np.float64).reshape(self.dim, self.dim)
        with np.errstate(divide="ignore"):  # a singular value (an HMC trajectory's end): density 0 below
            sign, logdet = np.linalg.slogdet(value)
        if sign <= 0:
            return -np.inf
        inv_diag = np.diag(np.linalg.inv(value))
        t = self.dim
        if aux is not None:  # IW(nu + t - 1, 2 nu diag(1/a)) given the auxiliary variables
            return -0.5 * (self._iw_df() + t + 1) * logdet - self.df * float(np.sum(inv_diag / aux["a"]))
        return -0.5 * (self.df + 2 * t) * logdet - 0.5 * (self.df + t) * float(
            np.sum(np.log(self.df * inv_diag + 1.0 / self.scale**2))
        )

    def log_density_gradient(self, value) -> np.ndarray:
        t = self.dim
        inverse = np.linalg.inv(np.asarray(value, dtype=np.float64).reshape(t, t))
        weights = (self.df + t) * 0.5 * self.df / (self.df * np.diag(inverse) + 1.0 / self.scale**2)
        # d (Sigma^-1)_kk = -(Sigma^-1 dSigma Sigma^-1)_kk
        return -0.5 * (self.df + 2 * t) * inverse + (inverse * weights) @ inverse

    def to_dict(self) -> dict:
        return {"family": "HuangWand", "df": self.df, "scale": self.scale.tolist()}

    def __repr__(self) -> str:
        return f"HuangWand(df={self.df:g}, scale={self.scale.tolist()})"
