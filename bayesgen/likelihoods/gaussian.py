"""The Gaussian likelihood: the working response, its (co)variance, missing-trait augmentation,
the pointwise log-likelihood and predictions of missing records."""

from __future__ import annotations

import numpy as np

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from ..priors.defaults import resolve_prior
from ..sampler.context import StepContext
from ..terms.base import BindContext
from ..variable import Variable
from .base import Likelihood


class Gaussian(Likelihood):
    r"""Gaussian traits: residuals :math:`e_r \sim N(0, R)` of the records, R a t x t covariance (:math:`\sigma^2_e` for t = 1).

    The likelihood owns the working response: per chain, ``state["y"]`` holds the
    phenotypes (records x traits). Records missing every trait stay in the model with
    weight 0: they inform no parameter, and their linear predictor :math:`\mu_i` is tracked
    as ``-resid[i]`` (exact, and cheaper than drawing them: nothing depends on them).

    **Missing-trait augmentation** (t > 1). A record with some traits observed (o) and
    others missing (m) gets weight 1 on every trait, its missing traits being part of the
    working response: each iteration they are drawn from their full conditional given the
    linear predictor :math:`\mu_r` and the observed traits,

    .. math:: y_{r,m} \mid \cdot \sim N\big(\mu_{r,m} + R_{mo}R_{oo}^{-1}(y_{r,o} - \mu_{r,o}),\;
              R_{mm} - R_{mo}R_{oo}^{-1}R_{om}\big)

    (data augmentation, as in JWAS and MCMCglmm). Every other conditional then sees
    complete records, and integrating the augmented traits out gives back the posterior
    given the observed traits only. Records are grouped by missingness pattern at bind time,
    so an iteration costs one t x t factorisation per pattern and one vectorised draw per
    record. Any pattern is allowed, down to one observed trait per record.

    Each kept draw records ``sigma2_e`` (t = 1) or the matrix ``sigma2_e`` and correlations
    ``rho_e`` (t > 1, dims ``trait_row``, ``trait_col``); the pointwise log-likelihood of
    every record with an observed trait (group ``log_likelihood``, dim ``record``; with t
    traits the density of its observed traits only, :math:`\log N(y_{r,o} \mid \mu_{r,o}, R_{oo})`,
    the augmented ones integrated out); and for records with a missing phenotype their
    linear predictor ``mu`` and a posterior predictive draw ``y`` (group ``predictions``,
    dim ``missing_record``, and ``trait`` for t > 1: there ``y`` holds the observed traits
    as they are and the augmented draw of the missing ones, or :math:`\mu_r + e_r`,
    :math:`e_r \sim N(0, R)`, for a record missing every trait).

    Full conditional, n records with an observed trait and (augmented) residual vectors
    :math:`e_r`: :math:`R \mid e \sim` the prior's conjugate update with :math:`SS = \sum_r e_r e_r'`,
    i.e. :math:`\text{Scale-inv-}\chi^2(\nu + n, (\nu S^2 + e'e)/(\nu + n))` for t = 1 and
    :math:`IW(\nu + n, S + E'E)` for t > 1 (given the auxiliary scales for the default
    half-t-marginal prior, see :class:`bayesgen.ScaledInverseWishart`).
    """

    family = "gaussian"
    cv_columns = ("accuracy", "slope", "mse")

    @renamed_arguments(variance="prior")
    def __init__(self, prior: PriorArg = None, posterior_predictive: bool = False):
        self.variance_prior_arg = prior
        self.posterior_predictive = posterior_predictive

    def bind(self, context: BindContext, share=None, y=None) -> None:
        observed = np.asarray(context.observed, dtype=bool)
        t = context.n_traits
        self.n_traits = t
        self.traits = list(context.traits)
        some = observed.any(axis=1)
        self.observed_rows = np.flatnonzero(some)
        # t = 1: records without the phenotype; t > 1: records missing any trait.
        self._missing_rows = np.flatnonzero(~observed.all(axis=1))
        self._unobserved_rows = np.flatnonzero(~some)  # missing every trait: weight 0, never augmented
        self.n_observed = int(some.sum())
        labels = list(context.frame.index)
        self.record_labels = [labels[i] for i in self.observed_rows]
        self.missing_labels = [labels[i] for i in self._missing_rows]
        self._patterns = _missingness_patterns(observed, self.observed_rows)
        share = np.asarray(context.phenotypic_variance) * 0.5 if share is None else np.asarray(share)
        share = np.atleast_1d(share).astype(float)
        self.prior = resolve_prior(
            self.variance_prior_arg, context.prior_rule, share, context.phenotypic_sd, "sigma2_e"
        )
        self._start = np.diag(share)
        if y is not None:
            y = np.asarray(y, dtype=np.float64).reshape(observed.shape)
            start = np.where(observed, y, 0.0)
            if t > 1:
                # Augmented traits start at their trait's observed mean (records with an observed trait).
                means = np.array([y[observed[:, k], k].mean() for k in range(t)])
                fill = observed.any(axis=1, keepdims=True) & ~observed
                start = np.where(fill, means[None, :], start)
            self._y = np.asfortranarray(start)
        else:
            self._y = None
        # which traits each observed record has (the replicated phenotypes' NaN pattern)
        self._observed_traits = observed[self.observed_rows]

    @property
    def augments(self) -> bool:
        """Whether some record has traits to augment (observed in some traits, missing in others)."""
        return any(p.missing.size for p in self._patterns)

    def variables(self) -> list[Variable]:
        if self.n_traits == 1:
            out = [Variable("sigma2_e")]
        else:
            coords = {"trait_row": self.traits, "trait_col": self.traits}
            out = [
                Variable("sigma2_e", ("trait_row", "trait_col"), coords),
                Variable("rho_e", ("trait_row", "trait_col"), coords),
            ]
        out += self.record_variables()
        if self.missing_labels:
            coords = {"missing_record": self.missing_labels}
            dims = ("missing_record",)
            if self.n_traits > 1:
                coords["trait"] = self.traits
                dims = ("missing_record", "trait")
            out += [
                Variable("mu", dims, coords, high_dimensional=True, group="predictions"),
                Variable("y", dims, coords, high_dimensional=True, group="predictions"),
            ]
        return out

    def init_state(self, rng) -> dict:
        cov = self.prior.initial_value(self._start)
        if self.prior.sampled:
            cov = cov * rng.uniform(0.5, 2.0)
        noise_rows = self._missing_rows if self.n_traits == 1 else self._unobserved_rows
        state = {
            "sigma2_e": cov,
            "y": self._y.copy(order="F"),
            "noise": np.zeros((noise_rows.size, self.n_traits)),
            "prior_aux": self.prior.init_aux(rng),
        }
        if self.posterior_predictive:
            shape = self.observed_rows.size if self.n_traits == 1 else (self.observed_rows.size, self.n_traits)
            state["replicate"] = np.zeros(shape)
        return state

    def draw_prior(self, rng, state) -> None:
        state["sigma2_e"][:] = self.prior.draw_prior(rng, state["prior_aux"])

    def simulate_response(self, rng, state, linear_predictor) -> None:
        r"""Draw the observed phenotypes in ``state["y"]`` given the parameters.

        Complete records: :math:`y_r \sim N(\mu_r, R)`. Records with augmented traits: their
        observed traits given the current augmented ones,
        :math:`y_{r,o} \sim N(\mu_{r,o} + R_{om}R_{mm}^{-1}(y_{r,m} - \mu_{r,m}), R_{oo} - R_{om}R_{mm}^{-1}R_{mo})`,
        so that the joint-distribution tests also check the augmentation step.
        """
        cov = state["sigma2_e"]
        y = state["y"]
        for pattern in self._patterns:
            rows = pattern.rows
            if pattern.missing.size == 0:
                chol = np.linalg.cholesky(cov)
                y[rows] = linear_predictor[rows] + rng.standard_normal((rows.size, self.n_traits)) @ chol.T
                continue
            given = y[pattern.at_missing] - linear_predictor[pattern.at_missing]
            drawn = _conditional_draw(rng, cov, given, pattern.missing, pattern.observed)
            y[pattern.at_observed] = linear_predictor[pattern.at_observed] + drawn

    def patterns(self) -> list:
        return self._patterns

    def covariance(self, state) -> np.ndarray:
        return state["sigma2_e"]

    def draw_covariance(self, rng, state, ctx: StepContext) -> None:
        e = ctx.resid[self.observed_rows]
        state["sigma2_e"][:] = self.prior.draw_posterior(rng, e.T @ e, self.n_observed, state["prior_aux"])

    def draw_noise(self, rng, state) -> None:
        """Residual draws for the predictions of missing records and the replicated phenotypes."""
        noise = state["noise"]
        replicate = state.get("replicate")
        several = replicate is not None and self.n_traits > 1
        chol = np.linalg.cholesky(state["sigma2_e"]) if noise.size or several else None
        if noise.size:
            noise[:] = rng.standard_normal(noise.shape) @ chol.T
        if several:
            replicate[:] = rng.standard_normal(replicate.shape) @ chol.T
        elif replicate is not None:
            replicate[:] = np.sqrt(state["sigma2_e"][0, 0]) * rng.standard_normal(replicate.size)

    def augment(self, rng, state, ctx: StepContext) -> None:
        """Draw every record's missing traits from their conditional (class docstring); keeps ``ctx.resid``."""
        self._draw_missing_traits(rng, state["sigma2_e"], state["y"], ctx.resid)

    def _draw_missing_traits(self, rng, cov: np.ndarray, y: np.ndarray, resid: np.ndarray) -> None:
        """Every record's missing traits given its observed ones (``augment``); updates ``y`` and
        ``resid`` (records x traits, all records)."""
        if not self.augments:
            return
        for pattern in self._patterns:
            if pattern.missing.size == 0:
                continue
            at_missing = pattern.at_missing
            new = _conditional_draw(rng, cov, resid[pattern.at_observed], pattern.observed, pattern.missing)
            # mu is unchanged, so y_m moves by as much as its residual e_m = y_m - mu_m.
            y[at_missing] += new - resid[at_missing]
            resid[at_missing] = new

    def record(self, state, ctx: StepContext) -> dict:
        cov = state["sigma2_e"]
        if self.n_traits == 1:
            out = {"sigma2_e": cov[0, 0]}
            if state["noise"].size:
                mu = -ctx.resid[self._missing_rows, 0]
                out[("predictions", "mu")] = mu
                out[("predictions", "y")] = mu + state["noise"][:, 0]
            if "replicate" in state:
                out[("posterior_predictive", "y")] = (
                    state["y"][self.observed_rows, 0] - ctx.resid[self.observed_rows, 0] + state["replicate"]
                )
            return out
        sd = np.sqrt(np.diag(cov))
        out = {"sigma2_e": cov.copy(), "rho_e": cov / np.outer(sd, sd)}
        if self._missing_rows.size:
            rows = self._missing_rows
            y = state["y"]
            mu = y[rows] - ctx.resid[rows]
            predicted = y[rows].copy()  # observed traits as they are, augmented ones as drawn
            unobserved = np.isin(rows, self._unobserved_rows)
            predicted[unobserved] = mu[unobserved] + state["noise"]
            out[("predictions", "mu")] = mu
            out[("predictions", "y")] = predicted
        if "replicate" in state:
            rows = self.observed_rows
            replicated = state["y"][rows] - ctx.resid[rows] + state["replicate"]
            out[("posterior_predictive", "y")] = np.where(self._observed_traits, replicated, np.nan)
        return out

    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Pointwise log-likelihood of the records with an observed phenotype.

        :math:`\log N(y_r \mid \mu_r, \sigma^2_e)`, or with ``integrated = (shift, extra)``
        (from ``bayesgen.model.pointwise``) :math:`\log N(e_r + s_r \mid 0, \sigma^2_e + v_r)`:
        the record's random effects integrated out given the other records. With t traits,
        the multivariate normal density of each record's observed traits,
        :math:`\log N(y_{r,o} \mid \mu_{r,o}, R_{oo})` (augmented traits integrated out, so
        that the values sum to the log-likelihood of the observed data); random effects are
        not integrated out there (``integrated`` must be None).
        """
        cov = state["sigma2_e"]
        rows = self.observed_rows
        if self.n_traits == 1:
            r = ctx.resid[rows, 0].copy()
            variance = np.full(r.size, cov[0, 0])
            if integrated is not None:
                r += integrated[0][rows]
                variance += integrated[1][rows]
            return -0.5 * (np.log(2.0 * np.pi * variance) + r * r / variance)
        if integrated is not None:
            raise NotImplementedError("The integrated pointwise log-likelihood is available for one trait only.")
        out = np.empty(self.n_observed)
        for pattern in self._patterns:
            obs = pattern.observed
            chol = np.linalg.cholesky(cov[np.ix_(obs, obs)])
            z = np.linalg.solve(chol, ctx.resid[pattern.at_observed].T)  # whitened, o x n
            logdet = 2.0 * np.log(np.diag(chol)).sum()
            out[pattern.positions] = -0.5 * (obs.size * np.log(2.0 * np.pi) + logdet + (z * z).sum(axis=0))
        return out

    def cv_scores(self, predicted: np.ndarray, observed: np.ndarray, trait: int = 0, **parameters) -> tuple:
        """Pearson r(yhat, y), slope of y on yhat and mean squared error of the posterior mean
        prediction yhat (NaN where undefined)."""
        mean = predicted.mean(axis=0)
        mse = float(np.mean((observed - mean) ** 2))
        if observed.size < 2:
            return np.nan, np.nan, mse
        dm, dy = mean - mean.mean(), observed - observed.mean()
        smm, syy, smy = float(dm @ dm), float(dy @ dy), float(dm @ dy)
        accuracy = smy / np.sqrt(smm * syy) if smm > 0 and syy > 0 else np.nan
        slope = smy / smm if smm > 0 else np.nan
        return accuracy, slope, mse

    def variance(self, state):
        return state["sigma2_e"]

    def log_prior(self, state) -> float:
        return self.prior.log_density(state["sigma2_e"]) if self.prior.sampled else 0.0

    def priors(self) -> dict:
        return {"sigma2_e": self.prior.to_dict()}

    def describe(self) -> dict:
        out = {"term": "Residual", "name": "residual", "prior": self.prior.to_dict()}
        if self.n_traits > 1:
            out["missingness_patterns"] = [
                {"observed": [self.traits[k] for k in p.observed], "records": int(p.rows.size)} for p in self._patterns
            ]
        return out


class _Pattern:
    """The records sharing one set of observed traits: their rows, their positions among the
    records with an observed trait (for the log-likelihood), and the observed and missing trait indices."""

    __slots__ = ("rows", "positions", "observed", "missing", "at_observed", "at_missing")

    def __init__(self, rows, positions, observed, missing):
        self.rows, self.positions, self.observed, self.missing = rows, positions, observed, missing
        self.at_observed = np.ix_(rows, observed)  # index (records x observed traits)
        self.at_missing = np.ix_(rows, missing)


def _missingness_patterns(observed: np.ndarray, observed_rows: np.ndarray) -> list[_Pattern]:
    """Group the records with an observed trait by their pattern of observed traits."""
    masks, inverse = np.unique(observed[observed_rows], axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    patterns = []
    for k, mask in enumerate(masks):
        positions = np.flatnonzero(inverse == k)
        patterns.append(_Pattern(observed_rows[positions], positions, np.flatnonzero(mask), np.flatnonzero(~mask)))
    return patterns


def _conditional_draw(
    rng, cov: np.ndarray, given: np.ndarray, given_idx: np.ndarray, drawn_idx: np.ndarray
) -> np.ndarray:
    r"""Rows of :math:`x_d \mid x_g \sim N(\Sigma_{dg}\Sigma_{gg}^{-1}x_g, \Sigma_{dd} - \Sigma_{dg}\Sigma_{gg}^{-1}\Sigma_{gd})`
    for zero-mean :math:`x \sim N(0, \Sigma)`, one per row of ``given`` (n x g); returns (n x d)."""
    s_gg = cov[np.ix_(given_idx, given_idx)]
    s_gd = cov[np.ix_(given_idx, drawn_idx)]
    coef = np.linalg.solve(s_gg, s_gd)  # g x d: Sigma_gg^-1 Sigma_gd
    conditional = cov[np.ix_(drawn_idx, drawn_idx)] - s_gd.T @ coef
    chol = np.linalg.cholesky(0.5 * (conditional + conditional.T))
    return given @ coef + rng.standard_normal((given.shape[0], drawn_idx.size)) @ chol.T
