r"""The direct–maternal animal model: each animal's direct and maternal breeding values.

A record of animal i with dam m(i) is :math:`y_i = \dots + a_{d,i} + a_{m,m(i)} + e_i`: its own
direct genetic effect plus the maternal genetic effect of its dam (Willham 1963), with
:math:`(a_d, a_m) \sim N(0, G \otimes A)`. Built by ``Animal(column, pedigree, maternal="dam column")``
(the design is :class:`bayesgen.terms.designs.DirectMaternal`); this module keeps the
historical class name and Willham's total heritability.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import xarray as xr

from .._deprecation import renamed_arguments
from .._typing import PriorArg
from .._validation import preview
from ..data.pedigree import Pedigree
from .animal import Animal

if TYPE_CHECKING:
    import arviz as az


class MaternalAnimal(Animal):
    """``Animal(column, pedigree, prior, name, maternal=dam_column)``: the direct–maternal model."""

    @renamed_arguments(variance="prior")
    def __init__(
        self,
        column: str,
        pedigree: Pedigree,
        prior: PriorArg = None,
        name: str = "animal",
        *,
        maternal: str,
        expand: bool = True,
    ):
        if maternal is None:
            raise TypeError("MaternalAnimal needs maternal= (the column of each record's dam).")
        super().__init__(column, pedigree, prior=prior, name=name, expand=expand, maternal=maternal)


def total_heritability(idata: az.InferenceData, name: str = "animal") -> xr.DataArray:
    r"""Willham's (1972) total heritability per draw, from a direct–maternal fit.

    :math:`h^2_T = (\sigma^2_d + 1.5\,\sigma_{dm} + 0.5\,\sigma^2_m)/\sigma^2_p`: the share of the
    phenotypic variance that responds to selection on the phenotype (the regression of
    offspring on its own and its dam's records). :math:`\sigma^2_p` is recovered per draw from
    the recorded direct heritability, :math:`\sigma^2_p = \sigma^2_d/h^2`, so it includes every
    variance component of the model (permanent environment, residual, ...), exactly as
    ``h2``. ``name`` is the term's name (default ``"animal"``: G recorded as ``sigma2_a``).
    """
    if not isinstance(getattr(idata, "posterior", None), xr.Dataset):
        raise TypeError(
            f"idata must be an arviz.InferenceData with a posterior group (from model.sample() on a "
            f"direct-maternal model), got {type(idata).__name__}."
        )
    if not isinstance(name, str):
        raise TypeError(f"name must be the name of the direct-maternal term (str), got {name!r}.")
    variance_name = "sigma2_a" if name == "animal" else f"sigma2_{name}"
    post = idata.posterior
    if variance_name not in post or "h2" not in post:
        raise ValueError(
            f"total_heritability needs {variance_name!r} and 'h2' in idata.posterior (a fit with "
            f"Animal(..., maternal=...) named {name!r}); found {preview(list(post.data_vars))}."
        )
    g = post[variance_name]
    if set(g.dims) != {"chain", "draw", "effect_row", "effect_col"}:
        raise ValueError(f"{variance_name!r} has dims {g.dims}; it is not the G matrix of a direct-maternal term.")
    var_d = g.sel(effect_row="direct", effect_col="direct")
    var_m = g.sel(effect_row="maternal", effect_col="maternal")
    cov = g.sel(effect_row="direct", effect_col="maternal")
    phenotypic = var_d / post["h2"]
    out = (var_d + 1.5 * cov + 0.5 * var_m) / phenotypic
    return out.drop_vars(["effect_row", "effect_col"], errors="ignore").rename("h2_total")
