"""The term protocol: what every part of the linear predictor provides to the driver.

A model is a list of terms (fixed effects, iid random effects, the animal effect, marker
effects) plus the residual. The driver knows nothing else about them. Per chain it calls
``init_state``; per iteration ``step(rng, state, ctx) -> info`` (after blackjax's
``step(rng_key, state) -> (state, info)``: the state's arrays are updated in place and
``info`` holds per-iteration statistics for the ``sample_stats`` group); ``fitted`` to
rebuild the residual; ``record`` to store the draws that ``variables`` declared. ``ctx`` is the
chain's ``bayesgen.sampler.context.StepContext``. Terms with Gaussian location effects also
implement the location protocol (``bayesgen.terms.location``).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..variable import Variable


@dataclass
class BindContext:
    """What a term needs to know about the records when it is attached to a model.

    ``frame`` holds one row per record (phenotypes missing or not); ``observed`` is the
    (records x traits) mask of observed phenotypes; ``default_share`` the (traits,)
    variance each random term's default prior is centred on (see
    ``bayesgen.priors.defaults``).
    """

    frame: pd.DataFrame
    observed: np.ndarray
    phenotypic_variance: np.ndarray
    default_share: np.ndarray
    traits: list = field(default_factory=lambda: ["y"])
    #: "default" (half-t on standard deviations) or "bglr" (see ``bayesgen.priors.defaults``).
    prior_rule: str = "default"

    @property
    def phenotypic_sd(self) -> np.ndarray:
        return np.sqrt(np.asarray(self.phenotypic_variance, dtype=float))

    @property
    def n_traits(self) -> int:
        return self.observed.shape[1]

    @property
    def weights(self) -> np.ndarray:
        """(records x traits) precision weights: 1 for an observed phenotype, 0 for a missing one."""
        return self.observed.astype(np.float64)


@dataclass(frozen=True)
class Inheritance:
    r"""A term whose values pass from parents to offspring as an animal model's do.

    Given the values u of the animals of ``pedigree`` and their covariance :math:`\Sigma`, an
    animal i added to the pedigree as a leaf (no records, no progeny) has
    :math:`u_i = (u_{sire} + u_{dam})/2 + m_i`, :math:`m_i \sim N(0, D_i\Sigma)`, D_i its Mendelian
    sampling factor (``Pedigree.mendelian_variances``; an unknown parent's value is 0).
    ``values`` names the posterior variable of u (its first dim: the pedigree's animals; a second
    dim, if any, indexes the rows of :math:`\Sigma`) and ``covariance`` that of :math:`\Sigma`.
    """

    pedigree: object
    values: str
    covariance: str


@dataclass(frozen=True)
class GenotypeConditional:
    r"""New genotyped animals x given the values :math:`u_g` of the fitted animals ``conditioning``
    (ids): :math:`u_x \mid u_g \sim N(W u_g, S \otimes \Sigma)`, :math:`\Sigma` recorded as ``covariance``.
    ``weights`` is W (x by conditioning animals), ``conditional`` is S (x by x)."""

    conditioning: list
    weights: np.ndarray
    conditional: np.ndarray
    covariance: str


class Term(ABC):
    """One additive part of the linear predictor, with its parameters and full conditionals."""

    #: Name used for recorded variables (``sigma2_<name>``, dim ``<name>_level``, ...).
    name: str
    #: Whether the term's variance counts as genetic in ``h2``.
    genetic: bool = False
    #: Whether the term has a variance component (and so a share of the default prior).
    has_variance: bool = True
    #: What ``Model.predict`` predicts from a genetic term: "levels" (the values of its levels:
    #: animals, a kernel's ids), "genotypes" (new individuals from their genotypes) or None.
    predicts: str | None = None
    #: The posterior variable of marker effects with which ``Model.predict(idata, genotypes=...)``
    #: predicts new genotyped individuals, or None: the term's first high-dimensional variable when it
    #: ``predicts`` "genotypes"; a term that predicts its levels may name one too (single-step regression).
    marker_effects: str | None = None

    def genomic_offset(self, idata) -> np.ndarray:
        """A constant per draw added to the genomic values of new genotyped individuals (0 unless a
        term says otherwise: single-step regression's :math:`J_g c`)."""
        return np.zeros(1)

    @property
    def predicts_from_genotypes(self) -> bool:
        """Whether ``Model.predict(idata, genotypes=...)`` can predict new genotyped individuals:
        by marker effects (``marker_effects``) or by relationships (``genotype_conditional``)."""
        return self.predicts == "genotypes" or self.marker_effects is not None

    def genotype_conditional(self, genotypes, pedigree) -> GenotypeConditional:
        """New genotyped animals given the fitted ones' values, for a term that predicts from
        genotypes by relationships instead of marker effects (ssGBLUP)."""
        raise NotImplementedError(f"{type(self).__name__} predicts no new genotyped animal by relationships.")

    def inheritance(self):
        """How the term's values pass from parents to offspring (an :class:`Inheritance`), for
        predicting animals born after the fit from their parents, or None (the default)."""
        return None

    @abstractmethod
    def bind(self, context: BindContext) -> None:
        """Attach the term to the records (design, incidence, default priors)."""

    @abstractmethod
    def variables(self) -> list[Variable]:
        """The quantities this term records per draw."""

    @abstractmethod
    def init_state(self, rng: np.random.Generator) -> dict:
        """Starting values; random where that helps chains start apart."""

    @abstractmethod
    def step(self, rng: np.random.Generator, state: dict, ctx) -> dict:
        """One Gibbs update of the term's parameters given ``ctx.resid``; returns ``info``.

        ``ctx.resid`` is kept consistent in place: effects are added back, redrawn, and
        subtracted.
        """

    @abstractmethod
    def fitted(self, state: dict) -> np.ndarray:
        """The term's contribution to the linear predictor: (records x traits)."""

    @abstractmethod
    def record(self, state: dict, ctx) -> dict:
        """Values of the declared variables for the current state."""

    def info_variables(self) -> list[Variable]:
        """Per-iteration statistics this term's ``step`` returns (group ``sample_stats``)."""
        return []

    def log_prior(self, state: dict) -> float:
        """Log density of the term's sampled hyperparameters under their priors (up to a constant).

        Summed over terms per draw into ``sample_stats.log_prior``, for prior-sensitivity
        diagnostics by power-scaling.
        """
        return 0.0

    def variance(self, state: dict):
        """The term's variance component, (traits x traits) or None for terms without one (for ``h2``)."""
        return None

    def genetic_variance(self, state: dict):
        """The part of ``variance`` that counts as genetic in ``h2`` (all of it unless a term says otherwise)."""
        return self.variance(state)

    def draw_prior(self, rng: np.random.Generator, state: dict) -> None:
        """Replace the parameters in ``state`` by a draw from the prior (joint-distribution tests).

        Needs proper priors. Terms that cannot do it raise ``NotImplementedError``.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot draw its parameters from the prior.")

    def group_action(self):
        """The action of the group move run after this term's update (``bayesgen.sampler.group_move``),
        or None (the default): e.g. a location term's effects and covariance, a marker prior's scale."""
        return None

    def scale_action(self):
        """What the scale move (``bayesgen.sampler.scale_move``) needs from this term when every
        effect and the working response scale by k and every variance by k^2: a
        ``bayesgen.terms.scaling.Scaling``, or None (the default), which turns the move off."""
        return None

    def trait_group_action(self, trait: int):
        """A scalar group action on one trait among several (its effects by k, its covariances' row
        and column by k) for the marginal group moves of a threshold trait, or None (the default)."""
        return None

    def trait_scale_action(self, trait: int):
        """What the scale move of one trait among several (``bayesgen.sampler.scale_move``) needs
        from this term when that trait's effects scale by k and its rows and columns of the
        covariances by k: a ``Scaling``, or None (the default), which turns the move off."""
        return None

    def describe(self) -> dict:
        """A JSON-able description of the term and its priors, for the InferenceData attrs."""
        return {"term": type(self).__name__, "name": self.name}

    def data_arrays(self) -> list:
        """The arrays (NumPy or SciPy sparse) this term was bound to: the data its draws depend
        on beyond the model's records, for a checkpoint's fingerprint (``bayesgen.sampler.checkpoint``:
        a checkpoint resumes only the model it was written by). Default: none."""
        return []

    def priors(self) -> dict:
        """Priors keyed by the recorded parameter they apply to (``sigma2_a``, ``alpha``, ...)."""
        return {}

    def copy_for_binding(self) -> Term:
        """A copy that the model can bind without touching this object or its priors.

        Priors and options are deep-copied (binding fills in data-dependent defaults);
        data the term only reads (pedigrees, genotypes, frames, arrays) is shared.
        """
        from ..data.genotypes import Genotypes
        from ..data.pedigree import Pedigree

        shared = (np.ndarray, pd.DataFrame, pd.Series, Pedigree, Genotypes)
        memo = {id(v): v for v in vars(self).values() if isinstance(v, shared)}
        return copy.deepcopy(self, memo)
