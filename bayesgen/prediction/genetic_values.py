"""Predicted genetic values with posterior uncertainty."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._validation import id_labels, normalize_id, preview
from ..data.genotypes import Genotypes
from ..terms.animal import Animal
from ..terms.kernel import Kernel
from ..terms.markers import Markers

#: Markers decoded to floating point at once when predicting (bounds the temporary memory).
MARKER_BLOCK = 1024


def _summarise(draws: np.ndarray, labels, dim: str, prob: float, traits=None) -> xr.Dataset:
    """Mean, sd and central ``prob`` interval over the first axis of ``draws`` (draws x items,
    or draws x items x traits when ``traits`` names the last axis, dim ``trait``).

    The ``dim`` coordinate holds ``labels`` as integers when every one is an integer, otherwise
    as text (``id_labels``), so that ``.sel`` takes the user's own ids."""
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob!r}.")
    lower, upper = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    dims = (dim,) if traits is None else (dim, "trait")
    coords = {dim: id_labels([normalize_id(v) for v in labels])}
    if traits is not None:
        coords["trait"] = list(traits)
    return xr.Dataset(
        {
            "mean": (dims, draws.mean(axis=0)),
            "sd": (dims, _sample_sd(draws)),
            "lower": (dims, lower),
            "upper": (dims, upper),
        },
        coords=coords,
        attrs={"prob": prob},
    )


def _sample_sd(draws: np.ndarray) -> np.ndarray:
    """Sample standard deviation (ddof = 1) over the first axis; NaN, without numpy's
    "degrees of freedom" warning, when there is a single draw."""
    if draws.shape[0] < 2:
        return np.full(draws.shape[1:], np.nan)
    return draws.std(axis=0, ddof=1)


def _effect_draws(idata, term, what: str) -> xr.DataArray:
    """Draws x levels (x traits, for a several-trait term) of ``term``'s effects (its
    high-dimensional posterior variable; the levels are its first dim), after checking that the InferenceData holds them for the same levels, in the same order,
    as the model (``what`` names the levels in the error: "markers", "animals")."""
    variable = next(v for v in term.variables() if v.high_dimensional and v.group == "posterior")
    name, dim = variable.name, variable.dims[0]
    posterior = getattr(idata, "posterior", None)
    if posterior is None or name not in posterior:
        if name + "_mean" in getattr(idata, "posterior_summary", {}):
            raise ValueError(
                f"The InferenceData has no draws of {name!r}, only their posterior mean and sd; "
                "intervals need full draws (sample with store='full')."
            )
        held = preview(posterior.data_vars) if posterior is not None else "no posterior group"
        raise ValueError(
            f"The InferenceData has no draws of {name!r}: it was not sampled from this model "
            f"(its posterior holds {held})."
        )
    draws = posterior[name]
    found = [normalize_id(v) for v in draws[dim].values] if dim in draws.dims else []
    expected = [normalize_id(v) for v in variable.coords[dim]]
    if found != expected:
        whose = "the model's pedigree" if what == "animals" else "the model's"
        if sorted(found) == sorted(expected):
            detail = f"the same {what} in another order"
        else:
            found_set, expected_set = set(found), set(expected)
            detail = f"{len(found)} in the InferenceData, {len(expected)} in the model"
            model_only = [v for v in expected if v not in found_set]
            idata_only = [v for v in found if v not in expected_set]
            if model_only:
                detail += f"; in the model only: {preview(model_only)}"
            if idata_only:
                detail += f"; in the InferenceData only: {preview(idata_only)}"
        raise ValueError(
            f"The {what} of the InferenceData (coordinate {dim!r} of {name!r}) do not match "
            f"{whose}: {detail}. Was it sampled from another model?"
        )
    return draws.stack(sample=("chain", "draw")).transpose("sample", ...)


def predict_genomic_values(model, idata, genotypes: Genotypes, prob: float = 0.95) -> xr.Dataset:
    r"""Genomic values :math:`g = W_{new}\alpha` of new individuals, per posterior draw.

    With several traits :math:`\alpha` is markers x traits, so g holds one column per trait
    (:math:`g_{\cdot k} = W_{new}\alpha_{\cdot k}`) and every summary has a ``trait`` dim.

    New genotypes are centred with the training allele frequencies (missing = training
    mean). Every training marker must be present; extra markers are ignored. Build them
    with ``Genotypes(ids, matrix, markers, drop_monomorphic=False)`` so that markers
    fixed among the few new individuals are kept.
    Returns mean, sd and interval per individual (dim ``individual``): the mean, the sample
    sd (ddof = 1) and the central ``prob`` interval of g over all draws of all chains. With a
    single draw the sd is NaN (no warning) and the interval collapses to that draw.
    ``idata`` must come from this model: its ``alpha`` draws must be over the model's
    markers, in the model's order, or a ValueError names the markers that differ.
    """
    kernels = [t for t in model.terms if isinstance(t, Kernel)]
    if kernels and not any(isinstance(t, Markers) for t in model.terms):
        name = kernels[0].name
        raise LookupError(
            f"predict(genotypes=...) needs marker effects, but this model's genetic term is the Kernel {name!r} "
            f"(GBLUP), whose genetic values exist only for the ids of its K. Give GBLUP the genotypes of the new "
            f"individuals too (they need no phenotype) and read idata.posterior[{name!r}] (dim {name + '_level'!r}), "
            "or fit bg.BRR, the marker model equivalent to GBLUP, to predict from genotypes.")
    term = model.term(Markers)
    if not isinstance(genotypes, Genotypes):
        raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
    position = {m: k for k, m in enumerate(genotypes.markers)}
    missing = [m for m in term.genotypes.markers if m not in position]
    if missing:
        raise KeyError(
            f"Markers of the fitted model absent from the new genotypes: {preview(missing)} "
            "(build new genotypes with drop_monomorphic=False)."
        )
    rows = np.array([position[m] for m in term.genotypes.markers])
    effects = _effect_draws(idata, term, "markers")
    traits = effects["trait"].values if "trait" in effects.dims else None
    alpha = effects.values  # draws x markers (x traits)
    if traits is None:
        alpha = alpha[:, :, None]
    lookup = term.lookup
    values = np.zeros((alpha.shape[0], genotypes.n_individuals, alpha.shape[2]))
    for start in range(0, rows.size, MARKER_BLOCK):
        block = slice(start, start + MARKER_BLOCK)
        codes = genotypes.codes[rows[block]]  # int8, markers x individuals
        x = np.take_along_axis(lookup[block], codes.astype(np.intp), axis=1)  # float, one block only
        for k in range(alpha.shape[2]):  # per trait k: draws x individuals
            values[:, :, k] += alpha[:, block, k] @ x
    if traits is None:
        return _summarise(values[:, :, 0], genotypes.ids, "individual", prob)
    return _summarise(values, genotypes.ids, "individual", prob, traits=traits)


def predict_breeding_values(model, idata, ids=None, prob: float = 0.95) -> xr.Dataset:
    """Breeding values ``u`` of pedigree animals ``ids`` (default: all), summarised per animal.

    Mean, sample sd (ddof = 1) and central ``prob`` interval over all draws; with a single
    draw the sd is NaN (no warning). ``idata`` must come from this model: its ``animal``
    coordinate must be the model's pedigree ids in the model's order, or a ValueError names
    the animals that differ.
    """
    term = model.term(Animal)
    u = _effect_draws(idata, term, "animals")
    if ids is not None:
        positions = term.pedigree.index(ids)
        u = u.isel({term.level_dim: positions})
    return _summarise(u.values, u[term.level_dim].values, term.level_dim, prob)
