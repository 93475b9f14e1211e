"""Posterior draws of a term's recorded variables, as arrays for prediction (draws first)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .._validation import normalize_id, preview


def effect_draws(idata, term, what: str, name: str | None = None) -> xr.DataArray:
    """Draws x levels (x traits, for a several-trait term) of ``term``'s effects (its first
    high-dimensional posterior variable, or the one called ``name``; the levels are its first dim), after checking that the InferenceData holds them for the same levels, in the same order,
    as the model (``what`` names the levels in the error: "markers", "animals")."""
    variable = next(
        v
        for v in term.variables()
        if v.high_dimensional and v.group == "posterior" and (name is None or v.name == name)
    )
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


def covariance_draws(posterior: xr.Dataset, name: str, n_draws: int, size: int) -> np.ndarray:
    """(draws x q x q) covariance draws of the variable ``name`` (a scalar, a diagonal or a matrix per draw)."""
    values = posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).values
    values = values.reshape(n_draws, -1)
    if values.shape[1] == size * size:
        return values.reshape(n_draws, size, size)
    if values.shape[1] == size:  # a diagonal structure records the variances only
        return np.einsum("si,ij->sij", values, np.eye(size))
    raise ValueError(f"The posterior variable {name!r} is not a covariance of {size} rows per draw.")
