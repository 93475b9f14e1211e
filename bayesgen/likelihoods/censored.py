r"""The censored Gaussian likelihood: values known only to lie between bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from .._validation import preview
from ..sampler.context import StepContext
from ..terms.base import BindContext
from .base import _phenotype
from .gaussian import Gaussian
from .truncated_normal import draw_truncated_normal, log_interval_probability


class CensoredTrait:
    r"""The censored trait's share of a likelihood with one: its bounds, windows and latent-value
    draws (``Censored``; ``bayesgen.likelihoods.mixed_censored.MixedCensored`` beside a threshold
    trait). It comes first among the likelihood's bases: its ``bind``, ``init_state`` and
    ``augment`` extend the likelihood's own (the windows once bound, each chain's ``censored``
    flags, the censored values drawn after the likelihood's own augmentation). The likelihood
    supplies ``n_traits``, ``observed_rows``, ``traits`` and the state's ``sigma2_e``
    (``Censored``'s docstring gives the draw)."""

    # supplied by the likelihood
    observed_rows: np.ndarray
    n_traits: int
    traits: list

    def _init_censored(self, bounds, trait) -> None:
        if bounds is None:
            raise TypeError("family='censored' needs bounds=(lower_column, upper_column).")
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2 or not all(isinstance(b, str) for b in bounds):
            raise TypeError(f"bounds must be a pair of column names (lower, upper), got {bounds!r}.")
        if isinstance(trait, bool) or not isinstance(trait, (int, np.integer)) or trait < 0:
            raise TypeError(f"trait must be the censored trait's position among the traits, got {trait!r}.")
        self.bounds = tuple(bounds)
        #: Position of the censored trait among the model's traits.
        self.trait = int(trait)

    def _read_censored(self, data: pd.DataFrame, name: str) -> np.ndarray:
        """The censored trait's column: exact values, and the start of each censored record's latent value."""
        missing = [c for c in self.bounds if c not in data.columns]
        if missing:
            raise ValueError(
                f"bounds column(s) {preview(missing)} not in data (columns: {preview(list(data.columns))})."
            )
        exact = _phenotype(data, name)
        lower, upper = (_bound(data, column, fill) for column, fill in zip(self.bounds, (-np.inf, np.inf)))
        if np.isposinf(lower).any() or np.isneginf(upper).any():
            column, bad = (
                (self.bounds[0], np.isposinf(lower))
                if np.isposinf(lower).any()
                else (self.bounds[1], np.isneginf(upper))
            )
            raise ValueError(
                f"Bound column {column!r} is {'+inf' if column == self.bounds[0] else '-inf'} in rows "
                f"{preview(list(data.index[bad]))}: an empty window."
            )
        crossed = lower > upper
        if crossed.any():
            rows = data.index[crossed]
            raise ValueError(
                f"Lower bound column {self.bounds[0]!r} is above upper bound column {self.bounds[1]!r} in rows "
                f"{preview(list(rows))} (values {preview([(float(lower[i]), float(upper[i])) for i in np.flatnonzero(crossed)])})."
            )
        outside = ~np.isnan(exact) & ((exact < lower) | (exact > upper))
        if outside.any():
            raise ValueError(
                f"Phenotype column {name!r} has exact values outside their bounds {self.bounds} in rows "
                f"{preview(list(data.index[outside]))} (values {preview(exact[outside].tolist())})."
            )
        point = np.isnan(exact) & (lower == upper)  # equal bounds: an exact value
        exact = np.where(point, lower, exact)
        censored = np.isnan(exact) & (np.isfinite(lower) | np.isfinite(upper))
        self._window = (np.where(censored, lower, -np.inf), np.where(censored, upper, np.inf))
        self._censored_records = censored
        with np.errstate(invalid="ignore"):  # inf - inf where both sides are open (not used there)
            start = np.where(
                np.isfinite(lower) & np.isfinite(upper),
                0.5 * (lower + upper),
                np.where(np.isfinite(lower), lower, upper),
            )
        return np.where(censored, start, exact)

    # Cooperative extensions of the likelihood's own methods (the next class in the MRO; mypy
    # cannot see it from this base, hence the ignores).
    def bind(self, context: BindContext, share=None, y=None) -> None:
        super().bind(context, share=share, y=y)  # type: ignore[misc]
        self._bind_windows()

    def init_state(self, rng) -> dict:
        state = super().init_state(rng)  # type: ignore[misc]
        state["censored"] = self._start_censored.copy()
        return state

    def augment(self, rng, state, ctx: StepContext) -> None:
        """The likelihood's own augmentation (missing traits; liabilities), then the censored records'
        latent values given the linear predictor and the other traits; keeps ``ctx.resid``."""
        super().augment(rng, state, ctx)  # type: ignore[misc]
        self._draw_censored(rng, state, state["y"], ctx.resid)

    def masked_column(self, values: np.ndarray, held_out: np.ndarray, trait: int = 0):
        """The censored trait's column as read back: its exact values, NaN where held out and where
        censored (``values`` holds a censored record's starting value, which read back would be an
        exact value at its bound)."""
        if trait != self.trait:
            return super().masked_column(values, held_out, trait)  # type: ignore[misc]
        return np.where(held_out | self._censored_records, np.nan, values)

    def masked_data(self, data: pd.DataFrame, names: list, values: np.ndarray, held_out, traits) -> pd.DataFrame:
        """The likelihood's masked data, and the censored trait's bounds missing too where its
        phenotype is (a held-out censored record is missing in the refit, not censored)."""
        data = super().masked_data(data, names, values, held_out, traits)  # type: ignore[misc]
        if self.trait in traits:
            for column in self.bounds:
                data[column] = np.where(held_out, np.nan, pd.to_numeric(data[column]))
        return data

    def _bind_windows(self) -> None:
        """The observed records' windows, once the likelihood is bound (``observed_rows`` known)."""
        rows = self.observed_rows
        self._lower, self._upper = self._window[0][rows], self._window[1][rows]
        # Records that can be censored (their window has a finite side); which of them are now is per chain.
        self._censorable = np.isfinite(self._lower) | np.isfinite(self._upper)
        self._start_censored = self._censored_records[rows].copy()
        self.n_censored = int(self._start_censored.sum())

    def _window_of(self, censored: np.ndarray):
        """The censored records' windows (lower, upper)."""
        return self._lower[censored], self._upper[censored]

    def _conditional(self, cov: np.ndarray, resid_others: np.ndarray, others: np.ndarray):
        r"""(shift, s) of the censored trait c given the traits ``others`` with residuals
        ``resid_others`` (records x others): :math:`m_r = \mu_{r,c} + \text{shift}_r` and sd s (class docstring)."""
        c = self.trait
        if others.size == 0:
            return 0.0, float(np.sqrt(cov[c, c]))
        coefficient = np.linalg.solve(cov[np.ix_(others, others)], cov[others, c])
        return resid_others @ coefficient, float(np.sqrt(cov[c, c] - cov[c, others] @ coefficient))

    def _draw_censored(self, rng, state, y: np.ndarray, resid: np.ndarray) -> None:
        r"""Latent values of the censored records: :math:`N(m_r, s^2)` given the record's other traits,
        truncated to their window (one trait: :math:`N(\mu_r, \sigma^2_e)`); updates ``y`` and ``resid``."""
        rows = self.observed_rows[state["censored"]]
        if not rows.size:
            return
        c = self.trait
        others = np.array([k for k in range(self.n_traits) if k != c], dtype=np.int64)
        mu = y[rows, c] - resid[rows, c]
        shift, sd = self._conditional(state["sigma2_e"], resid[np.ix_(rows, others)], others)
        lower, upper = self._window_of(state["censored"])
        value = draw_truncated_normal(rng, mu + shift, sd, lower, upper)
        y[rows, c] = value
        resid[rows, c] = value - mu

    def _censor_simulated(self, state) -> None:
        """After a simulation of the latent values: the records whose value falls in their window are
        censored (the censoring mechanism is fixed by the data), the others exact."""
        value = state["y"][self.observed_rows, self.trait]
        state["censored"][:] = self._censorable & (value > self._lower) & (value < self._upper)

    def _describe_censored(self) -> dict:
        return {
            "bounds": list(self.bounds),
            "censored_trait": self.traits[self.trait],
            "censored_records": self.n_censored,
        }


class Censored(CensoredTrait, Gaussian):
    r"""A Gaussian trait some of whose records are censored: left, right or interval.

    Record r has a latent value :math:`y_r \sim N(\mu_r, \sigma^2_e)`. It is observed exactly
    (the ``y`` column, or equal bounds), or only known to lie in its window
    :math:`(l_r, u_r)` (``bounds=("lower", "upper")`` columns; NaN or ±inf for an open side):
    right-censored :math:`(l_r, \infty)` (a lifetime cut off by culling), left-censored
    :math:`(-\infty, u_r)` (below a detection limit) or interval-censored. The likelihood of a
    censored record is :math:`\Phi((u_r - \mu_r)/\sigma_e) - \Phi((l_r - \mu_r)/\sigma_e)`.

    The latent values of censored records are the augmented part of the working response
    (MCMCglmm's ``cengaussian``; Sorensen, Gianola & Korsgaard 1998): each iteration

    .. math:: y_r \mid \mu_r, \sigma^2_e \sim N(\mu_r, \sigma^2_e) \text{ truncated to } (l_r, u_r),

    and everything else proceeds as for a Gaussian trait (the residual variance's conjugate
    update uses the completed residuals).

    **Beside Gaussian traits** (``family=["gaussian", "censored"]``, ``bounds=`` for the censored
    trait; ``trait=`` its position among the traits): residuals :math:`e_r \sim N(0, R)` with R
    sampled whole (inverse-Wishart as for Gaussian traits), missing traits augmented as for
    Gaussian traits, then the censored records' latent values of trait c given the record's
    other traits o,

    .. math:: y_{r,c} \mid \cdot \sim N\big(m_r = \mu_{r,c} + R_{co}R_{oo}^{-1}(y_{r,o} - \mu_{r,o}),\;
              s^2 = R_{cc} - R_{co}R_{oo}^{-1}R_{oc}\big) \text{ truncated to } (l_r, u_r).

    A censored record's pointwise log-likelihood is then
    :math:`\log N(y_{r,o'} \mid \mu_{r,o'}, R_{o'o'}) + \log(\Phi((u_r - m_r)/s) - \Phi((l_r - m_r)/s))`
    over its observed other traits o' (m and s given those only). One censored trait per model.

    The data: the ``y`` column holds the exact values (NaN where censored or missing); a
    record with NaN ``y`` and a finite bound is censored in its window; a record with NaN
    ``y`` and both sides open is missing (predicted). An exact value must lie within the
    record's bounds if any are given. ``model.y`` (and ``observed_data``) hold the exact
    values and, for censored records, the finite bound (the midpoint of an interval), where
    their latent values start.
    """

    family = "censored"

    @renamed_arguments(variance="prior")
    def __init__(
        self,
        prior: PriorArg = None,
        posterior_predictive: bool = False,
        bounds: tuple[str, str] | None = None,
        trait: int = 0,
    ):
        super().__init__(prior, posterior_predictive)
        self._init_censored(bounds, trait)

    def read_response(self, data: pd.DataFrame, traits: list) -> np.ndarray:
        """The traits' columns: the censored trait's exact values and starting values of its censored
        records (reads and checks the bounds), the others as Gaussian phenotypes."""
        if self.trait >= len(traits):
            raise ValueError(f"trait={self.trait}: the censored trait's position is beyond the traits {traits}.")
        columns = [_phenotype(data, name) for name in traits]
        columns[self.trait] = self._read_censored(data, traits[self.trait])
        return np.column_stack(columns)

    def simulate_response(self, rng, state, linear_predictor) -> None:
        r"""Latent values :math:`N(\mu_r, \sigma^2_e)`, censored when they fall in their record's window.

        The censoring mechanism is fixed by the data (each record's window) and does not depend on
        the parameters. The censored records' latent values are then redrawn by the augmentation's
        own conditional (same distribution), so that the joint-distribution tests check it.
        """
        rows, y = self.observed_rows, state["y"]
        if self.n_traits == 1:
            y[rows, 0] = linear_predictor[rows, 0] + np.sqrt(state["sigma2_e"][0, 0]) * rng.standard_normal(rows.size)
        else:
            super().simulate_response(rng, state, linear_predictor)
        self._censor_simulated(state)
        self._draw_censored(rng, state, y, y - linear_predictor)

    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Pointwise log-likelihood: :math:`\log N(y_r \mid \mu_r, \sigma^2_e)` for exact records,
        :math:`\log(\Phi((u_r - \mu_r)/\sigma_e) - \Phi((l_r - \mu_r)/\sigma_e))` for censored ones.

        With ``integrated = (shift, extra)`` the record's own random effects are integrated out
        given the other records' (completed) values: mean :math:`\mu_r - s_r`, variance
        :math:`\sigma^2_e + v_r` in both formulas.
        """
        out = super().log_likelihood(state, ctx, integrated)
        censored = state["censored"]
        if not censored.any():
            return out
        if self.n_traits > 1:
            return self._several_traits_censored(state, ctx, out)
        rows = self.observed_rows[censored]
        mu = state["y"][rows, 0] - ctx.resid[rows, 0]
        variance = np.full(rows.size, state["sigma2_e"][0, 0])
        if integrated is not None:
            mu = mu - integrated[0][rows]
            variance = variance + integrated[1][rows]
        sd = np.sqrt(variance)
        lower, upper = self._window_of(censored)
        out[censored] = log_interval_probability((lower - mu) / sd, (upper - mu) / sd)
        return out

    def _several_traits_censored(self, state, ctx: StepContext, out: np.ndarray) -> np.ndarray:
        """``out`` with each censored record's value replaced: the density of its observed other traits
        times the probability of its window given them (class docstring)."""
        cov, c, resid = state["sigma2_e"], self.trait, ctx.resid
        for pattern in self._patterns:
            positions = pattern.positions[state["censored"][pattern.positions]]
            if not positions.size:
                continue
            rows = self.observed_rows[positions]
            others = pattern.observed[pattern.observed != c]
            value = np.zeros(rows.size)
            if others.size:
                chol = np.linalg.cholesky(cov[np.ix_(others, others)])
                z = np.linalg.solve(chol, resid[np.ix_(rows, others)].T)
                value -= 0.5 * (
                    others.size * np.log(2.0 * np.pi) + 2.0 * np.log(np.diag(chol)).sum() + (z * z).sum(axis=0)
                )
            shift, sd = self._conditional(cov, resid[np.ix_(rows, others)], others)
            mean = state["y"][rows, c] - resid[rows, c] + shift
            lower, upper = self._lower[positions], self._upper[positions]
            out[positions] = value + log_interval_probability((lower - mean) / sd, (upper - mean) / sd)
        return out

    def describe(self) -> dict:
        out = super().describe()
        out.update({"term": "Censored", "family": self.family, **self._describe_censored()})
        return out


def _bound(data: pd.DataFrame, column: str, open_value: float) -> np.ndarray:
    """A bound column as float64, NaN replaced by the open side's infinity; errors name the rows."""
    values = pd.to_numeric(data[column], errors="coerce")
    bad = data.index[values.isna() & data[column].notna()]
    if len(bad):
        raise ValueError(f"Bound column {column!r} has non-numeric values in rows {preview(list(bad))}.")
    values = values.to_numpy(dtype=np.float64)
    return np.where(np.isnan(values), open_value, values)
