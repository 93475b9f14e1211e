r"""Single-step evaluations: one breeding value per pedigree animal, genotyped or not.

``SingleStep(column, pedigree, genotypes, method="ssgblup")`` is ssGBLUP: the animal model with
:math:`u \sim N(0, \sigma^2_a H)`, sampled through
:math:`H^{-1} = A^{-1} + [0\;0;\;0\;\;\tau G_w^{-1} - \omega A_{22}^{-1}]`
(``bayesgen.data.single_step``). ``method="bayes"`` is single-step Bayesian regression
(``bayesgen.terms.single_step_bayes``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from .._validation import preview
from ..data._genotype_kernels import centred_block
from ..data.genotypes import Genotypes
from ..data.pedigree import Pedigree
from ..data.single_step import SingleStepRelationships
from .animal import AnimalNames, pedigree_levels
from .base import GenotypeConditional, Term
from .random import Random

#: Markers decoded to floating point at once when relating new genotyped animals to the fitted ones.
PANEL = 512

#: The single-step routes.
METHODS = ("ssgblup", "bayes")


def SingleStep(column: str, pedigree: Pedigree, genotypes: Genotypes, method: str = "ssgblup", **options: Any) -> Term:
    r"""Breeding values of every pedigree animal from the pedigree and the genotypes of some of them.

    ``bg.SingleStep(column, pedigree, genotypes, method="ssgblup" | "bayes", prior=None, ...)``
    builds :class:`SingleStepGBLUP` (a location term with precision H⁻¹) or
    :class:`bayesgen.terms.single_step_bayes.SingleStepBayes` (marker effects on observed and
    imputed genotypes plus the imputation residual); ``options`` are those classes' other
    arguments (see them).
    """
    if method not in METHODS:
        raise ValueError(f"SingleStep method must be one of {', '.join(map(repr, METHODS))}, got {method!r}.")
    if method == "bayes":
        from .single_step_bayes import SingleStepBayes

        return SingleStepBayes(column, pedigree, genotypes, method=method, **options)
    return SingleStepGBLUP(column, pedigree, genotypes, method=method, **options)


class SingleStepGBLUP(AnimalNames, Random):
    r"""ssGBLUP: :math:`u \sim N(0, \sigma^2_a H)` for every animal of the pedigree.

    Parameters
    ----------
    column : str
        Column of the data with each record's animal id (every id must be in the pedigree).
    pedigree : Pedigree
        Every animal, genotyped or not (genotyped animals without known parents as founders).
    genotypes : Genotypes
        Genotypes of some animals of the pedigree (ids absent from the pedigree are an error).
        G is VanRaden's (``bayesgen.grm``), centred on ``genotypes.centre`` (twice the allele
        frequencies of all its individuals, unless given otherwise).
    method : "ssgblup"
    prior : VariancePrior, float or None
        Prior on :math:`\sigma^2_a` (a number fixes it; None the default prior).
    blend : float in [0, 1], default 0.05
        :math:`G_w = (1 - w)G^* + wA_{22}` (BLUPF90's default ``AlphaBeta 0.95 0.05``).
    tune : "mean" or None, default "mean"
        ``"mean"``: :math:`G^* = a + bG` with the mean diagonal and the mean off-diagonal of A₂₂
        (BLUPF90 ``TunedG=2``); None: :math:`G^* = G`. Tuning comes before blending.
    tau, omega : float, default 1
        The weights of :math:`G_w^{-1}` and :math:`A_{22}^{-1}` in H⁻¹ (BLUPF90's ``TauOmega``).
    name, expand
        As :class:`bayesgen.Animal`: the default ``name="animal"`` records ``u`` (dim ``animal``,
        every pedigree animal) and ``sigma2_a``.

    The sampled precision is H⁻¹ (sorted CSR): sparse :math:`A^{-1}` plus a dense
    :math:`n_g \times n_g` block, so it holds :math:`n_g^2` more entries (12 bytes each) than A⁻¹.
    Every location sampler works with it: the joint and collapsed blocks factorise C whose
    genotyped block is dense (:math:`O(n_g^3)` per factorisation); the single-site sweep
    (``sampler="single-site"``) costs :math:`O(\mathrm{nnz}(A^{-1}) + n_g^2)` per iteration,
    the route for large pedigrees. ``relationships`` holds A₂₂⁻¹, G_w, :math:`G_w^{-1}` and the
    tuning (a, b) (``bayesgen.data.single_step.SingleStepRelationships``).
    """

    genetic = True
    level_word = "animal ids"
    call_prefix = "SingleStep(column, pedigree, genotypes"
    method = "ssgblup"

    def __init__(
        self,
        column: str,
        pedigree: Pedigree,
        genotypes: Genotypes,
        method: str = "ssgblup",
        prior=None,
        name: str = "animal",
        expand: bool = True,
        blend: float = 0.05,
        tune: str | None = "mean",
        tau: float = 1.0,
        omega: float = 1.0,
    ):
        if method != "ssgblup":
            raise ValueError(f"SingleStepGBLUP is method='ssgblup', got {method!r}.")
        super().__init__(column, prior=prior, name=name, expand=expand)
        self.pedigree = pedigree
        self.genotypes = genotypes
        self.relationships = SingleStepRelationships(pedigree, genotypes, blend=blend, tune=tune, tau=tau, omega=omega)
        self._h_inverse = self.relationships.h_inverse()

    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        levels, _ = pedigree_levels(self.pedigree, self.column, record_levels)
        return levels, self._h_inverse

    def describe(self) -> dict:
        out = super().describe()
        out.update(method=self.method, **self.relationships.describe())
        return out

    def copy_for_binding(self):
        """A copy for binding that shares the (read-only) relationships and H⁻¹ instead of copying them."""
        relationships, h_inverse = self.relationships, self._h_inverse
        del self.relationships, self._h_inverse
        try:
            out = super().copy_for_binding()
        finally:
            self.relationships, self._h_inverse = relationships, h_inverse
        out.relationships, out._h_inverse = relationships, h_inverse
        return out

    @property
    def predicts_from_genotypes(self) -> bool:
        return True

    def genotype_conditional(self, genotypes: Genotypes, pedigree: Pedigree) -> GenotypeConditional:
        r"""New genotyped animals given the genotyped animals' values: :math:`u_x \mid u_g \sim
        N(W u_g, S \otimes \Sigma)`, with G_w extended by their rows
        (``SingleStepRelationships.new_genotyped_conditional``).

        ``genotypes`` holds the new animals (every marker of the fit); ``pedigree`` is the fitted one
        extended by them (their parents, if known: for the blend with A). Exact under H when each new
        animal's known parents are genotyped: otherwise what its genotypes tell about its ungenotyped
        relatives is left out, as in BLUPF90's indirect predictions.
        """
        if self.relationships.tau != 1.0 or self.relationships.omega != 1.0:
            raise ValueError(
                "predict(genotypes=...) with ssGBLUP needs tau = omega = 1 (then the genotyped animals' "
                f"covariance is G_w); this term has tau={self.relationships.tau}, omega={self.relationships.omega}."
            )
        fitted = self.genotypes
        position = {m: k for k, m in enumerate(genotypes.markers)}
        missing = [m for m in fitted.markers if m not in position]
        if missing:
            raise ValueError(
                f"Markers of the fitted model absent from the new genotypes: {preview(missing)} "
                "(build new genotypes with drop_monomorphic=False)."
            )
        rows = np.array([position[m] for m in fitted.markers])
        lookup = fitted.centred_lookup()
        genotyped_ids = self.genotyped_ids
        columns = fitted.index(genotyped_ids)
        frequency = fitted.centre / 2.0
        scale = 2.0 * float(np.sum(frequency * (1.0 - frequency)))
        m, n_g = genotypes.n_individuals, columns.size
        cross, among = np.zeros((m, n_g)), np.zeros((m, m))
        for start in range(0, fitted.n_markers, PANEL):
            stop = min(start + PANEL, fitted.n_markers)
            new = np.take_along_axis(
                lookup[start:stop], genotypes.marker_codes(rows[start:stop]).astype(np.intp), axis=1
            )  # panel x m
            old = np.empty((stop - start, n_g))
            centred_block(fitted.stored_codes, lookup, start, columns, old, fitted.n_individuals)
            cross += new.T @ old
            among += new.T @ new
        a_cross = a_new = None
        if self.relationships.blend > 0:
            new_ids = list(genotypes.ids)
            a = pedigree.relationship(list(genotyped_ids) + new_ids).to_numpy()
            a_cross, a_new = a[n_g:, :n_g], a[n_g:, n_g:]
        weights, conditional = self.relationships.new_genotyped_conditional(
            cross / scale, among / scale, a_cross, a_new
        )
        return GenotypeConditional(genotyped_ids, weights, conditional, self.variance_name)

    @property
    def genotyped_ids(self) -> list:
        return [self.pedigree.ids[k] for k in self.relationships.blocks.genotyped]
