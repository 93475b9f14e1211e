"""Marker (SNP) effects under a Bayesian-alphabet prior, swept over int8 genotypes."""

from __future__ import annotations

import numpy as np

from .._validation import normalize_ids, require_columns
from ..data.genotypes import Genotypes
from ..kernels.markers import genetic_values_from_codes, sweep_markers_gaussian, weighted_cross_products
from ..priors.bayes_a import BayesAPrior
from .base import BindContext, Term, Variable


class Markers(Term):
    r"""Marker effects :math:`W\alpha` of genotyped individuals.

    Parameters
    ----------
    column : str
        Column of the data with each record's individual id (must be in ``genotypes``).
    genotypes : Genotypes
    prior : marker prior, default ``BayesAPrior()``
        Updates the per-marker prior variances between sweeps; the sweep itself
        (``sweep_markers_gaussian``) is the same for every Gaussian prior.

    Genotypes are centred by twice the allele frequency over all genotyped individuals.
    Recorded: ``alpha`` (dim ``marker``), ``sigma2_g`` = variance of the genomic values
    :math:`W\alpha` over the records with a phenotype (as BGLR), and the prior's own
    parameters (``scale`` for BayesA with a sampled scale). Counts as genetic in ``h2``.
    """

    genetic = True

    def __init__(self, column: str, genotypes: Genotypes, prior=None, name: str = "markers"):
        if not isinstance(genotypes, Genotypes):
            raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
        self.column = column
        self.genotypes = genotypes
        self.prior = prior if prior is not None else BayesAPrior()
        self.name = name

    def bind(self, context: BindContext) -> None:
        require_columns(context.frame, [self.column], "data")
        ids = normalize_ids(context.frame[self.column].tolist(), f"Column {self.column!r}")
        rows = self.genotypes.index(ids)
        self.codes = np.ascontiguousarray(self.genotypes.codes[:, rows])  # int8, markers x records
        self.lookup = self.genotypes.centred_lookup()
        self._weights = context.weights
        self._observed = context.observed
        sum_x, self.xx = weighted_cross_products(self.codes, self.lookup, self._weights)
        n_obs = context.observed.sum()
        sum_var_x = float(np.sum(self.xx / n_obs - (sum_x / n_obs) ** 2))
        # BGLR's rule: a priori the markers explain their share of Var(y), spread evenly.
        self.prior.set_default_scale(context.default_share / max(sum_var_x, 1e-12))

    @property
    def n_markers(self) -> int:
        return self.codes.shape[0]

    def variables(self) -> list[Variable]:
        markers = {"marker": self.genotypes.markers}
        return [Variable("alpha", ("marker",), markers, high_dimensional=True), Variable("sigma2_g")] + list(
            self.prior.variables()
        )

    def init_state(self, rng) -> dict:
        state = {"alpha": np.zeros(self.n_markers), "genetic_values": np.zeros(self.codes.shape[1])}
        state["prior"] = self.prior.init_state(rng, self.n_markers)
        return state

    def step(self, rng, state, resid, sigma2_e) -> dict:
        sweep_markers_gaussian(
            rng, state["alpha"], state["prior"]["var_alpha"], self.codes, self.lookup, self.xx, resid,
            self._weights, state["genetic_values"], sigma2_e,
        )
        self.prior.update(rng, state["alpha"], state["prior"])
        return state

    def fitted(self, state) -> np.ndarray:
        # Recomputed from scratch (not the running sum), so it also resets rounding drift.
        state["genetic_values"][:] = genetic_values_from_codes(self.codes, self.lookup, state["alpha"])
        return state["genetic_values"].copy()

    def variance(self, state) -> float:
        return float(np.var(state["genetic_values"][self._observed]))

    def record(self, state, resid) -> dict:
        out = {"alpha": state["alpha"].copy(), "sigma2_g": self.variance(state)}
        out.update(self.prior.record(state["prior"]))
        return out

    def priors(self) -> dict:
        return {"alpha": self.prior.to_dict()}

    def describe(self) -> dict:
        return {
            "term": "Markers",
            "name": self.name,
            "column": self.column,
            "markers": self.n_markers,
            "prior": self.prior.to_dict(),
        }
