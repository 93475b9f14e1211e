r"""A censored trait beside one or two threshold traits (and Gaussian traits): ``family=["censored",
"threshold"]``, ``["gaussian", "censored", "threshold"]``, ``["censored", "threshold", "threshold"]``, ..."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._deprecation import renamed_arguments
from .censored import CensoredTrait
from .mixed import Mixed
from .threshold import Threshold


class MixedCensored(CensoredTrait, Mixed):
    r"""Traits mixing families with one censored trait c and one or two threshold traits b (binary
    or ordinal), and any Gaussian traits: a lifetime cut off by culling beside a disease, say
    (MCMCglmm's ``family=c("cengaussian", "threshold")``).

    Everything is as in ``Mixed`` with c a free trait (its residual variance and covariances
    sampled; :math:`R_{bb} = 1` fixed) whose censored records' latent values are augmented as in
    ``Censored``: after the missing traits and the liabilities (``Mixed.augment``), each censored
    record's latent value from its conditional given the record's other traits o, the liabilities
    included,

    .. math:: y_{r,c} \mid \cdot \sim N\big(\mu_{r,c} + R_{co}R_{oo}^{-1}(y_{r,o} - \mu_{r,o}),\;
              R_{cc} - R_{co}R_{oo}^{-1}R_{oc}\big) \text{ truncated to its window } (l_r, u_r).

    The liabilities are drawn given the censored trait's current latent values, and the threshold
    trait's scale and marginal group moves condition on them too (the marginal moves integrate
    out the liabilities only; the liabilities are then redrawn before the censored values, which
    condition on them). Pointwise log-likelihood of a record: the density of its exact traits (its
    Gaussian traits and, when exact, the censored one), times the probability of its interval
    traits given them: the liability's category and, when censored, the censored trait's window,
    a bivariate normal rectangle when both (``log_bivariate_normal_rectangle``), a trivariate one
    with two threshold traits (``log_trivariate_normal_rectangle``). So at most two threshold
    traits go beside the censored one: three would make that rectangle four-dimensional.
    """

    #: With records missing traits the marginal moves stay off: their target would integrate the
    #: censored values too (the pointwise log-likelihood does), which the augmentation redraws
    #: given the liabilities, not jointly with them.
    MARGINAL_MOVES_WITH_MISSING_TRAITS = False

    @renamed_arguments(variance="prior")
    def __init__(self, families, prior=None, posterior_predictive: bool = False, bounds=None):
        families = list(families) if isinstance(families, (list, tuple)) else families
        if not isinstance(families, list) or families.count("censored") != 1:
            raise ValueError(f"family={families!r}: a censored trait beside a threshold trait lists 'censored' once.")
        trait = families.index("censored")
        n_thresholds = sum(isinstance(f, Threshold) or f == "threshold" for f in families)
        if n_thresholds not in (1, 2):
            raise ValueError(
                f"family={families!r}: a censored trait goes beside one or two threshold traits (with any "
                f"Gaussian traits); with three, a record's probability of its window and categories would be a "
                f"four-dimensional normal rectangle."
            )
        super().__init__([("gaussian" if f == "censored" else f) for f in families], prior, posterior_predictive)
        self.families[trait] = "censored"
        self._init_censored(bounds, trait)

    def _read_free_trait(self, data: pd.DataFrame, name: str, trait: int) -> np.ndarray:
        if trait == self.trait:
            return self._read_censored(data, name)
        return super()._read_free_trait(data, name, trait)

    def simulate_response(self, rng, state, linear_predictor) -> None:
        """``Mixed``'s simulation (the censored trait's latent values as a Gaussian trait's), then the
        records whose value falls in their window censored, and their values redrawn by the
        augmentation's conditional (the joint-distribution tests then check it)."""
        super().simulate_response(rng, state, linear_predictor)
        self._censor_simulated(state)
        y = state["y"]
        self._draw_censored(rng, state, y, y - linear_predictor)

    def _pointwise_groups(self, state):
        """``Mixed``'s groups, each split by whether the record's censored trait is censored now: then
        that trait enters by its window's probability (an interval trait)."""
        c = self.trait
        censored = state["censored"]
        for positions, rows, gaussian, interval in super()._pointwise_groups(state):
            if c not in gaussian:
                yield positions, rows, gaussian, interval
                continue
            now = censored[positions]
            if not now.all():
                yield positions[~now], rows[~now], gaussian, interval
            if now.any():
                yield positions[now], rows[now], gaussian[gaussian != c], np.sort(np.append(interval, c))

    def _interval_of(self, state, positions: np.ndarray, trait: int):
        if trait == self.trait:
            return self._lower[positions], self._upper[positions]
        return super()._interval_of(state, positions, trait)

    def describe(self) -> dict:
        out = super().describe()
        out.update({"term": "MixedCensored", **self._describe_censored()})
        return out
