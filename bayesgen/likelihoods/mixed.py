r"""Several traits mixing families: Gaussian traits beside one binary (threshold) trait."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._deprecation import renamed_arguments
from ..priors.inverse_wishart import InverseWishart, _draw_inverse_wishart
from ..sampler.context import StepContext
from ..terms.base import BindContext
from ..variable import Variable
from .base import _phenotype
from .gaussian import Gaussian
from .threshold import Threshold
from .truncated_normal import draw_truncated_normal, log_interval_probability


class Mixed(Gaussian):
    r"""t traits, Gaussian ones and one binary trait on a liability scale: ``family=["gaussian", "threshold"]``.

    The working response holds the Gaussian traits and the liability :math:`\ell_r` of the
    binary trait b (:math:`c_r = 1 \iff \ell_r > 0`); residuals :math:`e_r \sim N(0, R)` with
    :math:`R_{bb} = 1` fixed and the covariances :math:`R_{gb}` sampled (MCMCglmm's ``fix=``).

    **Augmentation.** Missing traits as for Gaussian traits (a missing binary trait's liability
    is a missing trait); then the liability of each record with a category from its conditional
    given the record's other traits,

    .. math:: \ell_r \mid \cdot \sim N\big(\mu_{r,b} + R_{bo}R_{oo}^{-1}(y_{r,o} - \mu_{r,o}),\;
              1 - R_{bo}R_{oo}^{-1}R_{ob}\big) \text{ truncated to } (0, \infty) \text{ or } (-\infty, 0].

    **R with a fixed diagonal element.** The prior is :math:`R \sim IW(\nu, S)` conditioned on
    :math:`R_{bb} = 1`. Partition R into the free traits f and b. For :math:`R \sim IW(\nu, \Psi)`,
    :math:`R_{ff\cdot b} = R_{ff} - R_{fb}R_{bb}^{-1}R_{bf} \sim IW_{t-1}(\nu, \Psi_{ff\cdot b})` and
    :math:`B = R_{fb}R_{bb}^{-1} \mid R_{ff\cdot b} \sim N(\Psi_{fb}\Psi_{bb}^{-1}, R_{ff\cdot b}\,\Psi_{bb}^{-1})`,
    both independent of :math:`R_{bb}` (Korsgaard et al. 2003; checked by simulation), so
    conditioning on :math:`R_{bb} = 1` leaves them unchanged and

    .. math:: R_{ff} = R_{ff\cdot b} + BB',\quad R_{fb} = B,\quad R_{bb} = 1.

    The full conditional given the completed residuals E (n records) is the same with
    :math:`\nu + n` and :math:`\Psi = S + E'E` (the likelihood's own step draws it, also under the
    collapsed sampler, which then integrates the locations out given R).

    The prior is an ``InverseWishart`` (default: ``df = t + 1``, S = diag of the Gaussian traits'
    variance shares and 1 for the binary trait, times ``df``). Recorded: ``sigma2_e`` (t x t, its
    binary diagonal 1) and ``rho_e``; the pointwise log-likelihood of a record is
    :math:`\log N(y_{r,o'} \mid \mu_{r,o'}, R_{o'o'}) + \log P(c_r \mid y_{r,o'})` over its observed
    Gaussian traits o' (the liability integrated out, closed form); ``h2`` per trait on the
    liability scale for the binary trait.
    """

    family = "mixed"

    @renamed_arguments(variance="prior")
    def __init__(self, families, prior=None, posterior_predictive: bool = False):
        super().__init__(prior, posterior_predictive)
        if not isinstance(families, (list, tuple)) or not all(f in ("gaussian", "threshold") for f in families):
            raise ValueError(f"family must list 'gaussian' or 'threshold' per trait, got {families!r}.")
        if list(families).count("threshold") != 1 or len(families) < 2:
            raise ValueError(
                f"family={list(families)!r}: several traits mixing families take Gaussian traits and "
                "exactly one threshold (binary) trait."
            )
        self.families = list(families)

    def read_response(self, data: pd.DataFrame, traits: list) -> np.ndarray:
        if len(traits) != len(self.families):
            raise ValueError(f"family lists {len(self.families)} families for {len(traits)} traits {traits}.")
        columns = []
        for name, family in zip(traits, self.families):
            if family == "gaussian":
                columns.append(_phenotype(data, name))
                continue
            threshold = Threshold()
            codes = threshold.read_response(data, [name])[:, 0]
            if len(threshold.categories) != 2:
                raise ValueError(
                    f"Phenotype column {name!r} has {len(threshold.categories)} categories; beside other "
                    "traits a threshold trait must be binary."
                )
            self.categories = threshold.categories
            columns.append(codes)
        return np.column_stack(columns)

    def response_variance(self, values: np.ndarray) -> np.ndarray:
        out = super().response_variance(values)
        out[self.families.index("threshold")] = 1.0
        return out

    def bind(self, context: BindContext, share=None, y=None) -> None:
        b = self.families.index("threshold")
        self.binary = b
        codes = np.asarray(y, dtype=np.float64)[:, b].copy()
        start = np.asarray(y, dtype=np.float64).copy()
        start[:, b] = np.where(np.isnan(codes), np.nan, np.where(codes == 1, 0.5, -0.5))
        super().bind(context, share=share, y=start)
        t = self.n_traits
        if self.variance_prior_arg is None:
            shares = np.atleast_1d(
                np.asarray(share if share is not None else context.phenotypic_variance * 0.5, dtype=float)
            ).copy()
            shares[b] = 1.0
            self.prior = InverseWishart(t + 1.0, (t + 1.0) * np.diag(shares))
        elif not isinstance(self.variance_prior_arg, InverseWishart):
            raise TypeError(
                f"sigma2_e: traits mixing families need an InverseWishart prior on R (its binary "
                f"diagonal fixed at 1), got {self.variance_prior_arg!r}."
            )
        else:
            self.prior = self.variance_prior_arg
        if self.prior.dim != t:
            raise ValueError(
                f"sigma2_e: the InverseWishart prior is {self.prior.dim} x {self.prior.dim}, the model has {t} traits."
            )
        rows = self.observed_rows
        self._has_category = ~np.isnan(codes[rows])  # records (with some trait) whose binary trait is observed
        self._category = np.where(self._has_category, np.nan_to_num(codes[rows]), -1).astype(np.int64)
        self._free = np.array([k for k in range(t) if k != b])
        start_cov = self._start.copy()
        start_cov[b, :] = start_cov[:, b] = 0.0
        start_cov[b, b] = 1.0
        self._start = start_cov

    @property
    def samples_covariance(self) -> bool:
        """R is drawn by this likelihood's own conditional step (fixed diagonal), never by a collapsed block."""
        return False

    def init_state(self, rng) -> dict:
        state = super().init_state(rng)
        state["sigma2_e"][:] = self._start
        state["category"] = self._category.copy()
        return state

    # ------------------------------------------------------------------ R given R_bb = 1
    def _draw_fixed_diagonal(self, rng, df: float, psi: np.ndarray) -> np.ndarray:
        """R ~ IW(df, psi) conditioned on R_bb = 1 (class docstring)."""
        f, b = self._free, self.binary
        psi_ff, psi_fb, psi_bb = psi[np.ix_(f, f)], psi[f, b], psi[b, b]
        schur = psi_ff - np.outer(psi_fb, psi_fb) / psi_bb
        r_ff_b = _draw_inverse_wishart(rng, df, schur)
        chol = np.linalg.cholesky(r_ff_b / psi_bb)
        coefficient = psi_fb / psi_bb + chol @ rng.standard_normal(f.size)
        out = np.empty_like(psi)
        out[np.ix_(f, f)] = r_ff_b + np.outer(coefficient, coefficient)
        out[f, b] = out[b, f] = coefficient
        out[b, b] = 1.0
        return out

    def draw_prior(self, rng, state) -> None:
        state["sigma2_e"][:] = self._draw_fixed_diagonal(rng, self.prior.df, self.prior.scale)

    def draw_covariance(self, rng, state, ctx: StepContext) -> None:
        e = ctx.resid[self.observed_rows]
        state["sigma2_e"][:] = self._draw_fixed_diagonal(
            rng, self.prior.df + self.n_observed, self.prior.scale + e.T @ e
        )

    # ------------------------------------------------------------------ liabilities
    def _liability_conditional(self, cov: np.ndarray, resid: np.ndarray):
        """Mean shift and sd of the binary residual given the other traits' residuals (rows of ``resid``)."""
        f, b = self._free, self.binary
        coefficient = np.linalg.solve(cov[np.ix_(f, f)], cov[f, b])
        variance = cov[b, b] - cov[b, f] @ coefficient
        return resid[:, f] @ coefficient, np.sqrt(variance)

    def _draw_liabilities(self, rng, state, mu: np.ndarray, resid_rows: np.ndarray) -> np.ndarray:
        """Liabilities of the records with a category given their other traits (truncated at 0)."""
        shift, sd = self._liability_conditional(state["sigma2_e"], resid_rows)
        category = state["category"][self._has_category]
        lower = np.where(category == 1, 0.0, -np.inf)
        upper = np.where(category == 1, np.inf, 0.0)
        return draw_truncated_normal(rng, mu + shift, sd, lower, upper)

    def augment(self, rng, state, ctx: StepContext) -> None:
        """Missing traits (Gaussian conditional), then the liabilities given the categories; keeps ``ctx.resid``."""
        super().augment(rng, state, ctx)
        rows = self.observed_rows[self._has_category]
        b = self.binary
        y, resid = state["y"], ctx.resid
        mu = y[rows, b] - resid[rows, b]
        liability = self._draw_liabilities(rng, state, mu, resid[rows])
        y[rows, b] = liability
        resid[rows, b] = liability - mu

    def simulate_response(self, rng, state, linear_predictor) -> None:
        """The observed traits as for Gaussian traits (liabilities included), their categories, then
        the liabilities redrawn by the augmentation's conditional (same distribution; the
        joint-distribution tests then check it)."""
        super().simulate_response(rng, state, linear_predictor)
        rows = self.observed_rows[self._has_category]
        b = self.binary
        y = state["y"]
        state["category"][self._has_category] = (y[rows, b] > 0).astype(np.int64)
        mu = linear_predictor[rows, b]
        y[rows, b] = self._draw_liabilities(rng, state, mu, y[rows] - linear_predictor[rows])

    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Per record: :math:`\log N(y_{r,g} \mid \mu_{r,g}, R_{gg})` of its observed Gaussian traits g plus
        :math:`\log P(c_r \mid y_{r,g})` (the liability integrated out given them)."""
        if integrated is not None:
            raise NotImplementedError("The integrated pointwise log-likelihood is available for one trait only.")
        cov = state["sigma2_e"]
        b = self.binary
        out = np.empty(self.n_observed)
        resid = ctx.resid
        for pattern in self._patterns:
            obs = pattern.observed
            gaussian = obs[obs != b]
            rows = pattern.rows
            value = np.zeros(rows.size)
            if gaussian.size:
                chol = np.linalg.cholesky(cov[np.ix_(gaussian, gaussian)])
                z = np.linalg.solve(chol, resid[np.ix_(rows, gaussian)].T)
                value += -0.5 * (
                    gaussian.size * np.log(2.0 * np.pi) + 2.0 * np.log(np.diag(chol)).sum() + (z * z).sum(axis=0)
                )
            if b in obs:
                mu = state["y"][rows, b] - resid[rows, b]
                if gaussian.size:
                    coefficient = np.linalg.solve(cov[np.ix_(gaussian, gaussian)], cov[gaussian, b])
                    mu = mu + resid[np.ix_(rows, gaussian)] @ coefficient
                    sd = np.sqrt(cov[b, b] - cov[b, gaussian] @ coefficient)
                else:
                    sd = np.sqrt(cov[b, b])
                category = state["category"][pattern.positions]
                lower = np.where(category == 1, 0.0, -np.inf)
                upper = np.where(category == 1, np.inf, 0.0)
                value += log_interval_probability((lower - mu) / sd, (upper - mu) / sd)
            out[pattern.positions] = value
        return out

    def variables(self) -> list[Variable]:
        return super().variables()

    def describe(self) -> dict:
        out = super().describe()
        out.update({"term": "Mixed", "family": self.families, "fixed": {"sigma2_e": {self.traits[self.binary]: 1.0}}})
        return out
