"""Draws to ``arviz.InferenceData``: the only module of bayesgen that imports arviz.

Groups: ``posterior`` (dims chain, draw, then each variable's own dims and coords),
``log_likelihood`` (``y`` per observed record, dim ``record``), ``observed_data`` (``y``),
``predictions`` (``mu`` and ``y`` of records with a missing phenotype, dim
``missing_record``) and, with ``store="summary"``, ``posterior_summary`` (``<name>_mean``
and ``<name>_sd`` of high-dimensional variables, and ``<name>_pip``, the share of draws
not exactly 0, of the effects of spike-and-slab marker priors).
"""

from __future__ import annotations

import contextlib
import json
import sys
import warnings

import numpy as np
import xarray as xr

from .._version import __version__


@contextlib.contextmanager
def _numba_hidden():
    """Make ``import numba`` fail inside the block (``sys.modules["numba"] = None``), then restore it.

    Why: with numba importable, ``import arviz`` compiles a numba ufunc (its ECDF band) in
    every process, not cached, and arviz's ESS / R-hat jit-compile their helpers on the first
    call; together 0.5-1 s of each run's start-up for diagnostics that take milliseconds in
    NumPy. arviz reads numba's absence once, at import, and then uses its NumPy code paths
    (``az.Numba.enable_numba()`` turns numba back on). Our own kernels are unaffected: numba
    itself, if already imported, is put back as it was.
    """
    saved = sys.modules.get("numba", None)
    had = "numba" in sys.modules
    sys.modules["numba"] = None
    try:
        yield
    finally:
        if had:
            sys.modules["numba"] = saved
        else:
            del sys.modules["numba"]


with warnings.catch_warnings(), _numba_hidden():
    # arviz 0.2x announces its 1.0 refactor on import; it is not actionable for our users.
    warnings.filterwarnings("ignore", message="\\s*ArviZ is undergoing", category=FutureWarning)
    import arviz as az


def _coord_values(values) -> np.ndarray:
    """Coordinates as an array xarray and netCDF can hold (mixed objects become strings)."""
    arr = np.asarray(values)
    if arr.dtype == object:
        arr = np.asarray([str(v) for v in values])
    return arr


def to_inference_data(model, result) -> az.InferenceData:
    """Assemble the InferenceData of a sampler run (``bayesgen.sampler.SamplerResult``)."""
    n = result.n_draws
    first = result.chains[0]
    groups: dict[str, dict] = {}
    dims: dict[str, dict] = {}
    coords: dict = {}
    for key in first.draws:
        group, name = key
        variable = first.variables[key]
        groups.setdefault(group, {})[name] = np.stack([c.draws[key][:n] for c in result.chains])
        dims.setdefault(group, {})[name] = list(variable.dims)
        coords.update({d: _coord_values(variable.coords[d]) for d in variable.dims})

    attrs = {
        "library": "bayesgen",
        "bayesgen_version": __version__,
        "seed": str(result.seed_entropy),
        "draws": result.draws,
        "burn": result.burn,
        "thin": result.thin,
        "interrupted": int(result.interrupted),
        "model": json.dumps(model.describe(), default=str),
        "priors": json.dumps({k: v for t in model.terms for k, v in t.priors().items()}, default=str),
    }
    failures = getattr(result, "failures", None)
    if failures:
        # Chains stopped by a numerical failure (sampler.driver.run_chain); chain numbers are
        # those of the run (``chains_kept`` maps the posterior's chains to them).
        attrs["failed_chains"] = json.dumps(
            [{"chain": f.chain, "iteration": f.iteration, "draws": f.draws, "error": f.describe()} for f in failures]
        )
        attrs["chains_kept"] = json.dumps(list(result.chain_ids))
    datasets = {}
    for group, data in groups.items():
        datasets[group] = az.dict_to_dataset(
            data, attrs=attrs if group == "posterior" else None, library=None, coords=coords, dims=dims[group]
        )
    rows = model.likelihood.observed_rows
    record = {"record": _coord_values(model.likelihood.record_labels)}
    observed = ("record", model.y[rows]) if model.n_traits == 1 else (("record", "trait"), model.y[rows])
    if model.n_traits > 1:
        record["trait"] = np.asarray(model.traits)
    datasets["observed_data"] = xr.Dataset({"y": observed}, coords=record)
    if first.summaries:
        datasets["posterior_summary"] = _summary_dataset(result)
    return az.InferenceData(attrs=attrs, **datasets)


def _summary_dataset(result) -> xr.Dataset:
    """Posterior mean and sd pooled over chains, from each chain's running moments, and the
    posterior inclusion probability (draws not 0 over all draws) of ``inclusion`` variables."""
    data_vars, coords = {}, {}
    for key in result.chains[0].summaries:
        group, name = key
        variable = result.chains[0].variables[key]
        counts = np.array([c.summaries[key].count for c in result.chains], dtype=float)
        means = np.stack([c.summaries[key].mean for c in result.chains])
        sds = np.stack([c.summaries[key].sd for c in result.chains])
        pooled_mean = np.tensordot(counts, means, axes=1) / counts.sum()
        # Total variance = mean within-chain variance + variance of the chain means.
        within = np.tensordot(counts - 1, np.nan_to_num(sds) ** 2, axes=1)
        between = np.tensordot(counts, (means - pooled_mean) ** 2, axes=1)
        pooled_sd = np.sqrt((within + between) / max(counts.sum() - 1, 1))
        prefix = "" if group == "posterior" else f"{group}_"
        data_vars[f"{prefix}{name}_mean"] = (variable.dims, pooled_mean)
        data_vars[f"{prefix}{name}_sd"] = (variable.dims, pooled_sd)
        if variable.inclusion:
            nonzero = sum(c.summaries[key].nonzero for c in result.chains)
            data_vars[f"{prefix}{name}_pip"] = (variable.dims, nonzero / counts.sum())
        coords.update({d: _coord_values(variable.coords[d]) for d in variable.dims})
    return xr.Dataset(data_vars, coords=coords)
