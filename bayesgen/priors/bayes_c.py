"""BayesC and BayesCpi priors on marker effects (Habier et al. 2011)."""

from __future__ import annotations

import numpy as np

from ..variable import Variable
from .inclusion import BernoulliInclusion
from .marker_prior import MarkerPrior, parse_common_variance
from .scaled_inv_chi2 import ScaledInvChi2

#: BGLR's default degrees of freedom of the common slab variance.
DEFAULT_DF = 5.0


class BayesCPrior(MarkerPrior):
    r"""BayesC: :math:`\alpha_j \sim (1-\pi)\,\delta_0 + \pi\,N(0, \sigma^2_\alpha)`, one slab variance.

    Parameters
    ----------
    pi : float in (0, 1] or Beta, default 0.5
        Prior probability that a marker has a non-zero effect. A number holds it fixed
        (BayesC; ``pi=1`` is BRR); a :class:`Beta` prior samples it (BayesC\ :math:`\pi`).
    variance : None, float, FixedVariance or ScaledInvChi2
        The slab variance :math:`\sigma^2_\alpha`: fixed (a float), sampled under the given
        prior, or (``None``, default) sampled under :math:`\text{Scale-inv-}\chi^2(5, S^2)`
        whose mode is :math:`R^2\mathrm{Var}(y) / (\pi_0 \sum_j \mathrm{Var}(x_j))`, with
        :math:`\pi_0` the fixed :math:`\pi` or its prior mean (BGLR's rule: the included
        markers explain a share :math:`R^2` of the phenotypic variance a priori).

    Sampling: the sweep draws each :math:`(\delta_j, \alpha_j)` jointly from its full
    conditional (:func:`bayesgen.kernels.spike_slab.sweep_markers_spike_slab`); then, with
    :math:`k` markers included,
    :math:`\sigma^2_\alpha \mid \cdot \sim \text{Scale-inv-}\chi^2(\nu + k, (\nu S^2 + \sum_j \alpha_j^2)/(\nu + k))`
    and :math:`\pi \mid \cdot \sim \text{Beta}(a + k, b + p - k)`.
    Records per draw ``n_included`` (k), ``pi`` when sampled and ``sigma2_alpha`` when
    sampled; the inclusion probability of marker j is the posterior mean of
    :math:`\alpha_j \neq 0` over the recorded ``alpha``.

    With the slab variance sampled, ``Markers(expand=True)`` (the default) adds after each sweep
    the joint rescaling move :math:`(\alpha, \sigma^2_\alpha) \to (k\alpha, k^2\sigma^2_\alpha)`
    (``rescale_log_density``): included effects scale, excluded ones stay 0, :math:`\delta` and
    :math:`\pi` do not move.
    """

    name = "BayesC"
    spike_and_slab = True

    def __init__(self, pi=0.5, variance=None):
        self.inclusion = BernoulliInclusion(pi, "BayesC")
        self.variance_prior, self.variance = parse_common_variance(variance, "BayesC")
        self._start = self.variance

    @property
    def samples_variance(self) -> bool:
        return self.variance_prior is not None

    def bind(self, default_variance: float) -> None:
        """Default slab prior: mode ``default_variance / pi0`` (pi0: the fixed pi or its prior mean)."""
        mode = default_variance / self.inclusion.prior_mean()
        if self.variance is None and self.variance_prior is None:
            self.variance_prior = ScaledInvChi2(DEFAULT_DF, mode * (DEFAULT_DF + 2.0) / DEFAULT_DF)
        self._start = self.variance if self.variance is not None else self.variance_prior.mode()

    def variables(self) -> list[Variable]:
        return self.inclusion.variables() + ([Variable("sigma2_alpha")] if self.samples_variance else [])

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        start = self._start * rng.uniform(0.5, 2.0) if self.samples_variance else self._start
        return {"var_alpha": np.full(n_markers, start), "sigma2_alpha": np.array([start]),
                **self.inclusion.init_state()}

    def sweep(self, rng, alpha, state, codes, lookup, xx, resid, weights, genetic_values, sigma2_e) -> None:
        self.inclusion.sweep(rng, alpha, state, codes, lookup, xx, resid, weights, genetic_values, sigma2_e)

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw the slab variance, then pi, from their conjugate full conditionals (when sampled)."""
        if self.samples_variance:
            k = int(state["n_included"][0])
            value = self.variance_prior.draw_posterior(rng, float(alpha @ alpha), k)[0, 0]
            state["sigma2_alpha"][0] = value
            state["var_alpha"][:] = value
        self.inclusion.update(rng, state, alpha.size)

    def scale_parameter(self):
        """The rescaling move's parameter (the slab variance): sampled only when samples_variance."""
        return ("sigma2_alpha", 2.0, self.variance_prior) if self.samples_variance else None

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        if self.samples_variance:
            state["sigma2_alpha"][0] = self.variance_prior.draw_prior(rng)[0, 0]
            state["var_alpha"][:] = state["sigma2_alpha"][0]
        self.inclusion.draw_prior(rng, state)
        return self.inclusion.draw_effects(rng, state)

    def log_prior(self, state: dict) -> float:
        out = self.variance_prior.log_density(state["sigma2_alpha"][0]) if self.samples_variance else 0.0
        return out + self.inclusion.log_prior(state)

    def record(self, state: dict) -> dict:
        out = self.inclusion.record(state)
        if self.samples_variance:
            out["sigma2_alpha"] = state["sigma2_alpha"][0]
        return out

    def to_dict(self) -> dict:
        return {"family": "BayesCpi" if self.inclusion.sampled else self.name, "pi": self.inclusion.to_dict(),
                "variance": self.variance_prior.to_dict() if self.samples_variance else self.variance}

    def __repr__(self) -> str:
        variance = self.variance_prior if self.samples_variance else self.variance
        return f"BayesCPrior(pi={self.inclusion!r}, variance={variance!r})"
