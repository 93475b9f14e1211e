"""Half-t prior on a standard deviation (Gelman 2006), sampled as a scale mixture."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_finite, check_square_representable
from .base import VariancePrior


class HalfT(VariancePrior):
    r"""Half-t prior on the standard deviation: :math:`\sigma \sim t^+_\nu(0, A)`.

    Density of :math:`\sigma`: :math:`p(\sigma) \propto (1 + \sigma^2/(\nu A^2))^{-(\nu+1)/2}`,
    :math:`\sigma > 0`; ``df=1`` is the half-Cauchy. On the variance,
    :math:`p(\sigma^2) \propto (\sigma^2)^{-1/2}(1 + \sigma^2/(\nu A^2))^{-(\nu+1)/2}`: finite
    and non-zero as :math:`\sigma \to 0` (a variance near 0 stays plausible, unlike under
    a scaled-inverse-:math:`\chi^2`, whose density vanishes there), with heavy tails above
    the scale A. A is in the units of :math:`\sigma` (the phenotype's units).

    Sampling uses the mixture of Wand et al. (2011): :math:`\sigma^2 \mid a \sim IG(\nu/2, \nu/a)`,
    :math:`a \sim IG(1/2, 1/A^2)`. Given q effects with sum of squares SS the full
    conditionals are conjugate,
    :math:`\sigma^2 \mid a, u \sim IG((\nu + q)/2,\; \nu/a + SS/2)` and
    :math:`a \mid \sigma^2 \sim IG((\nu + 1)/2,\; \nu/\sigma^2 + 1/A^2)`
    (IG(shape, rate) has density :math:`\propto x^{-shape-1} e^{-rate/x}`).

    Parameters
    ----------
    df : float, > 0
        :math:`\nu` (1: half-Cauchy).
    scale : float, > 0
        A, the scale of the standard deviation.
    """

    sampled = True
    dim = 1

    def __init__(self, df: float = 1.0, scale: float = 1.0):
        self.df = check_positive_finite(df, "HalfT df")
        self.scale = check_positive_finite(scale, "HalfT scale")
        check_square_representable(self.scale, self.df, "HalfT scale")

    def init_aux(self, rng) -> dict:
        # a ~ IG(1/2, 1/A^2) sits on the scale 1/A^2 (sigma^2 | a is centred near 1/a ~ A^2).
        return {"a": np.array([1.0 / self.scale**2])}

    def initial_value(self, fallback) -> np.ndarray:
        return np.array([[float(np.asarray(fallback).reshape(-1)[0])]])

    def _draw_aux(self, rng, sigma2: float, aux: dict) -> None:
        rate = self.df / sigma2 + 1.0 / self.scale**2
        aux["a"][0] = rate / rng.gamma(0.5 * (self.df + 1.0))

    def draw_prior(self, rng, aux=None) -> np.ndarray:
        a = (1.0 / self.scale**2) / rng.gamma(0.5)
        if aux is not None:
            aux["a"][0] = a
        return np.array([[(self.df / a) / rng.gamma(0.5 * self.df)]])

    def draw_posterior(self, rng, sum_squares, count: int, aux=None) -> np.ndarray:
        if aux is None:
            raise ValueError("HalfT.draw_posterior needs the chain's auxiliary variables (init_aux).")
        ss = float(np.asarray(sum_squares).reshape(-1)[0])
        rate = self.df / aux["a"][0] + 0.5 * ss
        sigma2 = rate / rng.gamma(0.5 * (self.df + count))
        self._draw_aux(rng, sigma2, aux)
        return np.array([[sigma2]])

    def refresh_aux(self, rng, value, aux: dict) -> None:
        self._draw_aux(rng, float(np.asarray(value).reshape(-1)[0]), aux)

    def log_density(self, value, aux=None) -> float:
        sigma2 = float(np.asarray(value).reshape(-1)[0])
        if sigma2 <= 0:
            return -np.inf
        if aux is not None:  # IG(df/2, df/a), the density given the auxiliary variable
            return -(0.5 * self.df + 1.0) * np.log(sigma2) - self.df / (aux["a"][0] * sigma2)
        return -0.5 * np.log(sigma2) - 0.5 * (self.df + 1.0) * np.log1p(sigma2 / (self.df * self.scale**2))

    def log_density_gradient(self, value) -> np.ndarray:
        sigma2 = float(np.asarray(value).reshape(-1)[0])
        return np.array([[-0.5 / sigma2 - 0.5 * (self.df + 1.0) / (self.df * self.scale**2 + sigma2)]])

    def to_dict(self) -> dict:
        return {"family": "HalfT", "df": self.df, "scale": self.scale}

    def __repr__(self) -> str:
        return f"HalfT(df={self.df:g}, scale={self.scale:g})"
