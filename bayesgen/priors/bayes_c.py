"""BayesC and BayesCpi priors on marker effects (Habier et al. 2011), for one trait or several."""

from __future__ import annotations

import warnings

import numpy as np

from .inclusion import BernoulliInclusion, log_odds
from .ridge import RidgePrior


class BayesCPrior(RidgePrior):
    r"""BayesC: :math:`\alpha_j = \delta_j\beta_j`, :math:`\delta_j \sim \text{Bernoulli}(\pi)` (one
    indicator for all t traits), :math:`\beta_j \sim N(0, \Sigma_\alpha)`, one slab variance.

    With one trait :math:`\alpha_j \sim (1-\pi)\,\delta_0 + \pi\,N(0, \sigma^2_\alpha)`.

    Parameters
    ----------
    pi : float in (0, 1] or Beta, default 0.5
        Prior probability that a marker has a non-zero effect. A number holds it fixed
        (BayesC; ``pi=1`` is BRR); a :class:`Beta` prior samples it (BayesC\ :math:`\pi`).
    variance : as for :class:`RidgePrior`
        The slab variance :math:`\Sigma_\alpha` (t x t; a number for one trait): fixed, sampled
        under the given prior, or (``None``, default) sampled under BRR's default prior with
        :math:`v / \pi_0` in place of v, :math:`\pi_0` the fixed :math:`\pi` or its prior mean
        (BGLR's rule: the included markers explain a share :math:`R^2` of the phenotypic variance
        a priori); for one trait :math:`\text{Scale-inv-}\chi^2(5, S^2)` with mode
        :math:`R^2\mathrm{Var}(y) / (\pi_0 \sum_j \mathrm{Var}(x_j))`.

    Sampling: the sweep draws each :math:`(\delta_j, \alpha_j)` jointly from its full
    conditional, :math:`\alpha_j` integrated out of :math:`\delta_j`'s
    (:func:`bayesgen.kernels.markers_multitrait.sweep_markers_multitrait`; for one trait its fast
    path :func:`bayesgen.kernels.spike_slab.sweep_markers_spike_slab`); then, with :math:`k`
    markers included, :math:`\Sigma_\alpha \mid \cdot \sim IW(\nu + k, S + \sum_{\delta_j = 1}\alpha_j\alpha_j')`
    (one trait: :math:`\text{Scale-inv-}\chi^2(\nu + k, (\nu S^2 + \sum_j \alpha_j^2)/(\nu + k))`)
    and :math:`\pi \mid \cdot \sim \text{Beta}(a + k, b + p - k)`.
    Records per draw ``n_included`` (k), ``pi`` when sampled and ``sigma2_alpha`` when
    sampled; the inclusion probability of marker j is the posterior mean of
    :math:`\alpha_j \neq 0` over the recorded ``alpha``.

    For one trait with the slab variance sampled, ``Markers(expand=True)`` (the default) adds after
    each sweep the joint rescaling move :math:`(\alpha, \sigma^2_\alpha) \to (k\alpha, k^2\sigma^2_\alpha)`
    (``rescale_log_density``): included effects scale, excluded ones stay 0, :math:`\delta` and
    :math:`\pi` do not move.
    """

    name = "BayesC"
    label = "BayesC"
    spike_and_slab = True
    gaussian_sweep = False

    def __init__(self, pi=0.5, variance=None):
        self.inclusion = BernoulliInclusion(pi, "BayesC")
        super().__init__(variance)

    def _prior_inclusion(self) -> float:
        return self.inclusion.prior_mean()

    def variables(self):
        return self.inclusion.variables() + super().variables()

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        return {**super().init_state(rng, n_markers), **self.inclusion.init_state()}

    def log_prior_odds(self, state: dict) -> float:
        r""":math:`\log(\pi/(1-\pi)) - \tfrac12\log|\Sigma_\alpha|`: the several-trait sweep's prior log-odds."""
        _, log_det = np.linalg.slogdet(state["sigma2_alpha"])
        return log_odds(state["pi"][0]) - 0.5 * log_det

    def sweep_one_trait(self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values,
                        residual_covariance) -> None:
        """The t = 1 fast path: the one-trait spike-and-slab sweep."""
        self.inclusion.sweep(rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values,
                             residual_covariance)

    def set_included(self, state: dict, n_included: int) -> None:
        state["n_included"][0] = n_included

    def _slab_count(self, state: dict, alpha: np.ndarray) -> int:
        return int(state["n_included"][0])

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw the slab variance, then pi, from their conjugate full conditionals (when sampled)."""
        super().update(rng, alpha, state)
        self.inclusion.update(rng, state, alpha.shape[0])

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        """The slab variance and pi from their priors, then the indicators and the effects."""
        slab = self._draw_slab(rng, state, self.n_markers)
        self.inclusion.draw_prior(rng, state)
        included = rng.random(self.n_markers) < state["pi"][0]
        state["n_included"][0] = int(included.sum())
        return np.where(included[:, None], slab, 0.0)

    def log_prior(self, state: dict) -> float:
        return super().log_prior(state) + self.inclusion.log_prior(state)

    def record(self, state: dict) -> dict:
        return {**self.inclusion.record(state), **super().record(state)}

    def to_dict(self) -> dict:
        return {"family": "BayesCpi" if self.inclusion.sampled else self.name, "pi": self.inclusion.to_dict(),
                "variance": self._variance_dict()}

    def __repr__(self) -> str:
        return f"BayesCPrior(pi={self.inclusion!r}, variance={self._variance_repr()})"


class MultiTraitBayesCPrior(BayesCPrior):
    """Deprecated spelling of ``BayesCPrior(pi, variance=...)``, which takes a t x t slab covariance or its prior."""

    def __init__(self, pi=0.5, covariance=None):
        warnings.warn("MultiTraitBayesCPrior(pi, covariance=...) is deprecated: use BayesCPrior(pi, variance=...), "
                      "which takes a t x t matrix or prior for t traits.", DeprecationWarning, stacklevel=2)
        super().__init__(pi=pi, variance=covariance)
