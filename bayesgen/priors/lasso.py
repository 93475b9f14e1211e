"""Bayesian LASSO prior on marker effects (Park & Casella 2008, unscaled by the residual variance)."""

from __future__ import annotations

import numpy as np

from .._typing import ScaleArg
from .._validation import check_positive_finite
from ..variable import Variable
from .gamma import Gamma
from .marker_prior import MarkerPrior


def draw_inverse_gaussian(rng: np.random.Generator, mean: np.ndarray, shape: float) -> np.ndarray:
    r"""Inverse-Gaussian(mean :math:`\mu`, shape :math:`\lambda`) draws, stable for any :math:`\mu > 0`.

    Michael, Schucany & Haas (1976): with :math:`y = z^2`, :math:`z \sim N(0,1)` and
    :math:`w = \mu y/(2\lambda)`, the smaller root is :math:`x = \mu/(1 + w + \sqrt{w^2 + 2w})`
    (the textbook :math:`\mu + \mu^2 y/(2\lambda) - \dots` form loses every digit to
    cancellation when :math:`\mu y \gg \lambda`, which is where BGLR's ``rinvGauss`` fails);
    keep x with probability :math:`\mu/(\mu + x)`, else return :math:`\mu^2/x`.
    """
    mean = np.asarray(mean, dtype=np.float64)
    y = rng.standard_normal(mean.shape) ** 2
    u = rng.random(mean.shape)
    with np.errstate(over="ignore"):  # only for means near the float limit, in the branch not taken
        w = mean * y / (2.0 * shape)
        root = 1.0 + w + np.sqrt(w) * np.sqrt(w + 2.0)
        x = mean / root
        # mu^2 / x = mu * root: no overflow from squaring a huge mean
        return np.where(u * (mean + x) <= mean, x, mean * root)


class LassoPrior(MarkerPrior):
    r"""Bayesian LASSO: :math:`\alpha_j \mid \tau^2_j \sim N(0, \tau^2_j)`, :math:`\tau^2_j \sim \text{Exp}(\lambda^2/2)`.

    Marginally :math:`p(\alpha_j) = (\lambda/2)\,e^{-\lambda|\alpha_j|}` (double exponential,
    variance :math:`2/\lambda^2`). The effects' prior is not scaled by :math:`\sigma^2_e`,
    so the residual variance keeps its usual conditional.

    Parameters
    ----------
    lambda2 : None, float or Gamma
        :math:`\lambda^2`: fixed (a float), sampled under the given Gamma prior, or (``None``,
        default) sampled under ``Gamma(1.1, rate)`` whose mode makes the prior variance
        :math:`2/\lambda^2` of each effect the R²-rule variance (BGLR's rule for its priors).

    Notes
    -----
    Full conditionals (between sweeps):
    :math:`1/\tau^2_j \mid \alpha_j \sim \text{Inverse-Gaussian}(\lambda/|\alpha_j|, \lambda^2)`
    (drawn by :func:`draw_inverse_gaussian`, finite for any :math:`\alpha_j \neq 0`) and, with
    a Gamma(a, b) prior, :math:`\lambda^2 \mid \tau^2 \sim \text{Gamma}(a + p,\; b + \sum_j \tau^2_j/2)`.
    Records ``lambda2`` per draw when it is sampled. With :math:`\lambda^2` sampled, the
    Markers term also moves :math:`(\alpha, \tau^2, \lambda^2)` to
    :math:`(k\alpha, k^2\tau^2, \lambda^2/k^2)` after each sweep (``rescale_log_density``;
    ``Markers(expand=True)``, the default): :math:`\lambda^2` then moves with the data
    instead of only by about :math:`1/\sqrt{p}` of itself per iteration.
    """

    name = "BayesLasso"

    def __init__(self, lambda2: ScaleArg = None):
        if lambda2 is None or isinstance(lambda2, Gamma):
            self.lambda2_prior, self.lambda2 = lambda2, None
        else:
            self.lambda2_prior, self.lambda2 = None, check_positive_finite(lambda2, "LassoPrior lambda2")
        self._start = self.lambda2

    @property
    def samples_lambda2(self) -> bool:
        return self.lambda2_prior is not None

    def bind(self, default_variance: float) -> None:
        """Default: the prior mode of lambda2 is 2 / ``default_variance``."""
        default = 2.0 / default_variance
        if self.lambda2 is None and self.lambda2_prior is None:
            self.lambda2_prior = Gamma.with_mode(default, shape=1.1)
        self._start = self.lambda2 if self.lambda2 is not None else default

    def variables(self) -> list[Variable]:
        return [Variable("lambda2")] if self.samples_lambda2 else []

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        lambda2 = self._start * rng.uniform(0.5, 2.0) if self.samples_lambda2 else self._start
        return {"var_alpha": rng.exponential(2.0 / lambda2, size=n_markers), "lambda2": np.array([lambda2])}

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw each tau2_j given alpha_j, then lambda2 if it is sampled (in place)."""
        alpha = alpha[:, 0]  # one trait
        lambda2 = state["lambda2"][0]
        size = np.abs(alpha)
        tiny = np.finfo(np.float64).tiny  # alpha_j = 0 exactly has probability 0; guard the division
        precision = draw_inverse_gaussian(rng, np.sqrt(lambda2) / np.maximum(size, tiny), lambda2)
        state["var_alpha"][:] = 1.0 / precision
        if self.samples_lambda2:
            shape = self.lambda2_prior.shape + alpha.size
            rate = self.lambda2_prior.rate + 0.5 * np.sum(state["var_alpha"])
            state["lambda2"][0] = rng.gamma(shape, 1.0 / rate)

    def scale_parameter(self):
        """The rescaling move's parameter (lambda^2, the rate of the exponential prior on tau2_j): sampled only when samples_lambda2."""
        return ("lambda2", -2.0, self.lambda2_prior) if self.samples_lambda2 else None

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        if self.samples_lambda2:
            state["lambda2"][0] = self.lambda2_prior.draw_prior(rng)
        p = state["var_alpha"].size
        state["var_alpha"][:] = rng.exponential(2.0 / state["lambda2"][0], size=p)
        return rng.standard_normal(p) * np.sqrt(state["var_alpha"])

    def log_prior(self, state: dict) -> float:
        return self.lambda2_prior.log_density(state["lambda2"][0]) if self.samples_lambda2 else 0.0

    def record(self, state: dict) -> dict:
        return {"lambda2": state["lambda2"][0]} if self.samples_lambda2 else {}

    def to_dict(self) -> dict:
        return {"family": self.name, "lambda2": self.lambda2_prior.to_dict() if self.samples_lambda2 else self.lambda2}

    def __repr__(self) -> str:
        lambda2 = self.lambda2_prior if self.samples_lambda2 else self.lambda2
        return f"LassoPrior(lambda2={lambda2!r})"
