"""Bayesian ridge regression prior on marker effects (BGLR's BRR), for one trait or several."""

from __future__ import annotations

import warnings

import numpy as np

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from ..kernels.markers_multitrait import sweep_markers_multitrait
from ..variable import Variable
from .defaults import default_prior
from .marker_prior import MarkerPrior, parse_common_variance
from .scaled_inv_chi2 import FixedVariance

#: BGLR's default degrees of freedom of the common marker variance (one trait; t + 3 for t traits).
DEFAULT_DF = 5.0


class RidgePrior(MarkerPrior):
    r"""BRR: :math:`\alpha_j \sim N(0, \Sigma_\alpha)`, one variance common to all markers.

    With one trait :math:`\Sigma_\alpha = \sigma^2_\alpha`; with t traits the effects of a marker on
    the t traits, :math:`\alpha_j \in \mathbb{R}^t`, are correlated through one t x t covariance
    :math:`\Sigma_\alpha` (the effects are a markers x traits matrix A).

    Parameters
    ----------
    prior : None, float, t x t matrix, FixedVariance or a variance prior
        :math:`\Sigma_\alpha`. A number, a matrix or a FixedVariance holds it fixed (then, for one
        trait, the posterior mean of :math:`\alpha` given :math:`\sigma^2_e` is the ridge solution
        :math:`(X'X + \lambda I)^{-1}X'y`, :math:`\lambda = \sigma^2_e/\sigma^2_\alpha`); a prior
        samples it (:class:`ScaledInvChi2` for one trait, :class:`InverseWishart` or
        :class:`HuangWand` for t traits); ``None`` (default) samples it under BGLR's rule
        (``bayesgen.priors.defaults.default_prior(\"bglr\", v)``): one trait,
        :math:`\text{Scale-inv-}\chi^2(5, S^2)` whose mode is
        :math:`v = R^2 \mathrm{Var}(y) / \sum_j \mathrm{Var}(x_j)` (the markers explain a share
        :math:`R^2` of the phenotypic variance a priori); t traits,
        :math:`IW(t + 3, (2t + 4)\,\mathrm{diag}(v))` whose mode is :math:`\mathrm{diag}(v)`, v the
        one-trait rule per trait.

    Notes
    -----
    Full conditionals. The effects: :func:`bayesgen.kernels.markers_multitrait.sweep_markers_multitrait`,
    :math:`\alpha_j \mid \cdot \sim N(P_j^{-1}b_j, P_j^{-1})` with
    :math:`P_j = x_j'Wx_j R^{-1} + \Sigma_\alpha^{-1}`; for one trait its fast path, the Gaussian
    sweep (:func:`bayesgen.kernels.markers.sweep_markers_gaussian`). The common variance, between
    sweeps, with an :math:`IW(\nu, S)` prior (one trait: :math:`\text{Scale-inv-}\chi^2(\nu, S^2)`,
    the same with :math:`S = \nu S^2`): :math:`\Sigma_\alpha \mid A \sim IW(\nu + p, S + A'A)`.
    Records ``sigma2_alpha`` per draw when it is sampled (a number for one trait, trait_row x
    trait_col for several).

    For one trait with the variance sampled, ``Markers(expand=True)`` (the default) adds after each
    sweep the joint rescaling move :math:`(\alpha, \sigma^2_\alpha) \to (k\alpha, k^2\sigma^2_\alpha)`
    (``rescale_log_density``), which lets :math:`\sigma^2_\alpha` move with the data when
    :math:`p \gg n` and the centred update above moves it by only about :math:`1/\sqrt{p}`.
    """

    name = "BRR"
    several_traits = True
    #: How messages name the prior.
    label = "RidgePrior"

    @renamed_arguments(variance="prior")
    def __init__(self, prior: PriorArg = None):
        self.variance_prior, self.variance = parse_common_variance(prior, self.label, several_traits=True)
        self.n_traits, self.traits, self.n_markers = 1, ["y"], None  # set by bind_traits
        self._start = None

    # ------------------------------------------------------------------ binding
    def bind(self, default_variance) -> None:
        """Fill in the default prior so that its mode is ``default_variance`` (one per trait) over
        the prior share of included markers."""
        variances = np.atleast_1d(np.asarray(default_variance, dtype=np.float64))
        self.bind_traits(
            variances, [str(k) for k in range(variances.size)] if variances.size > 1 else ["y"], "sigma2_alpha", None
        )

    def bind_traits(self, default_variances, traits: list, name: str, n_markers: int | None) -> None:
        """The default prior (the one place: ``priors.defaults.default_prior``), its dimension
        checked against the t traits, and the chains' starting value."""
        v = np.atleast_1d(np.asarray(default_variances, dtype=np.float64)) / self.prior_inclusion()
        t = v.size
        self.n_traits, self.traits, self.n_markers = t, list(traits), n_markers
        if self.variance is None and self.variance_prior is None:
            self.variance_prior = default_prior("bglr", v, np.sqrt(v))
        if self.samples_variance:
            self.variance_prior.check_dim(t, name)
            self._start = self.variance_prior.initial_value(np.diag(v))
        else:
            fixed = FixedVariance(self.variance)
            fixed.check_dim(t, name)
            self._start = fixed.value.copy()

    @property
    def samples_variance(self) -> bool:
        return self.variance_prior is not None

    def _matrix_coords(self) -> tuple:
        return ("trait_row", "trait_col"), {"trait_row": self.traits, "trait_col": self.traits}

    def variables(self) -> list[Variable]:
        if not self.samples_variance:
            return []
        return [Variable("sigma2_alpha")] if self.n_traits == 1 else [Variable("sigma2_alpha", *self._matrix_coords())]

    # ------------------------------------------------------------------ chain state
    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        """``sigma2_alpha`` (t x t), its prior's auxiliary variables, and for one trait the
        per-marker variances ``var_alpha`` that the one-trait kernels read."""
        start = self._start * rng.uniform(0.5, 2.0) if self.samples_variance else self._start.copy()
        state = {"sigma2_alpha": start, "aux": self.variance_prior.init_aux(rng) if self.samples_variance else {}}
        if self.n_traits == 1:
            state["var_alpha"] = np.full(n_markers, start[0, 0])
        return state

    @property
    def shares_common_variance(self) -> bool:
        return True

    def common_variance(self, state: dict) -> np.ndarray:
        return state["sigma2_alpha"]

    def _set_variance(self, state: dict, value: np.ndarray) -> None:
        state["sigma2_alpha"][:] = value
        if "var_alpha" in state:
            state["var_alpha"][:] = value[0, 0]

    # ------------------------------------------------------------------ full conditionals
    def log_prior_odds(self, state: dict) -> float:
        """The sweep's prior log-odds of inclusion (+inf: every marker is included)."""
        return np.inf

    def sweep(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> None:
        """Every :math:`\\alpha_j` from its full conditional (class docstring): for t traits the
        multi-trait kernel, for one trait its fast path (``sweep_one_trait``)."""
        if alpha.shape[1] == 1:
            self.sweep_one_trait(
                rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
            )
            return
        n_included = sweep_markers_multitrait(
            rng,
            alpha,
            codes,
            lookup,
            xx,
            resid,
            weights,
            genetic_values,
            np.linalg.inv(residual_covariance),
            np.linalg.inv(state["sigma2_alpha"]),
            code_stats=code_stats,
            log_prior_odds=self.log_prior_odds(state),
        )
        self.set_included(state, n_included)

    def sweep_one_trait(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> None:
        """The t = 1 fast path: the Gaussian sweep with every marker's variance :math:`\\sigma^2_\\alpha`."""
        MarkerPrior.sweep(
            self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
        )

    def set_included(self, state: dict, n_included: int) -> None:
        """Called after a several-trait sweep with the number of included markers (nothing to keep for BRR)."""

    def _slab_count(self, state: dict, alpha: np.ndarray) -> int:
        """The number of effect vectors drawn from :math:`N(0, \\Sigma_\\alpha)` (every marker for BRR)."""
        return alpha.shape[0]

    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw :math:`\\Sigma_\\alpha` from its conjugate full conditional given A (when sampled);
        markers outside the slab have rows of zeros, so A'A sums over the included ones."""
        self.update_sharing_variance(rng, alpha, state, 0.0, 0)

    def update_sharing_variance(
        self, rng: np.random.Generator, alpha: np.ndarray, state: dict, extra_sum_squares, extra_count: int
    ) -> None:
        if self.samples_variance:
            sum_squares = alpha.T @ alpha + extra_sum_squares
            count = self._slab_count(state, alpha) + extra_count
            self._set_variance(state, self.variance_prior.draw_posterior(rng, sum_squares, count, state["aux"]))

    def scale_parameter(self):
        """The rescaling move's parameter (the common variance): sampled only when samples_variance."""
        return ("sigma2_alpha", 2.0, self.variance_prior) if self.samples_variance else None

    def _draw_slab(self, rng: np.random.Generator, state: dict, n_markers: int) -> np.ndarray:
        """The common variance from its prior (when sampled), then n_markers effect vectors from the slab."""
        if self.samples_variance:
            self._set_variance(state, self.variance_prior.draw_prior(rng, state["aux"]))
        chol = np.linalg.cholesky(state["sigma2_alpha"])
        return rng.standard_normal((n_markers, self.n_traits)) @ chol.T

    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        return self._draw_slab(rng, state, self.n_markers)

    def log_prior(self, state: dict) -> float:
        return self.variance_prior.log_density(state["sigma2_alpha"]) if self.samples_variance else 0.0

    def record(self, state: dict) -> dict:
        if not self.samples_variance:
            return {}
        value = state["sigma2_alpha"]
        return {"sigma2_alpha": value[0, 0] if self.n_traits == 1 else value.copy()}

    def _variance_dict(self):
        if self.samples_variance:
            return self.variance_prior.to_dict()
        return self.variance.tolist() if isinstance(self.variance, np.ndarray) else self.variance

    def to_dict(self) -> dict:
        return {"family": self.name, "variance": self._variance_dict()}

    def _variance_repr(self) -> str:
        variance = self.variance_prior if self.samples_variance else self.variance
        return repr(variance.tolist() if isinstance(variance, np.ndarray) else variance)

    def __repr__(self) -> str:
        return f"RidgePrior(prior={self._variance_repr()})"


class MultiTraitRidgePrior(RidgePrior):
    """Deprecated spelling of ``RidgePrior(prior=...)``, which takes a t x t covariance or its prior."""

    def __init__(self, prior: PriorArg = None, covariance: PriorArg = None):
        warnings.warn(
            "MultiTraitRidgePrior(...) is deprecated: use RidgePrior(prior=...), which takes "
            "a t x t matrix or prior for t traits.",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(prior=covariance if prior is None else prior)
