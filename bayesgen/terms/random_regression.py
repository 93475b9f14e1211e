r"""Random regressions: per level an intercept and slopes on covariates, with a q x q covariance.

A record r of level :math:`l(r)` with covariates :math:`x_r = (1, x_{r1}, \dots)` gets
:math:`x_r' u_{l(r)}`, and the levels' coefficient vectors are
:math:`\mathrm{vec}(U') \sim N(0, P^{-1} \otimes \Sigma)`, P = I for iid levels or
:math:`A^{-1}` for animals (the random-regression animal model). Usually built as
``bg.Random(column, slopes=[...])`` or ``bg.Animal(column, pedigree, slopes=[...])``; the
design is :class:`bayesgen.terms.designs.Slopes`. This module keeps the historical
constructor.
"""

from __future__ import annotations

from collections.abc import Sequence

import scipy.sparse as sp

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from ..data.pedigree import Pedigree
from .animal import pedigree_levels
from .base import Inheritance
from .random import Random


class RandomRegression(Random):
    """``Random(column, slopes=..., structure=...)``, with ``pedigree=`` for levels related by A."""

    @renamed_arguments(covariance="structure", variance="prior")
    def __init__(
        self,
        column: str,
        slopes: str | Sequence[str],
        structure: str = "us",
        prior: PriorArg = None,
        name: str | None = None,
        intercept: bool = True,
        pedigree: Pedigree | None = None,
        expand: bool = True,
    ):
        if pedigree is not None and not isinstance(pedigree, Pedigree):
            raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(pedigree).__name__}.")
        super().__init__(
            column, prior=prior, name=name, expand=expand, slopes=slopes, structure=structure, intercept=intercept
        )
        self.pedigree = pedigree
        self.genetic = pedigree is not None

    def level_precision_factor(self):
        """With a pedigree, its O(n) square root of A^-1 (``Pedigree.ainv_factor``)."""
        if self.pedigree is None:
            return super().level_precision_factor()
        return self.pedigree.ainv_factor()

    def inheritance(self) -> Inheritance | None:
        """On a pedigree, the coefficients pass from parents to offspring (covariance ``variance_name``)."""
        return None if self.pedigree is None else Inheritance(self.pedigree, self.effect_name, self.variance_name)

    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        if self.pedigree is None:
            return super()._levels(record_levels)
        return pedigree_levels(self.pedigree, self.column, record_levels)
