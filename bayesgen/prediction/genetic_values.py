"""Predicted genetic values with posterior uncertainty."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._validation import id_labels, normalize_id, preview
from ..data.genotypes import Genotypes
from ..terms.animal import Animal
from ..terms.markers import Markers

#: Markers decoded to floating point at once when predicting (bounds the temporary memory).
MARKER_BLOCK = 1024


def _summarise(draws: np.ndarray, labels, dim: str, prob: float) -> xr.Dataset:
    """Mean, sd and central ``prob`` interval over the first axis of ``draws`` (draws x items).

    The ``dim`` coordinate holds ``labels`` as integers when every one is an integer, otherwise
    as text (``id_labels``), so that ``.sel`` takes the user's own ids."""
    if not 0 < prob < 1:
        raise ValueError(f"prob must be in (0, 1), got {prob!r}.")
    lower, upper = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return xr.Dataset(
        {
            "mean": (dim, draws.mean(axis=0)),
            "sd": (dim, draws.std(axis=0, ddof=1)),
            "lower": (dim, lower),
            "upper": (dim, upper),
        },
        coords={dim: id_labels([normalize_id(v) for v in labels])},
        attrs={"prob": prob},
    )


def _draws(idata, name: str) -> xr.DataArray:
    if name not in idata.posterior:
        raise ValueError(
            f"The InferenceData has no draws of {name!r}; intervals need full draws "
            "(sample with store='full')."
        )
    return idata.posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...)


def predict_genomic_values(model, idata, genotypes: Genotypes, prob: float = 0.95) -> xr.Dataset:
    r"""Genomic values :math:`g = W_{new}\alpha` of new individuals, per posterior draw.

    New genotypes are centred with the training allele frequencies (missing = training
    mean). Every training marker must be present; extra markers are ignored. Build them
    with ``Genotypes(ids, matrix, markers, drop_monomorphic=False)`` so that markers
    fixed among the few new individuals are kept.
    Returns mean, sd and interval per individual (dim ``individual``).
    """
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
    alpha = _draws(idata, "alpha").values  # draws x markers
    lookup = term.lookup
    values = np.zeros((alpha.shape[0], genotypes.n_individuals))
    for start in range(0, rows.size, MARKER_BLOCK):
        block = slice(start, start + MARKER_BLOCK)
        codes = genotypes.codes[rows[block]]  # int8, markers x individuals
        x = np.take_along_axis(lookup[block], codes.astype(np.intp), axis=1)  # float, one block only
        values += alpha[:, block] @ x
    return _summarise(values, genotypes.ids, "individual", prob)


def predict_breeding_values(model, idata, ids=None, prob: float = 0.95) -> xr.Dataset:
    """Breeding values ``u`` of pedigree animals (default: all), summarised per animal."""
    term = model.term(Animal)
    u = _draws(idata, "u")
    if ids is not None:
        positions = term.pedigree.index(ids)
        u = u.isel(animal=positions)
    return _summarise(u.values, u["animal"].values, "animal", prob)
