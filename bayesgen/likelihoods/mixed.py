r"""Several traits mixing families: Gaussian traits beside one or two binary (threshold) traits."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._deprecation import renamed_arguments
from ..priors.inverse_wishart import InverseWishart, _draw_inverse_wishart
from ..sampler.context import StepContext
from ..terms.base import BindContext
from ..variable import Variable
from .base import _phenotype
from .bivariate_normal import log_bivariate_normal_cdf
from .gaussian import Gaussian
from .threshold import Threshold
from .truncated_normal import draw_truncated_normal, log_interval_probability


class Mixed(Gaussian):
    r"""t traits, Gaussian ones and one or two binary traits on a liability scale:
    ``family=["gaussian", "threshold"]``, ``["gaussian", "threshold", "threshold"]``,
    ``["threshold", "threshold"]``, ...

    The working response holds the Gaussian traits and the liability :math:`\ell_{r,b}` of each
    binary trait b (:math:`c_{r,b} = 1 \iff \ell_{r,b} > 0`); residuals :math:`e_r \sim N(0, R)` with
    the binary block :math:`R_{BB} = I` fixed (unit variances; two binary traits' residuals
    uncorrelated, as MCMCglmm's ``fix=`` fixes that block) and the covariances :math:`R_{gb}`
    with the Gaussian traits sampled.

    **Augmentation.** Missing traits as for Gaussian traits (a missing binary trait's liability
    is a missing trait); then, binary trait by binary trait, the liability of each record with a
    category from its conditional given all the record's other traits o (the other binary
    trait's current liability included),

    .. math:: \ell_{r,b} \mid \cdot \sim N\big(\mu_{r,b} + R_{bo}R_{oo}^{-1}(y_{r,o} - \mu_{r,o}),\;
              R_{bb} - R_{bo}R_{oo}^{-1}R_{ob}\big) \text{ truncated to } (0, \infty) \text{ or } (-\infty, 0].

    **R with a fixed block.** The prior is :math:`R \sim IW(\nu, S)` conditioned on
    :math:`R_{BB} = I`. Partition R into the free traits f and the binary ones B. For
    :math:`R \sim IW(\nu, \Psi)`, :math:`R_{ff\cdot B} = R_{ff} - R_{fB}R_{BB}^{-1}R_{Bf} \sim IW(\nu, \Psi_{ff\cdot B})`
    and :math:`C = R_{fB}R_{BB}^{-1} \mid R_{ff\cdot B} \sim MN(\Psi_{fB}\Psi_{BB}^{-1}, R_{ff\cdot B}, \Psi_{BB}^{-1})`
    (matrix normal: rows' covariance :math:`R_{ff\cdot B}`, columns' :math:`\Psi_{BB}^{-1}`), both
    independent of :math:`R_{BB}` (Korsgaard et al. 2003; checked by simulation), so conditioning on
    :math:`R_{BB} = I` leaves them unchanged and

    .. math:: R_{ff} = R_{ff\cdot B} + CC',\quad R_{fB} = C,\quad R_{BB} = I.

    The full conditional given the completed residuals E (n records) is the same with
    :math:`\nu + n` and :math:`\Psi = S + E'E` (the likelihood's own step draws it, also under the
    collapsed sampler, which then integrates the locations out given R). With binary traits
    only, R = I.

    The prior is an ``InverseWishart`` (default: ``df = t + 1``, S = diag of the Gaussian traits'
    variance shares and 1 for the binary traits, times ``df``). Recorded: ``sigma2_e`` (t x t, its
    binary block I) and ``rho_e``; the pointwise log-likelihood of a record is
    :math:`\log N(y_{r,g} \mid \mu_{r,g}, R_{gg}) + \log P(c_{r,B'} \mid y_{r,g})` over its observed
    Gaussian traits g and binary traits B' (the liabilities integrated out given the Gaussian
    traits: a normal CDF for one, the bivariate normal CDF for two,
    ``bayesgen.likelihoods.bivariate_normal``); ``h2`` per trait, on the liability scale for the
    binary traits.
    """

    family = "mixed"
    #: Binary traits a model can hold: a record's probability of two categories is a bivariate
    #: normal CDF (closed form, accurate in the tails); three would need a trivariate one.
    MAX_BINARY = 2

    @renamed_arguments(variance="prior")
    def __init__(self, families, prior=None, posterior_predictive: bool = False):
        super().__init__(prior, posterior_predictive)
        if not isinstance(families, (list, tuple)) or not all(f in ("gaussian", "threshold") for f in families):
            raise ValueError(f"family must list 'gaussian' or 'threshold' per trait, got {families!r}.")
        if not 1 <= list(families).count("threshold") <= self.MAX_BINARY or len(families) < 2:
            raise ValueError(
                f"family={list(families)!r}: several traits mixing families take Gaussian traits and one or "
                f"two threshold (binary) traits."
            )
        self.families = list(families)
        self.binary = np.array([k for k, f in enumerate(self.families) if f == "threshold"])

    def read_response(self, data: pd.DataFrame, traits: list) -> np.ndarray:
        if len(traits) != len(self.families):
            raise ValueError(f"family lists {len(self.families)} families for {len(traits)} traits {traits}.")
        columns = []
        self.categories = {}
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
            self.categories[name] = threshold.categories
            columns.append(codes)
        return np.column_stack(columns)

    def response_variance(self, values: np.ndarray) -> np.ndarray:
        out = super().response_variance(values)
        out[self.binary] = 1.0
        return out

    def bind(self, context: BindContext, share=None, y=None) -> None:
        binary = self.binary
        codes = np.asarray(y, dtype=np.float64)[:, binary].copy()
        start = np.asarray(y, dtype=np.float64).copy()
        start[:, binary] = np.where(np.isnan(codes), np.nan, np.where(codes == 1, 0.5, -0.5))
        super().bind(context, share=share, y=start)
        t = self.n_traits
        if self.variance_prior_arg is None:
            shares = np.atleast_1d(
                np.asarray(share if share is not None else context.phenotypic_variance * 0.5, dtype=float)
            ).copy()
            shares[binary] = 1.0
            self.prior = InverseWishart(t + 1.0, (t + 1.0) * np.diag(shares))
        elif not isinstance(self.variance_prior_arg, InverseWishart):
            raise TypeError(
                f"sigma2_e: traits mixing families need an InverseWishart prior on R (its binary "
                f"block fixed at I), got {self.variance_prior_arg!r}."
            )
        else:
            self.prior = self.variance_prior_arg
        if self.prior.dim != t:
            raise ValueError(
                f"sigma2_e: the InverseWishart prior is {self.prior.dim} x {self.prior.dim}, the model has {t} traits."
            )
        rows = self.observed_rows
        # records (with some trait) x binary traits: whose category is observed, and the category (-1: none)
        self._has_category = ~np.isnan(codes[rows])
        self._category = np.where(self._has_category, np.nan_to_num(codes[rows]), -1).astype(np.int64)
        self._free = np.array([k for k in range(t) if k not in binary], dtype=np.int64)
        start_cov = self._start.copy()
        start_cov[binary, :] = start_cov[:, binary] = 0.0
        start_cov[binary, binary] = 1.0
        self._start = start_cov

    @property
    def samples_covariance(self) -> bool:
        """R is drawn by this likelihood's own conditional step (fixed block), never by a collapsed block."""
        return False

    def init_state(self, rng) -> dict:
        state = super().init_state(rng)
        state["sigma2_e"][:] = self._start
        state["category"] = self._category.copy()
        return state

    # ------------------------------------------------------------------ R given R_BB = I
    def _draw_fixed_block(self, rng, df: float, psi: np.ndarray) -> np.ndarray:
        """R ~ IW(df, psi) conditioned on R_BB = I (class docstring)."""
        f, b = self._free, self.binary
        out = np.zeros_like(psi)
        out[b, b] = 1.0
        if f.size == 0:
            return out
        psi_ff, psi_fb, psi_bb = psi[np.ix_(f, f)], psi[np.ix_(f, b)], psi[np.ix_(b, b)]
        mean = np.linalg.solve(psi_bb, psi_fb.T).T  # Psi_fB Psi_BB^-1
        r_ff_b = _draw_inverse_wishart(rng, df, psi_ff - mean @ psi_fb.T)
        column_chol = self._columns_factor(psi_bb)
        coefficient = mean + np.linalg.cholesky(r_ff_b) @ rng.standard_normal((f.size, b.size)) @ column_chol.T
        out[np.ix_(f, f)] = r_ff_b + coefficient @ coefficient.T
        out[np.ix_(f, b)] = coefficient
        out[np.ix_(b, f)] = coefficient.T
        return out

    @staticmethod
    def _columns_factor(psi_bb: np.ndarray) -> np.ndarray:
        """Cholesky factor of the matrix normal's columns' covariance, Psi_BB^-1."""
        return np.linalg.cholesky(np.linalg.inv(psi_bb))

    def draw_prior(self, rng, state) -> None:
        state["sigma2_e"][:] = self._draw_fixed_block(rng, self.prior.df, self.prior.scale)

    def draw_covariance(self, rng, state, ctx: StepContext) -> None:
        e = ctx.resid[self.observed_rows]
        state["sigma2_e"][:] = self._draw_fixed_block(rng, self.prior.df + self.n_observed, self.prior.scale + e.T @ e)

    # ------------------------------------------------------------------ liabilities
    def _draw_liabilities(self, rng, state, y: np.ndarray, resid: np.ndarray) -> None:
        """Each binary trait's liabilities in turn, given the record's other traits (class docstring),
        truncated at 0 by category; updates ``y`` and ``resid`` (records x traits, all records)."""
        cov = state["sigma2_e"]
        for column, b in enumerate(self.binary):
            has = self._has_category[:, column]
            rows = self.observed_rows[has]
            others = self._conditioning_traits(b)
            coefficient = np.linalg.solve(cov[np.ix_(others, others)], cov[others, b])
            sd = np.sqrt(cov[b, b] - cov[b, others] @ coefficient)
            mu = y[rows, b] - resid[rows, b]
            category = state["category"][has, column]
            lower = np.where(category == 1, 0.0, -np.inf)
            upper = np.where(category == 1, np.inf, 0.0)
            liability = draw_truncated_normal(rng, mu + resid[np.ix_(rows, others)] @ coefficient, sd, lower, upper)
            y[rows, b] = liability
            resid[rows, b] = liability - mu

    def _conditioning_traits(self, trait: int) -> np.ndarray:
        """The traits a binary trait's liability is drawn given: all the others."""
        return np.array([k for k in range(self.n_traits) if k != trait])

    def augment(self, rng, state, ctx: StepContext) -> None:
        """Missing traits (Gaussian conditional), then the liabilities given the categories; keeps ``ctx.resid``."""
        super().augment(rng, state, ctx)
        self._draw_liabilities(rng, state, state["y"], ctx.resid)

    def simulate_response(self, rng, state, linear_predictor) -> None:
        """The observed traits as for Gaussian traits (liabilities included), their categories, then
        the liabilities redrawn by the augmentation's conditionals (a Gibbs pass from an exact draw:
        same distribution; the joint-distribution tests then check it)."""
        super().simulate_response(rng, state, linear_predictor)
        y = state["y"]
        for column, b in enumerate(self.binary):
            has = self._has_category[:, column]
            state["category"][has, column] = (y[self.observed_rows[has], b] > 0).astype(np.int64)
        self._draw_liabilities(rng, state, y, y - linear_predictor)

    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Per record: :math:`\log N(y_{r,g} \mid \mu_{r,g}, R_{gg})` of its observed Gaussian traits g plus
        :math:`\log P(c_{r,B'} \mid y_{r,g})` of its observed binary traits B' (the liabilities
        integrated out given the Gaussian traits: closed form)."""
        if integrated is not None:
            raise NotImplementedError("The integrated pointwise log-likelihood is available for one trait only.")
        cov = state["sigma2_e"]
        out = np.empty(self.n_observed)
        resid = ctx.resid
        for pattern in self._patterns:
            obs = pattern.observed
            gaussian = obs[~np.isin(obs, self.binary)]
            binary = obs[np.isin(obs, self.binary)]
            rows = pattern.rows
            value = np.zeros(rows.size)
            if gaussian.size:
                chol = np.linalg.cholesky(cov[np.ix_(gaussian, gaussian)])
                z = np.linalg.solve(chol, resid[np.ix_(rows, gaussian)].T)
                value += -0.5 * (
                    gaussian.size * np.log(2.0 * np.pi) + 2.0 * np.log(np.diag(chol)).sum() + (z * z).sum(axis=0)
                )
            if binary.size:
                # the binary liabilities given the Gaussian traits: mean (rows x B'), covariance (B' x B')
                mean = state["y"][np.ix_(rows, binary)] - resid[np.ix_(rows, binary)]
                conditional = cov[np.ix_(binary, binary)]
                if gaussian.size:
                    coefficient = np.linalg.solve(cov[np.ix_(gaussian, gaussian)], cov[np.ix_(gaussian, binary)])
                    mean = mean + resid[np.ix_(rows, gaussian)] @ coefficient
                    conditional = conditional - cov[np.ix_(binary, gaussian)] @ coefficient
                sd = np.sqrt(np.diag(conditional))
                columns = np.searchsorted(self.binary, binary)
                # oriented so that each category is "below 0": P(c = 1) = Phi(m / sd), P(c = 0) = Phi(-m / sd)
                sign = np.where(state["category"][np.ix_(pattern.positions, columns)] == 1, 1.0, -1.0)
                z = sign * mean / sd
                if binary.size == 1:
                    value += log_interval_probability(np.full(rows.size, -np.inf), z[:, 0])
                else:
                    rho = conditional[0, 1] / (sd[0] * sd[1])
                    value += log_bivariate_normal_cdf(z[:, 0], z[:, 1], sign[:, 0] * sign[:, 1] * rho)
            out[pattern.positions] = value
        return out

    def variables(self) -> list[Variable]:
        return super().variables()

    def describe(self) -> dict:
        out = super().describe()
        fixed = {self.traits[b]: 1.0 for b in self.binary}
        out.update({"term": "Mixed", "family": self.families, "fixed": {"sigma2_e": fixed}})
        return out
