"""Bayesian ridge regression prior on marker effects (BGLR's BRR)."""

from __future__ import annotations

import numpy as np

from ..variable import Variable
from .marker_prior import MarkerPrior, parse_common_variance
from .scaled_inv_chi2 import ScaledInvChi2

#: BGLR's default degrees of freedom of the common marker variance.
DEFAULT_DF = 5.0


class RidgePrior(MarkerPrior):
    r"""BRR: :math:`\alpha_j \sim N(0, \sigma^2_\alpha)` with one variance common to all markers.

    Parameters
    ----------
    variance : None, float, FixedVariance or ScaledInvChi2
        :math:`\sigma^2_\alpha`. A float or FixedVariance holds it fixed (then the posterior mean of
        :math:`\alpha` given :math:`\sigma^2_e` is the ridge solution
        :math:`(X'X + \lambda I)^{-1}X'y`, :math:`\lambda = \sigma^2_e/\sigma^2_\alpha`); a
        :class:`ScaledInvChi2` prior samples it; ``None`` (default) samples it under
        :math:`\text{Scale-inv-}\chi^2(5, S^2)` whose mode is
        :math:`R^2 \mathrm{Var}(y) / \sum_j \mathrm{Var}(x_j)` (BGLR's rule: the markers
        explain a share :math:`R^2` of the phenotypic variance a priori).

    Full conditional (between sweeps), with a :math:`\text{Scale-inv-}\chi^2(\nu, S^2)` prior:
    :math:`\sigma^2_\alpha \mid \alpha \sim \text{Scale-inv-}\chi^2(\nu + p, (\nu S^2 + \alpha'\alpha)/(\nu + p))`.
    Records ``sigma2_alpha`` per draw when it is sampled.

    With the variance sampled, ``Markers(expand=True)`` (the default) adds after each sweep the
    joint rescaling move :math:`(\alpha, \sigma^2_\alpha) \to (k\alpha, k^2\sigma^2_\alpha)`
    (``rescale_log_density``), which lets :math:`\sigma^2_\alpha` move with the data when
    :math:`p \gg n` and the centred update above moves it by only about :math:`1/\sqrt{p}`.
    """

    name = "BRR"

    def __init__(self, variance=None):
        self.variance_prior, self.variance = parse_common_variance(variance, "RidgePrior")
        self._start = self.variance

    def bind(self, default_variance: float) -> None:
        """Fill in the default prior so that its mode is ``default_variance``."""
        if self.variance is None and self.variance_prior is None:
            self.variance_prior = ScaledInvChi2(DEFAULT_DF, default_variance * (DEFAULT_DF + 2.0) / DEFAULT_DF)
        self._start = self.variance if self.variance is not None else self.variance_prior.mode()

    @property
    def samples_variance(self) -> bool:
        return self.variance_prior is not None

    def variables(self) -> list[Variable]:
        return [Variable("sigma2_alpha")] if self.samples_variance else []

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        start = self._start * rng.uniform(0.5, 2.0) if self.samples_variance else self._start
        return {"var_alpha": np.full(n_markers, start), "sigma2_alpha": np.array([start])}

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw the common variance from its conjugate full conditional (when sampled)."""
        if self.samples_variance:
            value = self.variance_prior.draw_posterior(rng, float(alpha @ alpha), alpha.size)[0, 0]
            state["sigma2_alpha"][0] = value
            state["var_alpha"][:] = value

    def scale_parameter(self):
        """The rescaling move's parameter (the common variance): sampled only when samples_variance."""
        return ("sigma2_alpha", 2.0, self.variance_prior) if self.samples_variance else None

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        if self.samples_variance:
            state["sigma2_alpha"][0] = self.variance_prior.draw_prior(rng)[0, 0]
            state["var_alpha"][:] = state["sigma2_alpha"][0]
        return rng.standard_normal(state["var_alpha"].size) * np.sqrt(state["var_alpha"])

    def log_prior(self, state: dict) -> float:
        return self.variance_prior.log_density(state["sigma2_alpha"][0]) if self.samples_variance else 0.0

    def record(self, state: dict) -> dict:
        return {"sigma2_alpha": state["sigma2_alpha"][0]} if self.samples_variance else {}

    def to_dict(self) -> dict:
        variance = self.variance_prior.to_dict() if self.samples_variance else self.variance
        return {"family": self.name, "variance": variance}

    def __repr__(self) -> str:
        variance = self.variance_prior if self.samples_variance else self.variance
        return f"RidgePrior(variance={variance!r})"
