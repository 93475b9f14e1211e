"""BayesC and BayesCpi priors on marker effects (Habier et al. 2011), for one trait or several."""

from __future__ import annotations

import warnings

import numpy as np

from .._deprecation import renamed_arguments
from .._typing import PiArg, PriorArg
from .._validation import check_positive_finite
from .inclusion import BernoulliInclusion, log_odds
from .ridge import RidgePrior
from .ridge_move import PiRidgeMove


class BayesCPrior(PiRidgeMove, RidgePrior):
    r"""BayesC: :math:`\alpha_j = \delta_j\beta_j`, :math:`\delta_j \sim \text{Bernoulli}(\pi)` (one
    indicator for all t traits), :math:`\beta_j \sim N(0, \Sigma_\alpha)`, one slab variance.

    With one trait :math:`\alpha_j \sim (1-\pi)\,\delta_0 + \pi\,N(0, \sigma^2_\alpha)`.

    Parameters
    ----------
    pi : float in (0, 1] or Beta, default 0.5
        Prior probability that a marker has a non-zero effect. A number holds it fixed
        (BayesC; ``pi=1`` is BRR); a :class:`Beta` prior samples it (BayesC\ :math:`\pi`).
    prior : as for :class:`RidgePrior`
        The slab variance :math:`\Sigma_\alpha` (t x t; a number for one trait): fixed, sampled
        under the given prior, or (``None``, default) sampled under BRR's default prior with
        :math:`v / \pi_0` in place of v, :math:`\pi_0` the fixed :math:`\pi` or its prior mean
        (BGLR's rule: the included markers explain a share :math:`R^2` of the phenotypic variance
        a priori); for one trait :math:`\text{Scale-inv-}\chi^2(5, S^2)` with mode
        :math:`R^2\mathrm{Var}(y) / (\pi_0 \sum_j \mathrm{Var}(x_j))`.

    pi_move : bool, default True
        For one trait with both :math:`\pi` and the slab variance sampled (BayesC\ :math:`\pi`): before
        each sweep, the joint move along the :math:`\pi`-:math:`\sigma^2_\alpha` ridge
        (:meth:`ridge_move`), which lets :math:`\pi`, the number of included markers and
        :math:`\sigma^2_\alpha` cross their ridge instead of creeping along it.
    pi_step : float, default 0.5
        The standard deviation of the move's proposal on the logit of :math:`\pi`.

    Notes
    -----
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

    @renamed_arguments(variance="prior")
    def __init__(self, pi: PiArg = 0.5, prior: PriorArg = None, pi_move: bool = True, pi_step: float = 0.5):
        self.inclusion = BernoulliInclusion(pi, "BayesC")
        super().__init__(prior)
        if not isinstance(pi_move, (bool, np.bool_)):
            raise TypeError(f"BayesC pi_move must be True or False, got {pi_move!r}.")
        self.pi_move = bool(pi_move)
        self.pi_step = check_positive_finite(pi_step, "BayesC pi_step")

    @property
    def moves_pi(self) -> bool:
        """Whether :meth:`ridge_move` runs: one trait, pi and the slab variance sampled, ``pi_move``."""
        return self.pi_move and self.inclusion.sampled and self.samples_variance and self.n_traits == 1

    def prior_inclusion(self) -> float:
        return self.inclusion.prior_mean()

    def inclusion_log_odds(self, state: dict) -> float:
        return float(log_odds(state["pi"][0]))

    @property
    def shares_common_variance(self) -> bool:
        """With pi fixed only: the joint (pi, slab variance) move and pi's draw assume the markers alone."""
        return not self.inclusion.sampled

    def variables(self):
        return self.inclusion.variables() + super().variables()

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        return {**super().init_state(rng, n_markers), **self.inclusion.init_state()}

    def log_prior_odds(self, state: dict) -> float:
        r""":math:`\log(\pi/(1-\pi)) - \tfrac12\log|\Sigma_\alpha|`: the several-trait sweep's prior log-odds."""
        _, log_det = np.linalg.slogdet(state["sigma2_alpha"])
        return log_odds(state["pi"][0]) - 0.5 * log_det

    def sweep_one_trait(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> None:
        """The t = 1 fast path: the one-trait spike-and-slab sweep, after :meth:`ridge_move` (``moves_pi``)."""
        args = (codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance)
        if self.moves_pi:
            self.ridge_move(rng, alpha, state, *args)
        self.inclusion.sweep(rng, alpha, state, *args)

    # ------------------------------------------------------------------ the ridge move's hooks
    _ridge_keys = ("sigma2_alpha", "var_alpha")

    def _ridge_scale(self, state: dict) -> float:
        return state["sigma2_alpha"][0, 0]

    def _ridge_scale_log_density(self, state: dict, value: float) -> float:
        return self.variance_prior.log_density(np.array([[value]]), state["aux"])

    def _ridge_set_scale(self, state: dict, value: float, factor: float) -> None:
        self._set_variance(state, np.array([[value]]))

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
        return {
            "family": "BayesCpi" if self.inclusion.sampled else self.name,
            "pi": self.inclusion.to_dict(),
            "variance": self._variance_dict(),
        }

    def __repr__(self) -> str:
        return f"BayesCPrior(pi={self.inclusion!r}, prior={self._variance_repr()})"


class MultiTraitBayesCPrior(BayesCPrior):
    """Deprecated spelling of ``BayesCPrior(pi, prior=...)``, which takes a t x t slab covariance or its prior."""

    def __init__(self, pi: PiArg = 0.5, prior: PriorArg = None, covariance: PriorArg = None):
        warnings.warn(
            "MultiTraitBayesCPrior(...) is deprecated: use BayesCPrior(pi, prior=...), "
            "which takes a t x t matrix or prior for t traits.",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(pi=pi, prior=covariance if prior is None else prior)
