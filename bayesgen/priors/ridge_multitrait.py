"""Multi-trait Bayesian ridge regression prior: each marker's t effects correlated, one covariance."""

from __future__ import annotations

import numpy as np

from ..variable import Variable
from .base import VariancePrior
from .defaults import covariance_prior_for
from .inclusion import BernoulliInclusion, log_odds
from .marker_prior import MarkerPrior
from .scaled_inv_chi2 import FixedVariance


class MultiTraitRidgePrior(MarkerPrior):
    r"""Multi-trait BRR: :math:`\alpha_j \in \mathbb{R}^t \sim N(0, \Sigma_\alpha)`, iid over markers.

    For models with t > 1 traits (``bg.RidgePrior()`` with its default variance becomes this
    prior there). The effects of a marker on the t traits are correlated through one t x t
    covariance :math:`\Sigma_\alpha` common to all markers.

    Parameters
    ----------
    covariance : None, t x t matrix, FixedVariance, InverseWishart or HuangWand
        :math:`\Sigma_\alpha`. A matrix or FixedVariance holds it fixed; a prior samples it;
        ``None`` (default) samples it under :math:`IW(t + 3, (2t + 4)\,\mathrm{diag}(v))`, whose
        mode is :math:`\mathrm{diag}(v)` with :math:`v_k` the one-trait R² rule of BRR per trait
        (:math:`v_k = R^2 \mathrm{Var}(y_k) / \sum_j \mathrm{Var}(x_j)`, BGLR's rule; for t = 1
        this is a :math:`\text{Scale-inv-}\chi^2(4, \cdot)` with the same mode).

    Full conditional of the covariance given the p effect vectors, with an
    :math:`IW(\nu, S)` prior: :math:`\Sigma_\alpha \mid A \sim IW(\nu + p, S + A'A)` (HuangWand:
    the same given its auxiliary scales, which are then redrawn). The effects' own full
    conditional is in :func:`bayesgen.kernels.markers_multitrait.sweep_markers_multitrait`.
    Records ``sigma2_alpha`` (trait_row x trait_col) per draw when it is sampled.
    """

    name = "BRR"

    def __init__(self, covariance=None):
        if covariance is None or isinstance(covariance, VariancePrior):
            if isinstance(covariance, VariancePrior) and covariance.sampled and not covariance.is_proper:
                raise ValueError(f"MultiTraitRidgePrior covariance prior must be proper, got {covariance!r}.")
            self.covariance = covariance
        elif isinstance(covariance, (list, tuple, np.ndarray)):
            try:
                self.covariance = FixedVariance(np.asarray(covariance, dtype=np.float64))
            except (TypeError, ValueError) as err:
                raise ValueError(f"MultiTraitRidgePrior covariance: {err}") from None
        else:
            raise TypeError(
                "MultiTraitRidgePrior covariance must be None, a t x t matrix (fixed), a FixedVariance, an "
                f"InverseWishart or a HuangWand, got {covariance!r}.")
        self.covariance_prior = self.covariance
        self._start = None

    def bind(self, default_variance: float) -> None:
        raise ValueError("MultiTraitRidgePrior is for models with several traits; use RidgePrior for one trait.")

    def bind_traits(self, default_variances, name: str) -> None:
        """Fill in the default covariance prior from the per-trait default marker variances."""
        v = np.asarray(default_variances, dtype=np.float64) / self._prior_inclusion()
        t = v.size
        if self.covariance is None:
            self.covariance_prior = covariance_prior_for("bglr", v, np.sqrt(v))
        self.covariance_prior.check_dim(t, name)
        fixed = not self.covariance_prior.sampled
        self._start = self.covariance_prior.initial_value(np.diag(v)) if fixed else np.diag(v)
        self.n_traits = t

    def _prior_inclusion(self) -> float:
        return 1.0

    @property
    def samples_variance(self) -> bool:
        return self.covariance_prior.sampled

    def variables(self) -> list[Variable]:
        """Scalars of the prior recorded per draw besides Sigma_alpha (none for BRR)."""
        return []

    def record(self, state: dict) -> dict:
        return {}

    def log_prior_odds(self, state: dict) -> float:
        """The sweep's prior log-odds of inclusion (+inf: every marker is included)."""
        return np.inf

    def set_included(self, state: dict, n_included: int) -> None:
        """Called after each sweep with the number of included markers (nothing to keep for BRR)."""

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        start = np.array(self._start, dtype=np.float64)
        if self.samples_variance:
            start = start * rng.uniform(0.5, 2.0)
        return {"sigma2_alpha": start, "aux": self.covariance_prior.init_aux(rng)}

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw :math:`\\Sigma_\\alpha` from its conjugate full conditional given A (markers x t)."""
        if self.samples_variance:
            state["sigma2_alpha"][:] = self.covariance_prior.draw_posterior(rng, alpha.T @ alpha, alpha.shape[0],
                                                                            state["aux"])

    def draw_prior(self, rng: np.random.Generator, state: dict, n_markers: int) -> np.ndarray:
        """Draw the covariance and then the (markers x t) effects from the prior."""
        if self.samples_variance:
            state["sigma2_alpha"][:] = self.covariance_prior.draw_prior(rng, state["aux"])
        chol = np.linalg.cholesky(state["sigma2_alpha"])
        return rng.standard_normal((n_markers, chol.shape[0])) @ chol.T

    def log_prior(self, state: dict) -> float:
        return self.covariance_prior.log_density(state["sigma2_alpha"]) if self.samples_variance else 0.0

    def to_dict(self) -> dict:
        prior = self.covariance_prior if self.covariance_prior is not None else self.covariance
        return {"family": "MultiTraitBRR", "covariance": None if prior is None else prior.to_dict()}

    def __repr__(self) -> str:
        return f"MultiTraitRidgePrior(covariance={self.covariance!r})"


class MultiTraitBayesCPrior(MultiTraitRidgePrior):
    r"""Multi-trait BayesC: :math:`\alpha_j = \delta_j \beta_j`, :math:`\delta_j \sim \text{Bernoulli}(\pi)`
    one indicator for all t traits, :math:`\beta_j \sim N(0, \Sigma_\alpha)`.

    For models with t > 1 traits (``bg.BayesCPrior(pi)`` with its default variance becomes this
    prior there). :math:`(\delta_j, \alpha_j)` are drawn jointly, :math:`\alpha_j` integrated out of
    :math:`\delta_j`'s conditional (see ``sweep_markers_multitrait``).

    Parameters
    ----------
    pi : float in (0, 1] or Beta, default 0.5
        Prior inclusion probability; a :class:`Beta` samples it:
        :math:`\pi \mid \delta \sim \text{Beta}(a + k, b + p - k)` with k markers included.
    covariance : as for :class:`MultiTraitRidgePrior`
        The slab covariance :math:`\Sigma_\alpha`; by default IW(t + 3, (2t + 4) diag(v / pi0)) with
        pi0 the fixed pi or its prior mean (BayesC's one-trait rule per trait).

    Given the effects, :math:`\Sigma_\alpha \mid \cdot \sim IW(\nu + k, S + \sum_{\delta_j = 1}\alpha_j\alpha_j')`.
    Records ``n_included`` and ``pi`` (when sampled) per draw.
    """

    name = "BayesC"
    spike_and_slab = True

    def __init__(self, pi=0.5, covariance=None):
        super().__init__(covariance)
        self.inclusion = BernoulliInclusion(pi, "MultiTraitBayesCPrior")

    def _prior_inclusion(self) -> float:
        return self.inclusion.prior_mean()

    def variables(self) -> list[Variable]:
        return self.inclusion.variables()

    def record(self, state: dict) -> dict:
        return self.inclusion.record(state)

    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        return {**super().init_state(rng, n_markers), **self.inclusion.init_state()}

    def log_prior_odds(self, state: dict) -> float:
        _, log_det = np.linalg.slogdet(state["sigma2_alpha"])
        return log_odds(state["pi"][0]) - 0.5 * log_det

    def set_included(self, state: dict, n_included: int) -> None:
        state["n_included"][0] = n_included

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Sigma_alpha given the included markers' effects, then pi given their number."""
        included = alpha[np.any(alpha != 0.0, axis=1)]
        state["n_included"][0] = included.shape[0]
        if self.samples_variance:
            state["sigma2_alpha"][:] = self.covariance_prior.draw_posterior(rng, included.T @ included,
                                                                            included.shape[0], state["aux"])
        self.inclusion.update(rng, state, alpha.shape[0])

    def draw_prior(self, rng: np.random.Generator, state: dict, n_markers: int) -> np.ndarray:
        self.inclusion.draw_prior(rng, state)
        effects = super().draw_prior(rng, state, n_markers)
        included = rng.random(n_markers) < state["pi"][0]
        state["n_included"][0] = int(included.sum())
        return np.where(included[:, None], effects, 0.0)

    def log_prior(self, state: dict) -> float:
        return super().log_prior(state) + self.inclusion.log_prior(state)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "family": "MultiTraitBayesC" + ("pi" if self.inclusion.sampled else ""),
                "pi": self.inclusion.to_dict()}

    def __repr__(self) -> str:
        return f"MultiTraitBayesCPrior(pi={self.inclusion!r}, covariance={self.covariance!r})"
