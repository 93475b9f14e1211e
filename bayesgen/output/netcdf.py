"""Writing and reading InferenceData as compact netCDF-4 files (HDF5, h5netcdf engine).

Two means keep files small and fast to write, without changing what ``az.summary``,
``az.loo`` or ``Model.predict`` compute from them:

* **float32 for high-dimensional draws.** Variables with chain and draw dims and at least
  ``float32_min_size`` values per draw (per-animal ``u``, random-effect levels, per-marker
  ``alpha``, the pointwise log-likelihood, predictions) are written as float32: a relative
  rounding error below 6e-8, some five orders of magnitude under the Monte Carlo error of
  any summary of a few thousand draws. Scalars (variances, h2, ...) and small vectors
  (fixed effects) stay float64, so their summaries are unchanged to the last bit.
* **No compression by default.** Draws of continuous parameters have incompressible
  mantissas: byte shuffle + zlib level 1 saves only ~15% of a float32 file and makes
  writing about five times slower (quickstart 69 -> 58 MB, 0.5 -> 2.5 s; gryphon
  2 x 20,000 draws 417 -> 355 MB, 4 -> 20 s, against 20 s of sampling; see
  ``benchmarks/bench_storage.py``). ``level=1`` (to 9) turns it on for every numeric
  variable; it pays for files of summaries or repetitive data, not for draws.

What keeps large runs small is not the file format but storing fewer draws:
``store="summary"`` (chosen by ``store="auto"`` above a budget, see
:func:`bayesgen.output.choose_store`) keeps running means and sds of the high-dimensional
vectors instead of their draws.

The layout is arviz's (attributes at the root, one HDF5 group per InferenceData group),
so ``arviz.from_netcdf`` and :func:`load` read it back.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .inference_data import az

#: Values per draw from which a variable is written as float32.
FLOAT32_MIN_SIZE = 32
ENGINE = "h5netcdf"


def _per_draw_size(variable: xr.DataArray) -> int | None:
    """Values per draw of a (chain, draw, ...) variable; None for variables without draws."""
    if "chain" not in variable.dims or "draw" not in variable.dims:
        return None
    return int(variable.size // (variable.sizes["chain"] * variable.sizes["draw"]))


def _encoding(dataset: xr.Dataset, level: int, shuffle: bool, float32_min_size: int | None) -> dict:
    encoding = {}
    for name, variable in dataset.variables.items():
        options = {}
        if variable.dtype.kind in "biufc" and level > 0:
            options.update(zlib=True, complevel=level, shuffle=shuffle)
        size = _per_draw_size(variable) if name in dataset.data_vars else None
        if (
            float32_min_size is not None
            and size is not None
            and size >= float32_min_size
            and variable.dtype == np.float64
        ):
            options["dtype"] = "float32"
        if options:
            encoding[name] = options
    return encoding


def _check_options(level, float32_min_size) -> None:
    if isinstance(level, bool) or not isinstance(level, (int, np.integer)) or not 0 <= level <= 9:
        raise ValueError(f"level must be an integer from 0 (no compression) to 9, got {level!r}.")
    if float32_min_size is not None and (
        isinstance(float32_min_size, bool)
        or not isinstance(float32_min_size, (int, np.integer))
        or float32_min_size < 1
    ):
        raise ValueError(f"float32_min_size must be an integer >= 1 or None (keep float64), got {float32_min_size!r}.")


def save(idata, path, *, level: int = 0, shuffle: bool = True, float32_min_size: int | None = FLOAT32_MIN_SIZE) -> Path:
    """Write ``idata`` to ``path`` (netCDF-4), high-dimensional draws as float32.

    Parameters
    ----------
    idata : arviz.InferenceData
    path : str or Path
        The file to write (replaced if it exists). Its folder must exist.
    level : int
        zlib level, 0 (no compression, the default) to 9. On MCMC draws level 1 is nearly
        as small as 9 and several times faster, but still ~5x slower than none.
    shuffle : bool
        HDF5 byte shuffle before zlib (groups the compressible exponent bytes); only
        with ``level`` > 0.
    float32_min_size : int or None
        Variables with chain and draw dims and at least this many values per draw are
        written as float32; None keeps every variable's dtype.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(idata, az.InferenceData):
        raise TypeError(f"idata must be an arviz.InferenceData, got {type(idata).__name__}.")
    _check_options(level, float32_min_size)
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Cannot write {path}: folder {path.parent} does not exist.")
    # Attributes first, at the root (arviz's layout), then one group per InferenceData group.
    xr.Dataset(attrs=dict(idata.attrs)).to_netcdf(path, mode="w", engine=ENGINE)
    for group in idata.groups():
        dataset = idata[group]
        dataset.to_netcdf(
            path, mode="a", group=group, engine=ENGINE, encoding=_encoding(dataset, level, shuffle, float32_min_size)
        )
    return path


def load(path) -> az.InferenceData:
    """Read an InferenceData written by :func:`save` (or ``to_netcdf``) fully into memory."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No InferenceData file at {path}.")
    idata = az.from_netcdf(str(path), engine=ENGINE)
    for group in idata.groups():
        idata[group].load()
    return idata
