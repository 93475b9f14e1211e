"""BayesB prior on marker effects (Meuwissen, Hayes & Goddard 2001), with pi fixed or sampled."""

from __future__ import annotations

import numpy as np

from .._typing import PiArg, ScaleArg
from .._validation import check_positive_finite
from ..variable import Variable
from .gamma import Gamma
from .inclusion import BernoulliInclusion, log_odds
from .marker_prior import MarkerPrior
from .ridge_move import PiRidgeMove


class BayesBPrior(PiRidgeMove, MarkerPrior):
    r"""BayesB: :math:`\alpha_j = \delta_j\beta_j`, :math:`\delta_j \sim \text{Bernoulli}(\pi)`,
    :math:`\beta_j \sim N(0, \sigma^2_j)`, :math:`\sigma^2_j \sim \text{Scale-inv-}\chi^2(\nu, S^2)`.

    Parameters
    ----------
    pi : float in (0, 1] or Beta, default 0.5
        Inclusion probability: a number is fixed, a :class:`Beta` prior samples it.
        ``pi=1`` is BayesA.
    df : float, default 5
        :math:`\nu`.
    scale : None, float or Gamma
        :math:`S^2`: fixed (a float), sampled under the given Gamma prior, or (``None``)
        sampled under ``Gamma(1.1, rate)`` whose mode makes the prior mode of
        :math:`\sigma^2_j` the R²-rule variance divided by :math:`\pi_0` (the fixed
        :math:`\pi` or its prior mean), as BGLR's BayesB.

    Notes
    -----
    Sampling, with :math:`\beta_j` of excluded markers integrated out (a collapsed Gibbs
    sampler, no Metropolis step): the sweep draws each :math:`(\delta_j, \alpha_j)` jointly
    given :math:`\sigma^2_j`
    (:func:`bayesgen.kernels.spike_slab.sweep_markers_spike_slab`); then
    :math:`\sigma^2_j \mid \alpha_j \sim \text{Scale-inv-}\chi^2(\nu+1, (\nu S^2 + \alpha_j^2)/(\nu+1))`
    for the k included markers; then, with the excluded markers' variances integrated out,
    :math:`S^2 \mid \sigma^2_{\delta} \sim \text{Gamma}(a + k\nu/2, b + (\nu/2)\sum_{j:\delta_j=1} \sigma_j^{-2})`,
    and the excluded ones from their prior :math:`\text{Scale-inv-}\chi^2(\nu, S^2)`;
    :math:`\pi \mid \delta \sim \text{Beta}(a + k, b + p - k)`.
    Records per draw ``n_included``, ``pi`` and ``scale`` when sampled. With :math:`S^2`
    sampled, the Markers term also moves :math:`(\alpha, \sigma^2_j, S^2)` to
    :math:`(k\alpha, k^2\sigma^2_j, k^2S^2)` after each sweep, as for BayesA
    (``rescale_log_density``; ``Markers(expand=True)``, the default).
    """

    name = "BayesB"
    spike_and_slab = True
    gaussian_sweep = False

    def __init__(
        self, pi: PiArg = 0.5, df: float = 5.0, scale: ScaleArg = None, pi_move: bool = True, pi_step: float = 0.5
    ):
        self.inclusion = BernoulliInclusion(pi, "BayesB")
        if not isinstance(pi_move, (bool, np.bool_)):
            raise TypeError(f"BayesB pi_move must be True or False, got {pi_move!r}.")
        self.pi_move = bool(pi_move)
        self.pi_step = check_positive_finite(pi_step, "BayesB pi_step")
        self.df = check_positive_finite(df, "BayesB df")
        if scale is None or isinstance(scale, Gamma):
            self.scale_prior, self.scale = scale, None
        else:
            self.scale_prior, self.scale = None, check_positive_finite(scale, "BayesB scale")
        self._start_scale = self.scale

    def prior_inclusion(self) -> float:
        return self.inclusion.prior_mean()

    def inclusion_log_odds(self, state: dict) -> float:
        return float(log_odds(state["pi"][0]))

    def set_included(self, state: dict, n_included: int) -> None:
        state["n_included"][0] = n_included

    @property
    def samples_scale(self) -> bool:
        return self.scale_prior is not None

    @property
    def moves_pi(self) -> bool:
        """Whether :meth:`ridge_move` runs: pi and the scale sampled, ``pi_move``."""
        return self.pi_move and self.inclusion.sampled and self.samples_scale

    # ------------------------------------------------------------------ the ridge move's hooks
    _ridge_keys = ("scale", "var_alpha")

    def _ridge_scale(self, state: dict) -> float:
        return state["scale"][0]

    def _ridge_scale_log_density(self, state: dict, value: float) -> float:
        return self.scale_prior.log_density(value)

    def _ridge_set_scale(self, state: dict, value: float, factor: float) -> None:
        state["scale"][0] = value
        state["var_alpha"] *= factor

    def bind(self, default_variance: float) -> None:
        """Default scale: the prior mode of each sigma2_j is ``default_variance / pi0``."""
        default = default_variance / self.inclusion.prior_mean() * (self.df + 2.0) / self.df
        if self.scale is None and self.scale_prior is None:
            self.scale_prior = Gamma.with_mode(default, shape=1.1)
        self._start_scale = self.scale if self.scale is not None else default

    def variables(self) -> list[Variable]:
        return self.inclusion.variables() + ([Variable("scale")] if self.samples_scale else [])

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        scale = self._start_scale * rng.uniform(0.5, 2.0) if self.samples_scale else self._start_scale
        var = self.df * scale / rng.chisquare(self.df, size=n_markers)
        return {"var_alpha": var, "scale": np.array([scale]), **self.inclusion.init_state()}

    def sweep(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> None:
        """The spike-and-slab sweep, after :meth:`ridge_move` (``moves_pi``)."""
        args = (codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance)
        if self.moves_pi:
            self.ridge_move(rng, alpha, state, *args)
        self.inclusion.sweep(rng, alpha, state, *args)

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        r"""Draw the included markers' sigma2_j, then the scale and the excluded markers' sigma2_j
        jointly (the scale given the included ones only, the excluded ones from their prior), then pi.

        Given delta, an excluded marker's sigma2_j is independent of the data (its beta_j is
        integrated out), so it carries no information on S^2: drawing S^2 given all p
        variances, with the excluded ones just drawn from the prior at the current S^2, would
        make S^2 a random walk of steps about :math:`1/\sqrt{p\nu/2}` of itself. Drawing S^2
        with them integrated out, then them given S^2, is one exact Gibbs block.
        """
        alpha = alpha[:, 0]  # one trait
        nu, scale = self.df, state["scale"][0]
        variances = state["var_alpha"]
        included = alpha != 0.0
        excluded = ~included
        n_included = int(included.sum())
        variances[included] = (nu * scale + alpha[included] ** 2) / rng.chisquare(nu + 1.0, size=n_included)
        if self.samples_scale:
            shape = self.scale_prior.shape + 0.5 * n_included * nu
            rate = self.scale_prior.rate + 0.5 * nu * np.sum(1.0 / variances[included])
            scale = state["scale"][0] = rng.gamma(shape, 1.0 / rate)
        variances[excluded] = nu * scale / rng.chisquare(nu, size=alpha.size - n_included)
        self.inclusion.update(rng, state, alpha.size)

    def scale_parameter(self):
        """The rescaling move's parameter (S^2, the scale of the per-marker variances): sampled only when samples_scale."""
        return ("scale", 2.0, self.scale_prior) if self.samples_scale else None

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        if self.samples_scale:
            state["scale"][0] = self.scale_prior.draw_prior(rng)
        self.inclusion.draw_prior(rng, state)
        state["var_alpha"][:] = self.df * state["scale"][0] / rng.chisquare(self.df, size=state["var_alpha"].size)
        return self.inclusion.draw_effects(rng, state)

    def log_prior(self, state: dict) -> float:
        out = self.scale_prior.log_density(state["scale"][0]) if self.samples_scale else 0.0
        return out + self.inclusion.log_prior(state)

    def record(self, state: dict) -> dict:
        out = self.inclusion.record(state)
        if self.samples_scale:
            out["scale"] = state["scale"][0]
        return out

    def to_dict(self) -> dict:
        return {
            "family": self.name,
            "df": self.df,
            "pi": self.inclusion.to_dict(),
            "scale": self.scale_prior.to_dict() if self.samples_scale else self.scale,
        }

    def __repr__(self) -> str:
        scale = self.scale_prior if self.samples_scale else self.scale
        return f"BayesBPrior(pi={self.inclusion!r}, df={self.df:g}, scale={scale!r})"
