"""The protocol of priors on marker effects (the Bayesian alphabet).

A marker prior owns the hyperparameters of the marker effects (per-marker variances,
a common variance, a scale, a mixing proportion) and chooses the sweep kernel that draws
the effects. The sweep kernels do not know the prior: a Gaussian sweep takes a vector of
per-marker prior variances; BayesA, BRR and the Bayesian LASSO differ only in how
``update`` refreshes that vector between sweeps.

The effects are a (markers x traits) matrix for every number of traits t. Priors with
``several_traits`` (BRR and BayesC: one t x t common variance, 1 x 1 for one trait) draw
them for any t, with the one-trait kernels as their t = 1 fast path; the others (BayesA,
BayesB, BayesR, the LASSO) are for one trait and work on the matrix's one column.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .._validation import check_positive_finite
from ..kernels.markers import sweep_markers_gaussian
from ..variable import Variable
from .base import VariancePrior
from .scaled_inv_chi2 import FixedVariance, ScaledInvChi2


class MarkerPrior(ABC):
    """Prior on marker effects alpha_j, j = 1..p, with its hyperparameters' full conditionals.

    Life cycle: a model deep-copies the prior, then calls ``bind(default_variance)`` once
    with the per-marker variance that makes the markers explain their default share of
    the phenotypic variance a priori; per chain, ``init_state`` gives starting values (a
    dict holding at least ``var_alpha``, the per-marker prior variances); per iteration,
    ``sweep`` draws every alpha_j given ``var_alpha`` (and updates the residual), then
    ``update`` draws the hyperparameters given alpha. ``variables``/``record`` declare and
    return what is kept per draw (e.g. ``scale``, ``pi``).
    """

    #: Short name used in descriptions (``"BayesA"``, ``"BRR"``, ...).
    name: str = "MarkerPrior"
    #: True when effects are exactly 0 with positive probability (BayesB, BayesC, BayesR): then
    #: ``store="summary"`` also keeps each marker's running share of draws with alpha_j != 0 (its PIP).
    spike_and_slab: bool = False
    #: True when the one-trait effects are drawn by the Gaussian sweep given ``var_alpha`` (BayesA, BRR,
    #: the LASSO), which ``Markers(block_size=...)`` may replace by the exact blocked sweep.
    gaussian_sweep: bool = True
    #: True for priors with a t-trait form (a t x t common variance); the others are for one trait.
    several_traits: bool = False
    #: False for mixtures of several slabs (BayesR): a kernel that knows one slab, the per-marker
    #: variances ``var_alpha`` and one inclusion probability (``inclusion_log_odds``) cannot draw them.
    one_slab: bool = True

    def bind_traits(self, default_variances: np.ndarray, traits: list, name: str, n_markers: int) -> None:
        """Called once by ``Markers.bind``: ``default_variances`` (one per trait) are the R²-rule
        variances per marker, ``traits`` the trait names, ``name`` the name of the recorded
        common variance (for messages) and ``n_markers`` the number of markers. One-trait priors
        get ``bind(default_variances[0])``."""
        if len(traits) > 1:
            raise ValueError(f"{type(self).__name__} is for one trait; the model has {len(traits)} traits.")
        self.bind(float(np.asarray(default_variances).reshape(-1)[0]))

    @abstractmethod
    def bind(self, default_variance: float) -> None:
        """Fill in data-dependent defaults; ``default_variance`` is a prior mode for sigma2_j."""

    @abstractmethod
    def init_state(self, rng: np.random.Generator, n_markers: int) -> dict:
        """Starting values of the hyperparameters; must hold ``var_alpha`` (length n_markers)."""

    def sweep(
        self, rng, alpha, state, codes, lookup, xx, code_stats, resid, weights, genetic_values, residual_covariance
    ) -> None:
        """Draw every marker effect given the prior variances (the one-trait Gaussian sweep by default).

        ``alpha`` (markers x t), ``resid`` and ``genetic_values`` (records x t) change in place;
        ``weights`` (records,) are the records' precision weights, ``residual_covariance`` R (t x t);
        ``xx`` and ``code_stats`` are fixed once the term is bound (``Markers.bind``)."""
        sweep_markers_gaussian(
            rng,
            alpha[:, 0],
            state["var_alpha"],
            codes,
            lookup,
            xx,
            resid[:, 0],
            weights,
            genetic_values[:, 0],
            float(residual_covariance[0, 0]),
            code_stats=code_stats,
        )

    @abstractmethod
    def update(self, rng: np.random.Generator, alpha: np.ndarray, state: dict) -> None:
        """Draw the hyperparameters given the effects (markers x t), in place in ``state``."""

    @abstractmethod
    def draw_prior(self, rng: np.random.Generator, state: dict) -> np.ndarray:
        """Draw hyperparameters (into ``state``) and effects from the prior; return the effects
        (markers x t, or a vector of markers for one-trait priors)."""

    def log_prior(self, state: dict) -> float:
        """Log density of the sampled top-level hyperparameters (e.g. a scale), up to a constant."""
        return 0.0

    # ------------------------------------------------------------------ inclusion
    def prior_inclusion(self) -> float:
        """The share of markers in the slab a priori (1 unless the prior is a spike and slab)."""
        return 1.0

    def inclusion_log_odds(self, state: dict) -> float:
        r""":math:`\log(\pi/(1-\pi))`, the prior log-odds of a marker's inclusion that a one-slab sweep
        weighs against the data (+inf: every marker is included)."""
        return np.inf

    def set_included(self, state: dict, n_included: int) -> None:
        """Keep the number of included markers that a sweep outside the prior counted (nothing to keep
        unless the prior is a spike and slab)."""

    # ------------------------------------------------------------------ a common variance shared
    @property
    def shares_common_variance(self) -> bool:
        r"""Whether further effects may share the common slab variance :math:`\sigma^2_\alpha`
        (``update_sharing_variance``): one variance for every included marker, and nothing else
        sampled that depends on it."""
        return False

    def common_variance(self, state: dict) -> np.ndarray:
        r"""The common slab variance :math:`\Sigma_\alpha` (t x t) in ``state`` (``shares_common_variance``)."""
        raise NotImplementedError(f"The {self.name} prior has no common variance to share.")

    def update_sharing_variance(
        self, rng: np.random.Generator, alpha: np.ndarray, state: dict, extra_sum_squares, extra_count: int
    ) -> None:
        r"""``update`` when further effects :math:`\varepsilon` share the common variance: the conjugate
        draw given the included markers plus ``extra_sum_squares`` (their
        :math:`\varepsilon'Q\varepsilon`, with Q their correlation structure's inverse) over
        ``extra_count`` more effects (``shares_common_variance``)."""
        raise NotImplementedError(f"The {self.name} prior has no common variance to share.")

    # ------------------------------------------------------------------ the rescaling move
    def scale_parameter(self):
        """(state key, exponent e, its prior) of the hyperparameter that the rescaling move scales by
        :math:`k^e` with the effects, or None when the prior samples no such parameter (no move)."""
        return None

    @property
    def rescalable(self) -> bool:
        """Whether the rescaling move applies (a sampled scale parameter)."""
        return self.scale_parameter() is not None

    def rescale_log_density(self, state: dict, factor: float) -> float:
        r""":math:`\log f(k)` of the joint rescaling of the effects by k > 0.

        The move (``bayesgen.sampler.group_move``, through ``Markers.group_action``) maps
        :math:`\alpha \to k\alpha`, every per-marker prior variance :math:`\sigma^2_j \to k^2\sigma^2_j`
        (``var_alpha``: the slab variance of BayesC/BayesR, BayesA/B's :math:`\sigma^2_j`, the
        LASSO's :math:`\tau^2_j`) and the scale parameter :math:`h \to k^e h` (``scale_parameter``:
        BayesA/B's :math:`S^2` and the common variances with e = 2, the LASSO's :math:`\lambda^2`
        with e = -2). Effects fixed at 0 and inclusion indicators do not move. Each moved
        effect's normal density gives :math:`k^{-1}` against the Jacobian's k; each per-marker
        variance's density given h (scale-inv-chi-square given :math:`S^2`, exponential given
        :math:`\lambda^2`) gives :math:`k^{-2}` against its Jacobian's :math:`k^2`; h's Jacobian
        :math:`k^e` and the Haar measure dk/k leave :math:`k^{e-1}`. So besides the likelihood
        :math:`f(k) = k^{e-1}p(k^e h)`, p the prior of h.
        A prior with auxiliary variables (``state["aux"]``, e.g. a half-t on the common variance)
        is taken given them, since the move keeps them fixed.
        """
        key, exponent, prior = self.scale_parameter()
        value = factor**exponent * state[key].flat[0]  # the scale: length 1, or the 1 x 1 common variance
        log_density = prior.log_density(value) if "aux" not in state else prior.log_density(value, state["aux"])
        return log_density + (exponent - 1.0) * np.log(factor)

    def rescale(self, state: dict, factor: float) -> None:
        """Apply the accepted rescaling to the hyperparameters (in place; ``rescale_log_density``)."""
        key, exponent, _ = self.scale_parameter()
        state[key] *= factor**exponent
        state["var_alpha"] *= factor * factor

    def variables(self) -> list[Variable]:
        return []

    def record(self, state: dict) -> dict:
        return {}

    @abstractmethod
    def to_dict(self) -> dict:
        """A JSON-able description."""


def parse_common_variance(variance, who: str, several_traits: bool = False):
    """The variance common to all markers (BRR, BayesC's slab, BayesR's sigma2_alpha):
    ``(prior, None)`` when sampled (None: the default prior, filled in by ``bind``)
    or ``(None, value)`` when fixed, by a number or a ``FixedVariance``; an improper prior is
    rejected, since the marker variance's posterior would then be improper too.

    One trait (``several_traits`` False): a ``ScaledInvChi2`` or one number. Priors with a t-trait
    form also take any ``VariancePrior`` (``InverseWishart``, ``HuangWand``, ...) and a fixed t x t
    matrix; the value is then a float for a 1 x 1 variance and the matrix otherwise (its dimension
    is checked against the traits at bind)."""
    sampled_types = VariancePrior if several_traits else ScaledInvChi2
    if variance is None or (isinstance(variance, sampled_types) and variance.sampled):
        if variance is not None and not variance.is_proper:
            raise ValueError(f"{who} variance prior must be proper (df > 0 and scale > 0), got {variance!r}.")
        return variance, None
    if several_traits and isinstance(variance, (list, tuple, np.ndarray)):
        try:
            variance = FixedVariance(np.asarray(variance, dtype=np.float64))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{who} variance: {err}") from None
    if isinstance(variance, FixedVariance):
        if variance.dim != 1 and not several_traits:
            raise ValueError(f"{who} variance must be one number, got a {variance.dim} x {variance.dim} FixedVariance.")
        return None, float(variance.value[0, 0]) if variance.dim == 1 else variance.value.copy()
    if several_traits and not isinstance(variance, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{who} variance must be None, a number or t x t matrix (fixed), a FixedVariance, or a "
            f"prior (ScaledInvChi2 for one trait, InverseWishart or HuangWand for t traits), "
            f"got {variance!r}."
        )
    return None, check_positive_finite(variance, f"{who} variance")


def is_marker_prior(prior) -> bool:
    return isinstance(prior, MarkerPrior)
