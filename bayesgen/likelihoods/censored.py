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


class Censored(Gaussian):
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
    update uses the completed residuals). One trait.

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
        self, prior: PriorArg = None, posterior_predictive: bool = False, bounds: tuple[str, str] | None = None
    ):
        super().__init__(prior, posterior_predictive)
        if bounds is None:
            raise TypeError("family='censored' needs bounds=(lower_column, upper_column).")
        if not isinstance(bounds, (tuple, list)) or len(bounds) != 2 or not all(isinstance(b, str) for b in bounds):
            raise TypeError(f"bounds must be a pair of column names (lower, upper), got {bounds!r}.")
        self.bounds = tuple(bounds)

    def read_response(self, data: pd.DataFrame, traits: list) -> np.ndarray:
        """Exact values and starting values of the censored records; reads and checks the bounds."""
        if len(traits) != 1:
            raise ValueError(f"family='censored' fits one trait; got y={traits}.")
        name = traits[0]
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
        return np.where(censored, start, exact)[:, None]

    def bind(self, context: BindContext, share=None, y=None) -> None:
        if context.n_traits != 1:
            raise ValueError("family='censored' fits one trait.")
        super().bind(context, share=share, y=y)
        rows = self.observed_rows
        self._lower, self._upper = self._window[0][rows], self._window[1][rows]
        # Records that can be censored (their window has a finite side); which of them are now is per chain.
        self._censorable = np.isfinite(self._lower) | np.isfinite(self._upper)
        self._start_censored = self._censored_records[rows].copy()
        self.n_censored = int(self._start_censored.sum())

    def init_state(self, rng) -> dict:
        state = super().init_state(rng)
        state["censored"] = self._start_censored.copy()
        return state

    def _window_of(self, censored: np.ndarray):
        """The censored records' windows (lower, upper)."""
        return self._lower[censored], self._upper[censored]

    def _draw_censored(self, rng, state, mu: np.ndarray) -> np.ndarray:
        r"""Latent values of the censored records: :math:`N(\mu_r, \sigma^2_e)` truncated to their window."""
        lower, upper = self._window_of(state["censored"])
        return draw_truncated_normal(rng, mu, np.sqrt(state["sigma2_e"][0, 0]), lower, upper)

    def augment(self, rng, state, ctx: StepContext) -> None:
        """Draw the censored records' latent values given the linear predictor; keeps ``ctx.resid``."""
        rows = self.observed_rows[state["censored"]]
        if not rows.size:
            return
        y, resid = state["y"], ctx.resid
        mu = y[rows, 0] - resid[rows, 0]
        value = self._draw_censored(rng, state, mu)
        y[rows, 0] = value
        resid[rows, 0] = value - mu

    def simulate_response(self, rng, state, linear_predictor) -> None:
        r"""Latent values :math:`N(\mu_r, \sigma^2_e)`, censored when they fall in their record's window.

        The censoring mechanism is fixed by the data (each record's window) and does not depend on
        the parameters. The censored records' latent values are then redrawn by the augmentation's
        own conditional (same distribution), so that the joint-distribution tests check it.
        """
        rows = self.observed_rows
        mu = linear_predictor[rows, 0]
        value = mu + np.sqrt(state["sigma2_e"][0, 0]) * rng.standard_normal(rows.size)
        censored = self._censorable & (value > self._lower) & (value < self._upper)
        state["censored"][:] = censored
        value[censored] = self._draw_censored(rng, state, mu[censored])
        state["y"][rows, 0] = value

    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Pointwise log-likelihood: :math:`\log N(y_r \mid \mu_r, \sigma^2_e)` for exact records,
        :math:`\log(\Phi((u_r - \mu_r)/\sigma_e) - \Phi((l_r - \mu_r)/\sigma_e))` for censored ones.

        With ``integrated = (shift, extra)`` the record's own random effects are integrated out
        given the other records' (completed) values: mean :math:`\mu_r - s_r`, variance
        :math:`\sigma^2_e + v_r` in both formulas.
        """
        out = super().log_likelihood(state, ctx, integrated)
        censored = state["censored"]
        if censored.any():
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

    def describe(self) -> dict:
        out = super().describe()
        out.update(
            {
                "term": "Censored",
                "family": self.family,
                "bounds": list(self.bounds),
                "censored_records": self.n_censored,
            }
        )
        return out


def _bound(data: pd.DataFrame, column: str, open_value: float) -> np.ndarray:
    """A bound column as float64, NaN replaced by the open side's infinity; errors name the rows."""
    values = pd.to_numeric(data[column], errors="coerce")
    bad = data.index[values.isna() & data[column].notna()]
    if len(bad):
        raise ValueError(f"Bound column {column!r} has non-numeric values in rows {preview(list(bad))}.")
    values = values.to_numpy(dtype=np.float64)
    return np.where(np.isnan(values), open_value, values)
