r"""The move along the :math:`\pi`-slab-scale ridge that BayesC\ :math:`\pi` and BayesB share.

With :math:`\pi` sampled, the posterior of (:math:`\pi`, the slab's variance scale) is a narrow
ridge along :math:`\pi\cdot\text{scale} \approx` const (the markers' total variance), and the
Gibbs draws of each given the indicators creep along it. :class:`PiRidgeMove` crosses it in one
Metropolis-Hastings step with every indicator redrawn.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from .inclusion import BernoulliInclusion, log_odds


class PiRidgeMove:
    r"""One Metropolis-Hastings move of :math:`(\pi, s)` along :math:`\pi s = ` const, with every
    :math:`(\delta_j, \alpha_j)` redrawn (:meth:`ridge_move`), for one-trait spike-and-slab
    priors whose slab variances :math:`\sigma^2_j` scale with :math:`s` (BayesC: :math:`s =
    \sigma^2_j = \sigma^2_\alpha`; BayesB: :math:`s = S^2`, :math:`\sigma^2_j \mid S^2 \sim
    \text{Scale-inv-}\chi^2(\nu, S^2)`, a scale family).

    The prior supplies ``inclusion`` (a sampled :class:`~bayesgen.priors.inclusion.BernoulliInclusion`),
    ``pi_step``, and four hooks: ``_ridge_keys`` (the state entries the move changes besides
    ``pi`` and ``n_included``), ``_ridge_scale(state)``, ``_ridge_scale_log_density(state, s)``
    (its prior's log density) and ``_ridge_set_scale(state, s, factor)`` (sets :math:`s` and
    multiplies every :math:`\sigma^2_j` by ``factor``).
    """

    inclusion: BernoulliInclusion
    pi_step: float
    #: The state entries the move changes besides ``pi`` and ``n_included`` (restored on rejection).
    _ridge_keys: tuple[str, ...]

    @abstractmethod
    def _ridge_scale(self, state: dict) -> float:
        """The slab's variance scale s."""

    @abstractmethod
    def _ridge_scale_log_density(self, state: dict, value: float) -> float:
        """The log prior density of s at ``value``, up to a constant."""

    @abstractmethod
    def _ridge_set_scale(self, state: dict, value: float, factor: float) -> None:
        """Set s to ``value`` and multiply every per-marker slab variance by ``factor``."""

    #: The probability that the move proposes :math:`\pi^*` from its Beta prior (an independence
    #: proposal, which crosses in one step a posterior of :math:`\pi` the data hardly inform)
    #: rather than by the random walk on its logit.
    pi_independence = 0.5

    def ridge_move(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> bool:
        r"""One move; returns whether it was accepted.

        Proposal: with probability ``pi_independence``, :math:`\pi^*` from its Beta prior, else
        :math:`\mathrm{logit}\,\pi^* = \mathrm{logit}\,\pi + \epsilon`,
        :math:`\epsilon \sim N(0, \text{pi\_step}^2)`; then :math:`c = \pi/\pi^*`, :math:`s^* = cs`
        and every :math:`\sigma^{2*}_j = c\sigma^2_j` (an involution with :math:`-\epsilon`,
        volume-preserving in :math:`(\mathrm{logit}\,\pi, \log s, \log\sigma^2_j)`), then one
        Gibbs sweep of every :math:`x_j = (\delta_j, \alpha_j)` at :math:`\theta^* = (\pi^*,
        \sigma^{2*})`, in a random direction (the reverse move sweeps the other way at
        :math:`\theta`). With :math:`z_j` the state marker j is drawn in, the Hastings ratio of
        such a move is :math:`\frac{p(\pi^*)p(s^*)}{p(\pi)p(s)}\prod_j\frac{m_j(z_j;\theta^*)}
        {m_j(z_j;\theta)}` times the Jacobian :math:`\frac{\pi^*(1-\pi^*)s^*}{\pi(1-\pi)s}` (for the
        independence proposal, whose density :math:`p(\pi^*)` cancels the prior's in
        :math:`(\pi, \log s)`, :math:`\frac{p(s^*)s^*}{p(s)s}` times the same product), where
        :math:`m_j(z_j;\theta) = (1-\pi) + \pi\,\mathrm{BF}_j(\sigma^2_j)` is marker j's prior
        predictive relative to the spike. (BayesB's per-marker variances add
        :math:`\prod_j p(c\sigma^2_j \mid cS^2)\,c\sigma^2_j / (p(\sigma^2_j \mid S^2)\,\sigma^2_j) = 1`,
        a scale family's density times its Jacobian.) Writing the forward sweep's density as the
        product of the full conditionals :math:`p(s_j\mid\theta^*)/M_{\theta^*}(z_j)` and the reverse
        sweep's likewise at :math:`\theta`, the joint densities of the intermediate states
        :math:`s_j` cancel coordinate by coordinate (each depends on :math:`\theta` only through
        one marker's own prior term), leaving the ratio of the normalising constants. The sweep
        accumulates :math:`\sum_j \log m_j` at both :math:`\theta^*` and :math:`\theta` on the way
        (:func:`bayesgen.kernels.spike_slab.sweep_markers_spike_slab`, ``reference``), so the move
        costs one sweep plus copies of the effects and residuals (restored if rejected).
        Markers whose data hardly inform them (:math:`\mathrm{BF}_j \approx 1`) add nothing to the
        ratio, so :math:`\pi` can travel far in one step.
        """
        pi, scale = state["pi"][0], self._ridge_scale(state)
        if self.pi_independence > 0.0 and rng.random() < self.pi_independence:
            pi_new = self.inclusion.prior.draw_prior(rng)
            pi_ratio, jacobian_pi, jacobian_pi_new = 0.0, 0.5, 0.5  # the prior and the proposal cancel
        else:
            logit_new = log_odds(pi) + self.pi_step * rng.standard_normal()
            pi_new = 1.0 / (1.0 + np.exp(-logit_new))
            pi_ratio = self.inclusion.prior.log_density(pi_new) - self.inclusion.prior.log_density(pi)
            jacobian_pi, jacobian_pi_new = pi, pi_new
        if not 0.0 < pi_new < 1.0:
            return False
        factor = pi / pi_new
        scale_new = scale * factor
        log_ratio = (
            pi_ratio
            + self._ridge_scale_log_density(state, scale_new)
            - self._ridge_scale_log_density(state, scale)
            + self._log_jacobian(jacobian_pi_new, scale_new)
            - self._log_jacobian(jacobian_pi, scale)
        )
        if not np.isfinite(log_ratio):
            return False
        kept = (alpha.copy(), resid[:, 0].copy(), genetic_values[:, 0].copy())
        kept_state = {key: state[key].copy() for key in ("pi", "n_included", *self._ridge_keys)}
        state["pi"][0] = pi_new
        self._ridge_set_scale(state, scale_new, factor)
        reference = np.array([log_odds(pi), scale / scale_new, 0.0])  # theta: the slab variances v sigma2*_j
        self.inclusion.sweep(
            rng,
            alpha,
            state,
            codes,
            lookup,
            xx,
            code_stats,
            resid,
            weights,
            genetic_values,
            residual_covariance,
            reverse=bool(rng.random() < 0.5),
            reference=reference,
        )
        if np.log(rng.random()) < log_ratio + reference[2]:
            return True
        alpha[:], resid[:, 0], genetic_values[:, 0] = kept
        for key, value in kept_state.items():
            state[key][...] = value
        return False

    @staticmethod
    def _log_jacobian(pi: float, scale: float) -> float:
        r""":math:`\log(\pi(1-\pi)s)`: the density of :math:`(\pi, s)` taken to :math:`(\mathrm{logit}\,\pi, \log s)`."""
        return float(np.log(pi * (1.0 - pi) * scale))
