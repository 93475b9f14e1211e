"""Scaled-inverse-chi-squared prior on a variance component, and fixed variances."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_finite


class ScaledInvChi2:
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
        Scale :math:`S^2`, in the units of the variance. ``df = scale = 0`` gives the
        improper prior :math:`p(\sigma^2) \propto 1/\sigma^2`.

    Conjugate update: given :math:`m` effects with sum of squares :math:`SS` (weighted by
    the inverse of their prior correlation), :math:`\sigma^2 \mid \cdot \sim
    \text{Scale-inv-}\chi^2(\nu + m, (\nu S^2 + SS)/(\nu + m))`.
    """

    sampled = True

    def __init__(self, df: float, scale: float):
        self.df = check_positive_finite(df, "ScaledInvChi2 df", allow_zero=True)
        self.scale = check_positive_finite(scale, "ScaledInvChi2 scale", allow_zero=True)

    @property
    def is_proper(self) -> bool:
        return self.df > 0 and self.scale > 0

    def mean(self) -> float:
        return self.df * self.scale / (self.df - 2) if self.df > 2 else np.inf

    def mode(self) -> float:
        return self.df * self.scale / (self.df + 2)

    def initial_value(self, fallback: float) -> float:
        """A starting value: the prior mode when the prior is proper, else ``fallback``."""
        return self.mode() if self.is_proper else fallback

    def draw_prior(self, rng: np.random.Generator, size=None):
        """Draws from the prior (requires a proper prior)."""
        if not self.is_proper:
            raise ValueError("Cannot draw from an improper ScaledInvChi2 prior (df or scale is 0).")
        return self.df * self.scale / rng.chisquare(self.df, size=size)

    def draw_posterior(self, rng: np.random.Generator, sum_squares: float, count: int) -> float:
        """One draw of the variance given ``count`` effects with sum of squares ``sum_squares``."""
        df = self.df + count
        if df <= 0:
            raise ValueError("Posterior degrees of freedom must be positive.")
        return (self.df * self.scale + sum_squares) / rng.chisquare(df)

    def to_dict(self) -> dict:
        return {"family": "ScaledInvChi2", "df": self.df, "scale": self.scale}

    def __repr__(self) -> str:
        return f"ScaledInvChi2(df={self.df:g}, scale={self.scale:g})"


class FixedVariance:
    """A variance held at a known value (not sampled). Passing a float as a prior makes one."""

    sampled = False

    def __init__(self, value: float):
        self.value = check_positive_finite(value, "A fixed variance")

    def initial_value(self, fallback: float) -> float:
        return self.value

    def draw_posterior(self, rng, sum_squares: float, count: int) -> float:
        return self.value

    def to_dict(self) -> dict:
        return {"family": "Fixed", "value": self.value}

    def __repr__(self) -> str:
        return f"FixedVariance({self.value:g})"


def as_variance_prior(prior, default: ScaledInvChi2, name: str):
    """Turn what a user passed for a variance into a prior object.

    ``None`` gives ``default``; a number fixes the variance; a ``ScaledInvChi2`` or
    ``FixedVariance`` is used as it is. Anything else is an error naming ``name``.
    """
    if prior is None:
        return default
    if isinstance(prior, (ScaledInvChi2, FixedVariance)):
        return prior
    if isinstance(prior, (int, float, np.integer, np.floating)) and not isinstance(prior, bool):
        try:
            return FixedVariance(prior)
        except ValueError as err:
            raise ValueError(f"Invalid fixed value for {name}: {err}") from None
    raise TypeError(
        f"Prior for {name} must be a ScaledInvChi2, a positive number (fixed variance) or None, got {prior!r}."
    )
