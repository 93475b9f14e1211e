"""The pedigree animal effect: u ~ N(0, sigma2_a A), sampled through the sparse A^-1."""

from __future__ import annotations

import scipy.sparse as sp

from .._validation import preview
from ..data.pedigree import Pedigree
from .random import Random


class AnimalNames:
    """Recorded names of a pedigree term: ``u``, ``sigma2_a`` and dim ``animal`` under the default
    name ``"animal"``, else ``<name>``, ``sigma2_<name>`` and ``<name>_level`` (shared by
    :class:`Animal` and :class:`bayesgen.terms.maternal.MaternalAnimal`)."""

    @property
    def _default_names(self) -> bool:
        return self.name == "animal"

    @property
    def effect_name(self) -> str:
        return "u" if self._default_names else self.name

    @property
    def variance_name(self) -> str:
        return "sigma2_a" if self._default_names else f"sigma2_{self.name}"

    @property
    def level_dim(self) -> str:
        return "animal" if self._default_names else f"{self.name}_level"


class Animal(AnimalNames, Random):
    r"""Additive genetic (breeding) values of animals related by a pedigree.

    :math:`u \sim N(0, \sigma^2_a A)` where A is the numerator relationship matrix. The
    sweep uses :math:`A^{-1}` (built directly by :meth:`Pedigree.ainv`), so every animal
    of the pedigree gets a breeding value, ancestors without records included. With the
    default ``name="animal"`` it is recorded as ``u`` (dim ``animal``, coords = the
    pedigree's ids) and ``sigma2_a``; another name gives ``<name>``, ``sigma2_<name>`` and
    dim ``<name>_level`` (so a model can hold two pedigree-type terms). Counts as genetic
    in ``h2``. With ``maternal="dam column"`` it builds the direct–maternal model instead
    (:class:`bayesgen.terms.maternal.MaternalAnimal`); with ``slopes=[...]`` the random-regression
    animal model (:class:`bayesgen.terms.random_regression.RandomRegression`, :math:`\Sigma \otimes A`).
    The variance's full conditional is
    :math:`\text{Scale-inv-}\chi^2(\nu + q, (\nu S^2 + u'A^{-1}u)/(\nu + q))`.
    """

    genetic = True

    def __new__(cls, *args, maternal=None, slopes=None, covariance=None, **kwargs):
        # Animal(column, pedigree, slopes=[...]) is the random-regression animal model (Sigma (x) A).
        if slopes is not None or covariance is not None:
            from .random_regression import from_animal_arguments

            return from_animal_arguments(args, kwargs, slopes, covariance, maternal)
        # Animal(column, pedigree, maternal="dam column") is the direct-maternal model, its own term.
        if maternal is not None:
            from .maternal import MaternalAnimal

            kwargs.pop("expand", None)  # (column, pedigree, variance, name[, expand]): no rescaling move there
            return MaternalAnimal(*args[:4], maternal=maternal, **kwargs)
        return super().__new__(cls)

    def __init__(self, column: str, pedigree: Pedigree, variance=None, name: str = "animal", expand: bool = True,
                 maternal: str | None = None, slopes=None, covariance=None):
        if not isinstance(pedigree, Pedigree):
            raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(pedigree).__name__}.")
        super().__init__(column, variance=variance, name=name, expand=expand)
        self.pedigree = pedigree

    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        known = self.pedigree._index
        missing = [a for a in dict.fromkeys(record_levels) if a not in known]
        if missing:
            raise KeyError(f"Animals in column {self.column!r} not found in the pedigree: {preview(missing)}.")
        return list(self.pedigree.ids), self.pedigree.ainv()
