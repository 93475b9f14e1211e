"""The residual: its variance, the pointwise log-likelihood and predictions of missing records."""

from __future__ import annotations

import numpy as np

from ..priors.defaults import default_variance_prior
from ..priors.scaled_inv_chi2 import as_variance_prior
from .base import BindContext, Term, Variable


class Residual(Term):
    r"""Residuals :math:`e \sim N(0, \sigma^2_e I)` of the records with a phenotype.

    Records with a missing phenotype stay in the model with weight 0: they do not
    inform any parameter, and their linear predictor :math:`\mu_i` is tracked as
    ``-resid[i]`` (the working phenotype of a missing record is 0). Each kept draw
    records ``sigma2_e``; the pointwise log-likelihood :math:`\log N(y_i \mid \mu_i, \sigma^2_e)`
    of every observed record (group ``log_likelihood``, dim ``record``); and for missing
    records their linear predictor ``mu`` and a posterior predictive draw
    ``y = mu + e`` (group ``predictions``, dim ``missing_record``).

    Full conditional: :math:`\sigma^2_e \mid e \sim \text{Scale-inv-}\chi^2(\nu + n, (\nu S^2 + e'We)/(\nu + n))`
    with n the number of observed records.
    """

    name = "residual"
    has_variance = False

    def __init__(self, variance=None):
        self.variance_prior_arg = variance

    def bind(self, context: BindContext, share: float | None = None) -> None:
        observed = context.observed
        self._observed = observed
        self._missing = ~observed
        self._weights = context.weights
        self.n_observed = int(observed.sum())
        labels = list(context.frame.index)
        self.record_labels = [labels[i] for i in np.flatnonzero(observed)]
        self.missing_labels = [labels[i] for i in np.flatnonzero(~observed)]
        share = context.phenotypic_variance * 0.5 if share is None else share
        self.prior = as_variance_prior(self.variance_prior_arg, default_variance_prior(share), "sigma2_e")
        self._start = share

    def variables(self) -> list[Variable]:
        out = [
            Variable("sigma2_e"),
            Variable("y", ("record",), {"record": self.record_labels}, high_dimensional=True, group="log_likelihood"),
        ]
        if self.missing_labels:
            coords = {"missing_record": self.missing_labels}
            out += [
                Variable("mu", ("missing_record",), coords, high_dimensional=True, group="predictions"),
                Variable("y", ("missing_record",), coords, high_dimensional=True, group="predictions"),
            ]
        return out

    def init_state(self, rng) -> dict:
        sigma2 = self.prior.initial_value(self._start)
        if self.prior.sampled:
            sigma2 *= rng.uniform(0.5, 2.0)
        return {"sigma2_e": np.array([sigma2]), "noise": np.zeros(int(self._missing.sum()))}

    def step(self, rng, state, resid, sigma2_e) -> dict:
        r = resid[self._observed]
        state["sigma2_e"][0] = self.prior.draw_posterior(rng, float(r @ r), self.n_observed)
        if state["noise"].size:
            state["noise"][:] = np.sqrt(state["sigma2_e"][0]) * rng.standard_normal(state["noise"].size)
        return state

    def fitted(self, state) -> np.ndarray:
        return np.zeros(self._observed.size)

    def record(self, state, resid) -> dict:
        sigma2_e = state["sigma2_e"][0]
        r = resid[self._observed]
        out = {
            "sigma2_e": sigma2_e,
            ("log_likelihood", "y"): -0.5 * (np.log(2.0 * np.pi * sigma2_e) + r * r / sigma2_e),
        }
        if state["noise"].size:
            mu = -resid[self._missing]
            out[("predictions", "mu")] = mu
            out[("predictions", "y")] = mu + state["noise"]
        return out

    def variance(self, state) -> float:
        return float(state["sigma2_e"][0])

    def priors(self) -> dict:
        return {"sigma2_e": self.prior.to_dict()}

    def describe(self) -> dict:
        return {"term": "Residual", "name": "residual", "prior": self.prior.to_dict()}
