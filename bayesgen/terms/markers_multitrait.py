"""The several-trait part of a Markers term: marker effects as a (markers x traits) matrix."""

from __future__ import annotations

import numpy as np

from ..kernels.markers import marker_code_stats, weighted_cross_products
from ..kernels.markers_multitrait import genetic_values_multitrait, sweep_markers_multitrait
from ..priors.bayes_c import BayesCPrior
from ..priors.ridge import RidgePrior
from ..priors.ridge_multitrait import MultiTraitBayesCPrior, MultiTraitRidgePrior
from .base import BindContext, Variable

#: Marker priors available with several traits.
MULTITRAIT_MARKER_PRIORS = ("RidgePrior() or BayesCPrior(pi) with their default variance", "MultiTraitRidgePrior",
                            "MultiTraitBayesCPrior")


def multitrait_prior(prior, term_name: str) -> MultiTraitRidgePrior:
    """The multi-trait prior a Markers term uses with several traits, or an error naming what was passed."""
    if isinstance(prior, MultiTraitRidgePrior):
        return prior
    if isinstance(prior, (RidgePrior, BayesCPrior)):
        if prior.variance is None and prior.variance_prior is None:
            if isinstance(prior, RidgePrior):
                return MultiTraitRidgePrior()
            return MultiTraitBayesCPrior(pi=prior.inclusion.prior if prior.inclusion.sampled else prior.inclusion.value)
        raise ValueError(
            f"Markers {term_name!r} has several traits but {prior!r} sets a one-trait variance; pass "
            f"MultiTrait{type(prior).__name__}(covariance=...) with a t x t matrix or covariance prior instead.")
    raise ValueError(
        f"Markers {term_name!r}: with several traits the marker prior must be one of "
        f"{', '.join(MULTITRAIT_MARKER_PRIORS)}; got {type(prior).__name__}, which is for one trait only.")


class MultiTraitMarkers:
    r"""The state and full conditionals of a Markers term with t > 1 traits (used by ``Markers``).

    Effects A (markers x t), rows :math:`\alpha_j \sim N(0, \Sigma_\alpha)` (BRR) or spike and slab
    with one indicator per marker (BayesC). Per iteration: every :math:`\alpha_j` from its full
    conditional given R and the completed residuals (``sweep_markers_multitrait``), then the
    prior's hyperparameters (``MultiTraitRidgePrior.update``: :math:`\Sigma_\alpha`, and pi for BayesCpi).
    Records the effects (``alpha``, dims marker x trait), :math:`\Sigma_\alpha` (``sigma2_alpha``)
    when sampled, and the t x t covariance of the genomic values XA over the records with a
    phenotype (``sigma2_g``, its diagonal counting as genetic in ``h2``) with its correlations
    (``rho_g``). A term named other than "markers" gives ``alpha_<name>``, ``sigma2_<name>``,
    ``rho_<name>`` and ``sigma2_alpha_<name>``.
    """

    def __init__(self, term, context: BindContext):
        self.term = term
        self.prior = multitrait_prior(term.prior, term.name)
        term.prior = self.prior
        self.traits = list(context.traits)
        self.n_traits = context.n_traits
        # Records with any trait observed enter with all of them (the residual augments the rest).
        self._phenotyped = context.observed.any(axis=1)
        weights = self._phenotyped.astype(np.float64)
        n_obs = max(int(self._phenotyped.sum()), 1)
        sum_x, xx = weighted_cross_products(term.codes, term.lookup, weights)
        self._xx = xx  # x_j'Wx_j with the working weights (fixed once bound)
        var_x = xx / n_obs - (sum_x / n_obs) ** 2
        var_x[var_x <= 1e-10 * xx / n_obs] = 0.0
        sum_var_x = max(float(np.sum(var_x)), 1e-12)
        # BGLR's rule per trait: a priori the markers explain their share of Var(y_k), spread evenly.
        share = np.atleast_1d(np.asarray(context.default_share, dtype=np.float64))
        self.prior.bind_traits(share / sum_var_x, self.covariance_name)
        self.code_stats = marker_code_stats(term.codes)

    def _named(self, stem: str) -> str:
        return stem if self.term.name == "markers" else f"{stem}_{self.term.name}"

    @property
    def rho_name(self) -> str:
        return "rho_g" if self.term.name == "markers" else f"rho_{self.term.name}"

    @property
    def covariance_name(self) -> str:
        return self._named("sigma2_alpha")

    def variables(self) -> list[Variable]:
        term = self.term
        coords = {term.marker_dim: term.genotypes.markers, "trait": self.traits}
        mat = {"trait_row": self.traits, "trait_col": self.traits}
        out = [Variable(term.effect_name, (term.marker_dim, "trait"), coords, high_dimensional=True,
                        inclusion=self.prior.spike_and_slab),
               Variable(term.variance_name, ("trait_row", "trait_col"), mat),
               Variable(self.rho_name, ("trait_row", "trait_col"), mat)]
        if self.prior.samples_variance:
            out.append(Variable(self.covariance_name, ("trait_row", "trait_col"), mat))
        return out + [Variable(self._named(v.name), v.dims, v.coords, v.high_dimensional, v.group)
                      for v in self.prior.variables()]

    def init_state(self, rng) -> dict:
        n = self.term.codes.shape[1]
        return {"alpha": np.zeros((self.term.n_markers, self.n_traits)),
                "genetic_values": np.zeros((n, self.n_traits), order="F"),
                "prior": self.prior.init_state(rng, self.term.n_markers)}

    def draw_prior(self, rng, state) -> None:
        state["alpha"][:] = self.prior.draw_prior(rng, state["prior"], self.term.n_markers)
        self.fitted(state)

    def step(self, rng, state, ctx) -> dict:
        prior_state = state["prior"]
        n_included = sweep_markers_multitrait(
            rng, state["alpha"], self.term.codes, self.term.lookup, self._xx, ctx.resid,
            ctx.weights, state["genetic_values"], np.linalg.inv(ctx.residual_covariance),
            np.linalg.inv(prior_state["sigma2_alpha"]), code_stats=self.code_stats,
            log_prior_odds=self.prior.log_prior_odds(prior_state))
        self.prior.set_included(prior_state, n_included)
        self.prior.update(rng, state["alpha"], state["prior"])
        return {}

    def fitted(self, state) -> np.ndarray:
        # Recomputed from scratch (not the running sum), so it also resets rounding drift.
        state["genetic_values"][:] = genetic_values_multitrait(self.term.codes, self.term.lookup, state["alpha"])
        return state["genetic_values"].copy()

    def variance(self, state) -> np.ndarray:
        """Covariance (t x t, divisor n) of the genomic values over the records with a phenotype."""
        values = state["genetic_values"][self._phenotyped]
        centred = values - values.mean(axis=0)
        return centred.T @ centred / max(values.shape[0], 1)

    def log_prior(self, state) -> float:
        return self.prior.log_prior(state["prior"])

    def record(self, state) -> dict:
        cov = self.variance(state)
        sd = np.sqrt(np.diag(cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            rho = cov / np.outer(sd, sd)
        out = {self.term.effect_name: state["alpha"].copy(), self.term.variance_name: cov, self.rho_name: rho}
        if self.prior.samples_variance:
            out[self.covariance_name] = state["prior"]["sigma2_alpha"].copy()
        for key, value in self.prior.record(state["prior"]).items():
            out[self._named(key)] = value
        return out
