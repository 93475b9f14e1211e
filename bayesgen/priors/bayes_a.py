"""BayesA prior on marker effects (Meuwissen, Hayes & Goddard 2001)."""

from __future__ import annotations

import numpy as np

from .._typing import ScaleArg
from .._validation import check_positive_finite
from ..variable import Variable
from .gamma import Gamma
from .marker_prior import MarkerPrior


class BayesAPrior(MarkerPrior):
    r"""BayesA: :math:`\alpha_j \sim N(0, \sigma^2_j)`, :math:`\sigma^2_j \sim \text{Scale-inv-}\chi^2(\nu, S^2)`.

    Marginally each effect is a scaled t with :math:`\nu` degrees of freedom.

    Parameters
    ----------
    df : float, default 5
        :math:`\nu`, degrees of freedom of the per-marker variances (BGLR's default).
    scale : None, float or Gamma
        :math:`S^2`. A float holds it fixed; a :class:`Gamma` prior samples it (conjugate
        update below); ``None`` (default) samples it under a ``Gamma(1.1, rate)`` prior
        whose mode is the default scale, as BGLR does. The default scale makes the prior
        mode of :math:`\sigma^2_j` equal to :math:`R^2 \mathrm{Var}(y) / \sum_j \mathrm{Var}(x_j)`,
        i.e. markers explain a share :math:`R^2` of the phenotypic variance a priori.

    Notes
    -----
    Full conditionals (between marker sweeps):
    :math:`\sigma^2_j \mid \alpha_j \sim \text{Scale-inv-}\chi^2(\nu+1, (\nu S^2 + \alpha_j^2)/(\nu+1))`,
    and with a Gamma(a, b) prior on :math:`S^2`,
    :math:`S^2 \mid \sigma^2 \sim \text{Gamma}(a + p\nu/2,\; b + (\nu/2)\sum_j \sigma_j^{-2})`.
    """

    name = "BayesA"

    def __init__(self, df: float = 5.0, scale: ScaleArg = None):
        self.df = check_positive_finite(df, "BayesA df")
        if scale is None or isinstance(scale, Gamma):
            self.scale_prior = scale
            self.scale = None
        else:
            self.scale_prior = None
            self.scale = check_positive_finite(scale, "BayesA scale")
        self._start_scale = self.scale

    def bind(self, default_variance: float) -> None:
        """Fill in the default scale so that the prior mode of each sigma2_j is ``default_variance``."""
        default = default_variance * (self.df + 2.0) / self.df
        if self.scale is None and self.scale_prior is None:
            self.scale_prior = Gamma.with_mode(default, shape=1.1)
        self._start_scale = self.scale if self.scale is not None else default

    @property
    def samples_scale(self) -> bool:
        return self.scale_prior is not None

    def variables(self) -> list[Variable]:
        return [Variable("scale")] if self.samples_scale else []

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        scale = self._start_scale * rng.uniform(0.5, 2.0) if self.samples_scale else self._start_scale
        var = self.df * scale / rng.chisquare(self.df, size=n_markers)
        return {"var_alpha": var, "scale": np.array([scale])}

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw the per-marker variances, then the scale if it is sampled (in place)."""
        alpha = alpha[:, 0]  # one trait
        nu = self.df
        scale = state["scale"][0]
        state["var_alpha"][:] = (nu * scale + alpha * alpha) / rng.chisquare(nu + 1.0, size=alpha.size)
        if self.samples_scale:
            shape = self.scale_prior.shape + 0.5 * alpha.size * nu
            rate = self.scale_prior.rate + 0.5 * nu * np.sum(1.0 / state["var_alpha"])
            state["scale"][0] = rng.gamma(shape, 1.0 / rate)

    def scale_parameter(self):
        """The rescaling move's parameter (S^2, the scale of the per-marker variances): sampled only when samples_scale."""
        return ("scale", 2.0, self.scale_prior) if self.samples_scale else None

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        if self.samples_scale:
            state["scale"][0] = self.scale_prior.draw_prior(rng)
        p = state["var_alpha"].size
        state["var_alpha"][:] = self.df * state["scale"][0] / rng.chisquare(self.df, size=p)
        return rng.standard_normal(p) * np.sqrt(state["var_alpha"])

    def log_prior(self, state: dict) -> float:
        return self.scale_prior.log_density(state["scale"][0]) if self.samples_scale else 0.0

    def record(self, state: dict) -> dict:
        return {"scale": state["scale"][0]} if self.samples_scale else {}

    def to_dict(self) -> dict:
        out = {"family": self.name, "df": self.df}
        out["scale"] = self.scale_prior.to_dict() if self.samples_scale else self.scale
        return out

    def __repr__(self) -> str:
        scale = self.scale_prior if self.samples_scale else self.scale
        return f"BayesAPrior(df={self.df:g}, scale={scale!r})"
