"""BayesC and BayesCpi priors on marker effects (Habier et al. 2011)."""

from __future__ import annotations

import numpy as np

from .._validation import check_positive_finite
from ..kernels.spike_slab import marker_code_stats, sweep_markers_spike_slab
from ..variable import Variable
from .beta import Beta
from .marker_prior import MarkerPrior
from .scaled_inv_chi2 import ScaledInvChi2

#: BGLR's default degrees of freedom of the common slab variance.
DEFAULT_DF = 5.0


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
    return np.inf if pi >= 1.0 else float(np.log(pi) - np.log1p(-pi))


class BayesCPrior(MarkerPrior):
    r"""BayesC: :math:`\alpha_j \sim (1-\pi)\,\delta_0 + \pi\,N(0, \sigma^2_\alpha)`, one slab variance.

    Parameters
    ----------
    pi : float in (0, 1] or Beta, default 0.5
        Prior probability that a marker has a non-zero effect. A number holds it fixed
        (BayesC; ``pi=1`` is BRR); a :class:`Beta` prior samples it (BayesC\ :math:`\pi`).
    variance : None, float or ScaledInvChi2
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
    """

    name = "BayesC"

    def __init__(self, pi=0.5, variance=None):
        self.pi_prior, self.pi = parse_pi(pi, "BayesC")
        if variance is None or isinstance(variance, ScaledInvChi2):
            if variance is not None and not variance.is_proper:
                raise ValueError(f"BayesC variance prior must be proper (df > 0 and scale > 0), got {variance!r}.")
            self.variance_prior, self.variance = variance, None
        else:
            self.variance_prior, self.variance = None, check_positive_finite(variance, "BayesC variance")
        self._start = self.variance

    @property
    def samples_pi(self) -> bool:
        return self.pi_prior is not None

    @property
    def samples_variance(self) -> bool:
        return self.variance_prior is not None

    def _prior_pi(self) -> float:
        return self.pi_prior.mean() if self.samples_pi else self.pi

    def bind(self, default_variance: float) -> None:
        """Default slab prior: mode ``default_variance / pi0`` (pi0: the fixed pi or its prior mean)."""
        mode = default_variance / self._prior_pi()
        if self.variance is None and self.variance_prior is None:
            self.variance_prior = ScaledInvChi2(DEFAULT_DF, mode * (DEFAULT_DF + 2.0) / DEFAULT_DF)
        self._start = self.variance if self.variance is not None else self.variance_prior.mode()

    def variables(self) -> list[Variable]:
        out = [Variable("n_included")]
        if self.samples_pi:
            out.append(Variable("pi"))
        if self.samples_variance:
            out.append(Variable("sigma2_alpha"))
        return out

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        start = self._start * rng.uniform(0.5, 2.0) if self.samples_variance else self._start
        pi = self._prior_pi()
        return {"var_alpha": np.full(n_markers, start), "sigma2_alpha": np.array([start]),
                "pi": np.array([pi]), "n_included": np.array([0])}

    def sweep(self, rng, alpha, state, codes, lookup, xx, resid, weights, genetic_values, sigma2_e) -> None:
        if "code_stats" not in state:  # constant per chain: computed on the first sweep
            state["code_stats"] = marker_code_stats(codes)
        state["n_included"][0] = sweep_markers_spike_slab(
            rng, alpha, state["var_alpha"], log_odds(state["pi"][0]), codes, lookup, xx, state["code_stats"], resid,
            weights, genetic_values, sigma2_e)

    def _update_variance(self, rng, alpha, state) -> None:
        if self.samples_variance:
            k = int(state["n_included"][0])
            value = self.variance_prior.draw_posterior(rng, float(alpha @ alpha), k)[0, 0]
            state["sigma2_alpha"][0] = value
            state["var_alpha"][:] = value

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw the slab variance, then pi, from their conjugate full conditionals (when sampled)."""
        self._update_variance(rng, alpha, state)
        if self.samples_pi:
            state["pi"][0] = self.pi_prior.draw_posterior(rng, int(state["n_included"][0]), alpha.size)

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        if self.samples_variance:
            state["sigma2_alpha"][0] = self.variance_prior.draw_prior(rng)[0, 0]
            state["var_alpha"][:] = state["sigma2_alpha"][0]
        if self.samples_pi:
            state["pi"][0] = self.pi_prior.draw_prior(rng)
        p = state["var_alpha"].size
        included = rng.random(p) < state["pi"][0]
        state["n_included"][0] = int(included.sum())
        return np.where(included, rng.standard_normal(p) * np.sqrt(state["var_alpha"]), 0.0)

    def log_prior(self, state: dict) -> float:
        out = self.variance_prior.log_density(state["sigma2_alpha"][0]) if self.samples_variance else 0.0
        if self.samples_pi:
            out += self.pi_prior.log_density(state["pi"][0])
        return out

    def record(self, state: dict) -> dict:
        out = {"n_included": int(state["n_included"][0])}
        if self.samples_pi:
            out["pi"] = state["pi"][0]
        if self.samples_variance:
            out["sigma2_alpha"] = state["sigma2_alpha"][0]
        return out

    def to_dict(self) -> dict:
        return {"family": "BayesCpi" if self.samples_pi else self.name,
                "pi": self.pi_prior.to_dict() if self.samples_pi else self.pi,
                "variance": self.variance_prior.to_dict() if self.samples_variance else self.variance}

    def __repr__(self) -> str:
        pi = self.pi_prior if self.samples_pi else self.pi
        variance = self.variance_prior if self.samples_variance else self.variance
        return f"BayesCPrior(pi={pi!r}, variance={variance!r})"
