"""Declarative model specs (TOML, see ``models/README.md``) turned into a Model and sampler settings.

Everything that can be checked without the data is checked before any data file is read or
any population simulated: section and key names, the type and range of every value, the
combination of data sources, and the output path. Every error is a :class:`SpecError` whose
message names the key (``model.intercept``), option (``--draws``) or file at fault and says
what was expected.
"""

from __future__ import annotations

import inspect
import math
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.genotypes import Genotypes
from ..data.pedigree import Pedigree
from ..model import AnimalModel, BayesA, Model
from ..model.model import SAMPLERS
from ..output.store import STORE_MODES
from ..priors.defaults import PRIOR_RULES
from ..priors.gamma import Gamma
from ..priors.scaled_inv_chi2 import ScaledInvChi2
from ..simulation import simulate

SECTIONS = {
    "data": {"simulate", "phenotypes", "pedigree", "genotypes"},
    "model": {"type", "trait", "id", "fixed", "random", "intercept", "sampler"},
    "priors": {"rule", "sigma2_a", "sigma2_e", "df", "scale"},
    "sampler": {"chains", "cores", "draws", "burn", "thin", "seed", "store"},
    "output": {"path"},
}
MODEL_TYPES = ("animal", "bayesA")
#: [sampler] integer keys and their minimum values.
SAMPLER_COUNTS = {"draws": 1, "burn": 0, "thin": 1, "chains": 1, "cores": 1, "seed": 0}
#: Data files that a simulation replaces.
DATA_FILES = ("phenotypes", "pedigree", "genotypes")
SIMULATE_ARGUMENTS = tuple(inspect.signature(simulate).parameters)
OUTPUT_SUFFIX = ".nc"
#: First two bytes of every PLINK .bed file.
PLINK_BED_MAGIC = b"\x6c\x1b"


class SpecError(ValueError):
    """A spec (or a command-line override) is invalid; the message names the key, option or file."""


@dataclass
class Spec:
    model: Model
    sampler: dict = field(default_factory=dict)
    output: Path | None = None


# --------------------------------------------------------------------------- value checks
def _found(value) -> str:
    """How a found value is shown in a message: its TOML-ish repr and Python type."""
    return f"{value!r} ({type(value).__name__})"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(value, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{where} must be an integer >= {minimum}, got {_found(value)}.")
    return value


def _positive_number(value, where: str) -> float:
    if not _is_number(value) or not math.isfinite(value) or value <= 0:
        raise SpecError(f"{where} must be a number > 0, got {_found(value)}.")
    return float(value)


def _number(value, where: str):
    """A number of any sign; its range is checked by the class it is passed to."""
    if not _is_number(value):
        raise SpecError(f"{where} must be a number, got {_found(value)}.")
    return value


def _boolean(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{where} must be true or false, got {_found(value)}.")
    return value


def _name(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SpecError(f"{where} must be a non-empty string, got {_found(value)}.")
    return value


def _names(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{where} must be a list of column names (strings), got {_found(value)}.")
    return value


def _table(spec: dict, key: str) -> dict:
    value = spec.get(key, {})
    if not isinstance(value, dict):
        raise SpecError(f"[{key}] must be a table, got {_found(value)}.")
    return value


def _check_keys(table: dict, allowed, where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SpecError(f"Unknown key(s) in {where}: {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.")


def _require(table: dict, key: str, where: str):
    if key not in table:
        raise SpecError(f"Missing required key {where}.{key}.")
    return table[key]


# --------------------------------------------------------------------------- files
def _read_toml(path: Path) -> dict:
    """Parse the spec file; a UTF-8 byte-order mark (as some editors save) is accepted."""
    if path.is_dir():
        raise SpecError(f"Spec path {path} is a directory; expected a TOML file (see models/README.md).")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"Spec file not found: {path}") from None
    except OSError as err:
        raise SpecError(f"Cannot read spec file {path}: {err.strerror}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"Spec {path} is not a UTF-8 text file; expected a TOML file (see models/README.md).") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"Spec {path} is not valid TOML: {err}") from None


def check_output_path(value, where: str) -> Path:
    """The netCDF file to write, checked before sampling so that no draws are lost after it.

    The path must end in ``.nc`` and not be a directory; its nearest existing ancestor must
    be a directory in which a file can be created (probed with a temporary file, which also
    catches read-only file systems and, unlike ``os.access``, holds for root); an existing
    file must be writable. Missing parent directories are created only when writing.
    """
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise SpecError(f"{where} must be a non-empty string naming a netCDF file (*.nc), got {_found(value)}.")
    path = Path(value)
    if path.is_dir():
        raise SpecError(f"{where}: {path} is a directory; expected a netCDF file name such as {path / 'fit.nc'}.")
    if path.suffix != OUTPUT_SUFFIX:
        raise SpecError(f"{where}: {path} does not end in {OUTPUT_SUFFIX}; expected a netCDF file name (*.nc).")
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise SpecError(f"{where}: {path} cannot be created: {ancestor} is a file, not a directory.")
    try:
        with tempfile.TemporaryFile(dir=ancestor, prefix=".bayesgen-write-test-"):
            pass
    except OSError as err:
        raise SpecError(f"{where}: {path} cannot be written: directory {ancestor} is not writable "
                        f"({err.strerror}).") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise SpecError(f"{where}: {path} exists and is not writable.")
    return path


def _data_file(value, key: str, base: Path, options: set) -> tuple[Path, dict]:
    """``key = "path.csv"`` or ``key = {path = "...", <options>}``; paths relative to the spec."""
    where = f"data.{key}"
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        raise SpecError(f"{where} must be a file path or a table with a 'path' key, got {_found(value)}.")
    if options is not None:
        _check_keys(value, options | {"path"}, where)
    path = Path(_name(_require(value, "path", where), f"{where}.path"))
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        raise SpecError(f"{where}: {path} is a directory; expected a CSV file.")
    if not path.exists():
        raise SpecError(f"{where}: file not found: {path}")
    try:
        with open(path, "rb") as fh:
            magic = fh.read(len(PLINK_BED_MAGIC))
    except OSError as err:
        raise SpecError(f"{where}: cannot read {path}: {err.strerror}.") from None
    if path.suffix.lower() == ".bed" or magic == PLINK_BED_MAGIC:
        raise SpecError(f"{where}: {path} is a PLINK .bed file, not a CSV; expected a CSV file "
                        "(an id column and one column of 0/1/2 allele counts per marker).")
    return path, {k: v for k, v in value.items() if k != "path"}


def _read_csv(where: str, path: Path, reader, **kwargs):
    """Run a CSV reader, turning read and option errors into a SpecError naming the file."""
    try:
        return reader(path, **kwargs)
    except UnicodeDecodeError:
        raise SpecError(f"{where}: {path} is not a text (UTF-8) CSV file.") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise SpecError(f"{where}: cannot read {path} as CSV: {err}") from None
    except (ValueError, KeyError, TypeError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise SpecError(f"{where} ({path}): {message}") from None


# --------------------------------------------------------------------------- sections
def _check_sampler(table: dict, overrides: dict) -> dict:
    """[sampler] values, then command-line overrides (named ``--key``) replacing them."""
    sampler = {}
    for source, named in ((table, "sampler.{}"), (overrides, "--{}")):
        for key, value in source.items():
            if value is None:
                continue
            where = named.format(key)
            if key in SAMPLER_COUNTS:
                sampler[key] = _count(value, where, SAMPLER_COUNTS[key])
            elif key == "store":
                if value not in STORE_MODES:
                    raise SpecError(f"{where} must be one of {', '.join(map(repr, STORE_MODES))}, got {_found(value)}.")
                sampler[key] = value
            else:
                raise SpecError(f"Unknown sampler setting {where}.")
    return sampler


def _variance_prior(value, key: str):
    """A number fixes the variance; a table {df, scale} is a ScaledInvChi2 prior."""
    where = f"priors.{key}"
    if value is None:
        return None
    if isinstance(value, dict):
        _check_keys(value, {"df", "scale"}, where)
        df = _number(_require(value, "df", where), f"{where}.df")
        scale = _number(_require(value, "scale", where), f"{where}.scale")
        try:
            return ScaledInvChi2(df, scale)
        except (TypeError, ValueError) as err:
            raise SpecError(f"{where}: {err}") from None
    if not _is_number(value):
        raise SpecError(f"{where} must be a number (fixed) or a table {{df, scale}}, got {_found(value)}.")
    return _positive_number(value, where)


def _marker_scale(value):
    """``priors.scale``: a number fixes S2; a table {shape, rate} is its Gamma prior."""
    if value is None:
        return None
    if isinstance(value, dict):
        _check_keys(value, {"shape", "rate"}, "priors.scale")
        shape = _number(_require(value, "shape", "priors.scale"), "priors.scale.shape")
        rate = _number(_require(value, "rate", "priors.scale"), "priors.scale.rate")
        try:
            return Gamma(shape, rate)
        except (TypeError, ValueError) as err:
            raise SpecError(f"priors.scale: {err}") from None
    if not _is_number(value):
        raise SpecError(f"priors.scale must be a number (fixed S2) or a table {{shape, rate}}, got {_found(value)}.")
    return _positive_number(value, "priors.scale")


def _one_of(value, allowed, where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(f"{where} must be one of {', '.join(map(repr, allowed))}, got {_found(value)}.")
    return value


def _check_model(model: dict, priors: dict, data: dict) -> dict:
    """[model] and [priors] keys, and which data each model type needs (before reading data)."""
    kind = _name(_require(model, "type", "model"), "model.type")
    if kind not in MODEL_TYPES:
        raise SpecError(f"model.type must be one of {', '.join(MODEL_TYPES)}, got {kind!r}.")
    settings = {
        "kind": kind,
        "trait": _name(_require(model, "trait", "model"), "model.trait"),
        "id": _name(_require(model, "id", "model"), "model.id"),
        "fixed": _names(model.get("fixed", []), "model.fixed"),
        "random": _names(model.get("random", []), "model.random"),
        "intercept": _boolean(model.get("intercept", True), "model.intercept"),
        "sigma2_e": _variance_prior(priors.get("sigma2_e"), "sigma2_e"),
        "rule": _one_of(priors.get("rule", "default"), PRIOR_RULES, "priors.rule"),
        "sampler": _one_of(model.get("sampler", "auto"), SAMPLERS, "model.sampler"),
    }
    simulated = "simulate" in data
    if kind == "animal":
        for key in ("df", "scale"):
            if key in priors:
                raise SpecError(f"priors.{key} applies to bayesA models only.")
        if not simulated and "pedigree" not in data:
            raise SpecError("model.type = 'animal' needs data.pedigree (or data.simulate).")
        settings["sigma2_a"] = _variance_prior(priors.get("sigma2_a"), "sigma2_a")
    else:
        if "sigma2_a" in priors:
            raise SpecError("priors.sigma2_a applies to animal models only.")
        if not simulated and "genotypes" not in data:
            raise SpecError("model.type = 'bayesA' needs data.genotypes (or data.simulate with n_markers > 0).")
        settings["df"] = _positive_number(priors.get("df", 5.0), "priors.df")
        settings["scale"] = _marker_scale(priors.get("scale"))
    return settings


def _check_data(data: dict) -> None:
    """Either a simulation or files, never both; simulate() argument names."""
    if "simulate" in data:
        clash = [f"data.{k}" for k in DATA_FILES if k in data]
        if clash:
            raise SpecError(f"data.simulate cannot be combined with {', '.join(clash)}: the simulation makes its "
                            "own phenotypes, pedigree and genotypes. Keep either simulate or the files.")
        options = data["simulate"]
        if not isinstance(options, dict):
            raise SpecError(f"data.simulate must be a table of simulate() arguments, got {_found(options)}.")
        _check_keys(options, SIMULATE_ARGUMENTS, "data.simulate")
    elif "phenotypes" not in data:
        raise SpecError("[data] needs either simulate = { ... } or phenotypes = \"file.csv\" (see models/README.md).")


def _simulate(options: dict):
    """Run simulate(); its errors start with the argument's name, which becomes data.simulate.<name>."""
    try:
        return simulate(**options)
    except (TypeError, ValueError) as err:
        message = str(err)
        separator = "." if message.split(" ", 1)[0] in SIMULATE_ARGUMENTS else ": "
        raise SpecError(f"data.simulate{separator}{message}") from None


def _load_data(data: dict, base: Path):
    """Phenotypes, pedigree and genotypes: simulated by the package or read from files."""
    if "simulate" in data:
        sim = _simulate(data["simulate"])
        return sim.phenotypes, sim.pedigree_object(), sim.genotypes
    phen_path, phen_opts = _data_file(data["phenotypes"], "phenotypes", base, options=None)
    phenotypes = _read_csv("data.phenotypes", phen_path, pd.read_csv, **phen_opts)
    pedigree = genotypes = None
    if "pedigree" in data:
        ped_path, ped_opts = _data_file(data["pedigree"], "pedigree", base, options={"id", "sire", "dam"})
        columns = {k: _name(v, f"data.pedigree.{k}") for k, v in ped_opts.items()}
        pedigree = _read_csv("data.pedigree", ped_path, Pedigree.from_csv, **columns)
    if "genotypes" in data:
        geno_path, geno_opts = _data_file(data["genotypes"], "genotypes", base, options={"id"})
        id_column = _name(_require(geno_opts, "id", "data.genotypes"), "data.genotypes.id")
        genotypes = _read_csv("data.genotypes", geno_path, Genotypes.from_csv, id=id_column)
    return phenotypes, pedigree, genotypes


def _build_model(settings: dict, data: dict, base: Path) -> Model:
    phenotypes, pedigree, genotypes = _load_data(data, base)
    common = dict(fixed=settings["fixed"], random=settings["random"], sigma2_e=settings["sigma2_e"],
                  intercept=settings["intercept"], priors=settings["rule"], sampler=settings["sampler"])
    try:
        if settings["kind"] == "animal":
            return AnimalModel(phenotypes, settings["trait"], settings["id"], pedigree,
                               sigma2_a=settings["sigma2_a"], **common)
        if genotypes is None:
            raise SpecError("model.type = 'bayesA' needs genotypes: data.simulate made none (n_markers = 0).")
        return BayesA(phenotypes, settings["trait"], settings["id"], genotypes, df=settings["df"],
                      scale=settings["scale"], **common)
    except SpecError:
        raise
    except (ValueError, KeyError, TypeError) as err:
        raise SpecError(err.args[0] if isinstance(err, KeyError) and err.args else str(err)) from None


def load_spec(path, overrides: dict | None = None) -> Spec:
    """Read and validate a spec file and build its model.

    ``overrides`` (from the command line) replace [sampler] values (``draws``, ``burn``, ...)
    and ``output`` replaces [output] path; None values are ignored. All checks that need
    no data run before any data file is read or simulated.
    """
    path = Path(path)
    spec = _read_toml(path)
    _check_keys(spec, set(SECTIONS), "the spec (top-level sections)")
    tables = {name: _table(spec, name) for name in SECTIONS}
    for name, allowed in SECTIONS.items():
        _check_keys(tables[name], allowed, f"[{name}]")
    overrides = dict(overrides or {})
    output_override = overrides.pop("output", None)
    sampler = _check_sampler(tables["sampler"], overrides)
    if output_override is not None:
        output = check_output_path(output_override, "--output")
    elif "path" in tables["output"]:
        output = check_output_path(tables["output"]["path"], "output.path")
    else:
        output = None
    settings = _check_model(tables["model"], tables["priors"], tables["data"])
    _check_data(tables["data"])
    model = _build_model(settings, tables["data"], path.parent)
    return Spec(model=model, sampler=sampler, output=output)
