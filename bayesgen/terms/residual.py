"""The residual: the working response, its (co)variance, the pointwise log-likelihood and
predictions of missing records."""

from __future__ import annotations

import numpy as np

from .._validation import preview
from ..priors.defaults import variance_prior_for
from ..priors.inverse_wishart import InverseWishart
from ..priors.scaled_inv_chi2 import as_variance_prior
from .base import BindContext, StepContext, Term, Variable


class Residual(Term):
    r"""Residuals :math:`e_r \sim N(0, R)` of the records, R a t x t covariance (:math:`\sigma^2_e` for t = 1).

    The residual term owns the working response: per chain, ``state["y"]`` holds the
    phenotypes (records x traits) with 0 where a phenotype is missing. Records with a
    missing phenotype stay in the model with weight 0: they inform no parameter, and their
    linear predictor :math:`\mu_i` is tracked as ``-resid[i]``. Each kept draw records
    ``sigma2_e`` (t = 1) or the matrix ``sigma2_e`` and correlations ``rho_e`` (t > 1,
    dims ``trait_row``, ``trait_col``); the pointwise log-likelihood of every observed
    record (group ``log_likelihood``, dim ``record``); and for records with a missing
    phenotype their linear predictor ``mu`` and a posterior predictive draw ``y = mu + e``
    (group ``predictions``, dim ``missing_record``; t = 1).

    Full conditional, n observed records with residual vectors :math:`e_r`:
    :math:`R \mid e \sim` the prior's conjugate update with :math:`SS = \sum_r e_r e_r'`,
    i.e. :math:`\text{Scale-inv-}\chi^2(\nu + n, (\nu S^2 + e'e)/(\nu + n))` for t = 1 and
    :math:`IW(\nu + n, S + E'E)` for t > 1. With several traits a record must have all of
    its traits observed or none (missing-trait augmentation comes with multi-trait models).
    """

    name = "residual"
    has_variance = False

    def __init__(self, variance=None, posterior_predictive: bool = False):
        self.variance_prior_arg = variance
        self.posterior_predictive = posterior_predictive

    def bind(self, context: BindContext, share=None, y=None) -> None:
        observed = context.observed
        t = context.n_traits
        self.n_traits = t
        self.traits = list(context.traits)
        some = observed.any(axis=1)
        if t > 1:
            partial = some & ~observed.all(axis=1)
            if partial.any():
                labels = list(context.frame.index[partial])
                raise ValueError(
                    f"Records {preview(labels)} have some traits observed and others missing; multi-trait "
                    "models need each record complete or entirely missing for now."
                )
        self._observed_rows = np.flatnonzero(some)
        self._missing_rows = np.flatnonzero(~some)
        self.n_observed = int(some.sum())
        labels = list(context.frame.index)
        self.record_labels = [labels[i] for i in self._observed_rows]
        self.missing_labels = [labels[i] for i in self._missing_rows]
        share = np.asarray(context.phenotypic_variance) * 0.5 if share is None else np.asarray(share)
        if t == 1:
            default = variance_prior_for(context.prior_rule, float(share.reshape(-1)[0]),
                                         float(context.phenotypic_sd[0]))
        else:
            default = InverseWishart(t + 3.0, np.diag(share) * (2.0 * t + 4.0))  # mode diag(share)
        self.prior = as_variance_prior(self.variance_prior_arg, default, "sigma2_e")
        self.prior.check_dim(t, "sigma2_e")
        self._start = np.diag(np.atleast_1d(share).astype(float))
        self._y = np.asfortranarray(np.where(observed, y, 0.0)) if y is not None else None
        self.posterior_predictive = self.posterior_predictive and t == 1

    def variables(self) -> list[Variable]:
        if self.n_traits == 1:
            out = [Variable("sigma2_e")]
        else:
            coords = {"trait_row": self.traits, "trait_col": self.traits}
            out = [Variable("sigma2_e", ("trait_row", "trait_col"), coords),
                   Variable("rho_e", ("trait_row", "trait_col"), coords)]
        out.append(Variable("y", ("record",), {"record": self.record_labels}, high_dimensional=True,
                            group="log_likelihood"))
        if self.posterior_predictive:
            out.append(Variable("y", ("record",), {"record": self.record_labels}, high_dimensional=True,
                                group="posterior_predictive"))
        if self.missing_labels and self.n_traits == 1:
            coords = {"missing_record": self.missing_labels}
            out += [
                Variable("mu", ("missing_record",), coords, high_dimensional=True, group="predictions"),
                Variable("y", ("missing_record",), coords, high_dimensional=True, group="predictions"),
            ]
        return out

    def init_state(self, rng) -> dict:
        cov = self.prior.initial_value(self._start)
        if self.prior.sampled:
            cov = cov * rng.uniform(0.5, 2.0)
        state = {"sigma2_e": cov, "y": self._y.copy(order="F"), "noise": np.zeros(self._missing_rows.size),
                 "prior_aux": self.prior.init_aux(rng)}
        if self.posterior_predictive:
            state["replicate"] = np.zeros(self._observed_rows.size)
        return state

    def draw_prior(self, rng, state) -> None:
        state["sigma2_e"][:] = self.prior.draw_prior(rng, state["prior_aux"])

    def simulate_response(self, rng, state, linear_predictor) -> None:
        """Replace the observed phenotypes in ``state["y"]`` by draws of N(linear predictor, R)."""
        rows = self._observed_rows
        chol = np.linalg.cholesky(state["sigma2_e"])
        noise = rng.standard_normal((rows.size, self.n_traits)) @ chol.T
        state["y"][rows] = linear_predictor[rows] + noise

    def step(self, rng, state, ctx: StepContext) -> dict:
        e = ctx.resid[self._observed_rows]
        state["sigma2_e"][:] = self.prior.draw_posterior(rng, e.T @ e, self.n_observed, state["prior_aux"])
        ctx.residual_covariance[:] = state["sigma2_e"]
        self.draw_noise(rng, state)
        return {}

    def draw_noise(self, rng, state) -> None:
        """Residual draws for the predictions of missing records and the replicated phenotypes."""
        if state["noise"].size:
            state["noise"][:] = np.sqrt(state["sigma2_e"][0, 0]) * rng.standard_normal(state["noise"].size)
        if "replicate" in state:
            state["replicate"][:] = np.sqrt(state["sigma2_e"][0, 0]) * rng.standard_normal(state["replicate"].size)

    def fitted(self, state) -> np.ndarray:
        return np.zeros_like(self._y)

    def record(self, state, ctx: StepContext) -> dict:
        cov = state["sigma2_e"]
        if self.n_traits == 1:
            out = {"sigma2_e": cov[0, 0]}
            if state["noise"].size:
                mu = -ctx.resid[self._missing_rows, 0]
                out[("predictions", "mu")] = mu
                out[("predictions", "y")] = mu + state["noise"]
            if "replicate" in state:
                out[("posterior_predictive", "y")] = self._y[self._observed_rows, 0] - ctx.resid[
                    self._observed_rows, 0] + state["replicate"]
            return out
        sd = np.sqrt(np.diag(cov))
        return {"sigma2_e": cov.copy(), "rho_e": cov / np.outer(sd, sd)}

    def log_likelihood(self, state, ctx: StepContext, integrated=None) -> np.ndarray:
        r"""Pointwise log-likelihood of the observed records.

        :math:`\log N(y_r \mid \mu_r, \sigma^2_e)`, or with ``integrated = (shift, extra)``
        (from ``bayesgen.model.pointwise``) :math:`\log N(e_r + s_r \mid 0, \sigma^2_e + v_r)`:
        the record's random effects integrated out given the other records. With t traits,
        the multivariate normal density of each record's vector.
        """
        cov = state["sigma2_e"]
        rows = self._observed_rows
        e = ctx.resid[rows]
        if self.n_traits == 1:
            r = e[:, 0].copy()
            variance = np.full(r.size, cov[0, 0])
            if integrated is not None:
                r += integrated[0][rows]
                variance += integrated[1][rows]
            return -0.5 * (np.log(2.0 * np.pi * variance) + r * r / variance)
        chol = np.linalg.cholesky(cov)
        z = np.linalg.solve(chol, e.T)  # t x n whitened residuals
        logdet = 2.0 * np.log(np.diag(chol)).sum()
        return -0.5 * (self.n_traits * np.log(2.0 * np.pi) + logdet + (z * z).sum(axis=0))

    def variance(self, state):
        return state["sigma2_e"]

    def log_prior(self, state) -> float:
        return self.prior.log_density(state["sigma2_e"]) if self.prior.sampled else 0.0

    def priors(self) -> dict:
        return {"sigma2_e": self.prior.to_dict()}

    def describe(self) -> dict:
        return {"term": "Residual", "name": "residual", "prior": self.prior.to_dict()}
