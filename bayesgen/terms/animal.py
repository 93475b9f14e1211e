"""The pedigree animal effect: u ~ N(0, sigma2_a A), sampled through the sparse A^-1."""

from __future__ import annotations

from collections.abc import Sequence

import scipy.sparse as sp

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from .._validation import preview
from ..data.pedigree import Pedigree
from .base import Inheritance
from .designs import DirectMaternal
from .random import Random


def pedigree_levels(pedigree: Pedigree, column: str, record_levels: list) -> tuple[list, sp.csr_matrix]:
    """Every animal of the pedigree, and A^-1; an error names the record ids not in the pedigree."""
    known = pedigree._index
    missing = [a for a in dict.fromkeys(record_levels) if a not in known]
    if missing:
        raise ValueError(f"Animals in column {column!r} not found in the pedigree: {preview(missing)}.")
    return list(pedigree.ids), pedigree.ainv()


class AnimalNames:
    """Recorded names of a pedigree term: ``u``, ``sigma2_a`` and dim ``animal`` under the default
    name ``"animal"``, else ``<name>``, ``sigma2_<name>`` and ``<name>_level``."""

    @property
    def _default_names(self) -> bool:
        # A random-regression animal model keeps the names of random regressions (``animal``,
        # dims ``animal_level`` x ``animal_coef``, ``sigma2_animal``).
        return self.name == "animal" and self.slopes is None

    @property
    def effect_name(self) -> str:
        return "u" if self._default_names else self.name

    @property
    def variance_name(self) -> str:
        return "sigma2_a" if self._default_names else f"sigma2_{self.name}"

    @property
    def level_dim(self) -> str:
        return "animal" if self._default_names else f"{self.name}_level"

    def inheritance(self) -> Inheritance:
        """Values pass from parents to offspring through the pedigree, with covariance ``variance_name``."""
        return Inheritance(self.pedigree, self.effect_name, self.variance_name)


class Animal(AnimalNames, Random):
    r"""Additive genetic (breeding) values of animals related by a pedigree.

    :math:`u \sim N(0, \sigma^2_a A)` where A is the numerator relationship matrix. The
    samplers use :math:`A^{-1}` (built directly by :meth:`Pedigree.ainv`), so every animal
    of the pedigree gets a breeding value, ancestors without records included. With the
    default ``name="animal"`` it is recorded as ``u`` (dim ``animal``, coords = the
    pedigree's ids) and ``sigma2_a``; another name gives ``<name>``, ``sigma2_<name>`` and
    dim ``<name>_level`` (so a model can hold two pedigree-type terms). Counts as genetic
    in ``h2``. The variance's full conditional is
    :math:`\text{Scale-inv-}\chi^2(\nu + q, (\nu S^2 + u'A^{-1}u)/(\nu + q))` (for that prior).

    ``maternal="dam column"`` gives the direct–maternal model (Willham 1963): each animal
    has a direct and a maternal effect, :math:`(a_d, a_m) \sim N(0, G \otimes A)` with G 2 x 2,
    recorded as ``u`` (dims ``animal`` x ``effect``), ``sigma2_a`` (2 x 2) and
    ``rho_animal``; a record of animal i with dam m gets :math:`a_{d,i} + a_{m,m}`
    (:class:`bayesgen.terms.designs.DirectMaternal`). Add ``bg.Random(dam column)`` beside it
    for the maternal permanent environment. ``h2`` is then the direct heritability
    :math:`\sigma^2_d/\sigma^2_p` with :math:`\sigma^2_p` including
    :math:`\sigma^2_d + \sigma_{dm} + \sigma^2_m`; see ``bg.total_heritability``.

    ``slopes=[...]`` gives the random-regression animal model, :math:`\Sigma \otimes A`
    (:class:`bayesgen.terms.designs.Slopes`).
    """

    genetic = True
    level_word = "animal ids"
    call_prefix = "Animal(column, pedigree"

    @renamed_arguments(variance="prior", covariance="structure")
    def __init__(
        self,
        column: str,
        pedigree: Pedigree,
        prior: PriorArg = None,
        name: str = "animal",
        expand: bool = True,
        maternal: str | None = None,
        slopes: str | Sequence[str] | None = None,
        structure: str | None = None,
        intercept: bool = True,
    ):
        if not isinstance(pedigree, Pedigree):
            raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(pedigree).__name__}.")
        if maternal is not None and (slopes is not None or structure is not None):
            raise ValueError(
                "Animal takes maternal= or slopes=, not both: random regressions of direct and maternal "
                "effects are not available."
            )
        self.maternal = maternal
        super().__init__(
            column, prior=prior, name=name, expand=expand, slopes=slopes, structure=structure, intercept=intercept
        )
        self.pedigree = pedigree

    def _layout(self, slopes, structure, intercept):
        if self.maternal is not None:
            return DirectMaternal(self.maternal, self.column)
        return super()._layout(slopes, structure, intercept)

    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        return pedigree_levels(self.pedigree, self.column, record_levels)

    def level_precision_factor(self):
        """The pedigree's O(n) square root of A^-1 (``Pedigree.ainv_factor``)."""
        return self.pedigree.ainv_factor()

    def describe(self) -> dict:
        out = super().describe()
        if self.maternal is not None:
            out.update(maternal=self.maternal, dams=self.layout.n_dams)
        return out
