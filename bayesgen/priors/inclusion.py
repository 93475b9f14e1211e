r"""What the spike-and-slab marker priors (BayesB, BayesC/BayesC\ :math:`\pi`, BayesR) share.

Their effects are exactly 0 with positive prior probability, so each marker has a
posterior inclusion probability :math:`\mathrm{PIP}_j = P(\alpha_j \neq 0 \mid y)`, kept as a
running share under ``store="summary"`` (their ``spike_and_slab = True``). BayesB and BayesC draw
:math:`\delta_j \sim \text{Bernoulli}(\pi)` with one :math:`\pi`, fixed or under a Beta prior
(:class:`BernoulliInclusion`).
"""

from __future__ import annotations

import numpy as np

from ..kernels.spike_slab import sweep_markers_spike_slab
from ..variable import Variable
from .beta import Beta


def parse_pi(pi, who: str):
    """``(Beta prior, None)`` for a Beta, ``(None, pi)`` for a number in (0, 1]; else a clear error."""
    if isinstance(pi, Beta):
        return pi, None
    if isinstance(pi, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{who} pi must be a number in (0, 1] or a Beta prior, got {pi!r}.")
    try:
        value = float(pi)
    except (TypeError, ValueError):
        raise TypeError(f"{who} pi must be a number in (0, 1] or a Beta prior, got {pi!r}.") from None
    if not 0.0 < value <= 1.0:
        raise ValueError(f"{who} pi must be in (0, 1], got {pi!r}.")
    return None, value


def log_odds(pi: float) -> float:
    """:math:`\\log(\\pi / (1 - \\pi))`, +inf at :math:`\\pi = 1` (every marker included)."""
    return np.inf if pi >= 1.0 else float(np.log(pi) - np.log1p(-pi))


class BernoulliInclusion:
    r"""The inclusion probability :math:`\pi` of :math:`\delta_j \sim \text{Bernoulli}(\pi)`: a fixed
    number in (0, 1] or sampled under a :class:`Beta` prior, whose full conditional given
    :math:`k` of :math:`p` markers included is :math:`\text{Beta}(a + k, b + p - k)`.

    It lives in the prior's state as ``state["pi"]`` (length 1) next to ``state["n_included"]``.
    """

    def __init__(self, pi, who: str):
        self.prior, self.value = parse_pi(pi, who)

    @property
    def sampled(self) -> bool:
        return self.prior is not None

    def prior_mean(self) -> float:
        """The fixed :math:`\\pi`, or its prior mean: the :math:`\\pi_0` of the R² rule."""
        return self.prior.mean() if self.sampled else self.value

    def variables(self) -> list[Variable]:
        return [Variable("n_included")] + ([Variable("pi")] if self.sampled else [])

    def init_state(self) -> dict:
        return {"pi": np.array([self.prior_mean()]), "n_included": np.array([0])}

    def sweep(
        self,
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
        reverse=False,
        reference=None,
    ) -> None:
        """Draw every :math:`(\\delta_j, \\alpha_j)` of one trait jointly given ``state["var_alpha"]``
        and :math:`\\pi` (arguments as ``MarkerPrior.sweep``; ``reverse`` and ``reference`` as
        :func:`bayesgen.kernels.spike_slab.sweep_markers_spike_slab`)."""
        state["n_included"][0] = sweep_markers_spike_slab(
            rng,
            alpha[:, 0],
            state["var_alpha"],
            log_odds(state["pi"][0]),
            codes,
            lookup,
            xx,
            code_stats,
            resid[:, 0],
            weights,
            genetic_values[:, 0],
            float(residual_covariance[0, 0]),
            reverse,
            reference,
        )

    def update(self, rng: np.random.Generator, state: dict, n_markers: int) -> None:
        if self.sampled:
            state["pi"][0] = self.prior.draw_posterior(rng, int(state["n_included"][0]), n_markers)

    def draw_prior(self, rng: np.random.Generator, state: dict) -> None:
        if self.sampled:
            state["pi"][0] = self.prior.draw_prior(rng)

    def draw_effects(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        """:math:`\\alpha_j = \\delta_j \\beta_j` from the prior given :math:`\\pi` and ``var_alpha``."""
        p = state["var_alpha"].size
        included = rng.random(p) < state["pi"][0]
        state["n_included"][0] = int(included.sum())
        return np.where(included, rng.standard_normal(p) * np.sqrt(state["var_alpha"]), 0.0)

    def log_prior(self, state: dict) -> float:
        return self.prior.log_density(state["pi"][0]) if self.sampled else 0.0

    def record(self, state: dict) -> dict:
        out = {"n_included": int(state["n_included"][0])}
        if self.sampled:
            out["pi"] = state["pi"][0]
        return out

    def to_dict(self):
        return self.prior.to_dict() if self.sampled else self.value

    def __repr__(self) -> str:
        return repr(self.prior if self.sampled else self.value)
