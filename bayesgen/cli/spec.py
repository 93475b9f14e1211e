"""Declarative model specs (TOML, see ``models/README.md``) turned into a Model and sampler settings.

Everything that can be checked without the data is checked before any data file is read or
any population simulated: section and key names, the type and range of every value, the
combination of data sources, and the output path. Every error is a :class:`SpecError` whose
message names the key (``model.intercept``), option (``--draws``) or file at fault and says
what was expected.
"""

from __future__ import annotations

import inspect
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.genotypes import Genotypes
from ..data.pedigree import Pedigree
from ..data.plink import read_plink
from ..likelihoods import FAMILIES
from ..model import Model
from ..model.model import SAMPLERS
from ..output.store import STORE_MODES
from ..priors.defaults import PRIOR_RULES
from ..simulation import simulate
from .model_types import (
    MODEL_TYPES,
    SpecError,
    check_keys,
    found,
    is_number,
    model_type,
    require,
    single_step_options,
    variance_prior,
)

SECTIONS = {
    "data": {"simulate", "phenotypes", "pedigree", "genotypes"},
    "model": {
        "type",
        "formula",
        "trait",
        "id",
        "fixed",
        "random",
        "intercept",
        "sampler",
        "family",
        "bounds",
        "categories",
        "single_step",
    },
    "priors": None,  # checked against the keys of the chosen model.type (model_types.py)
    "sampler": {"chains", "cores", "draws", "burn", "thin", "seed", "store"},
    "output": {"path"},
}
#: [priors] keys that every model type takes.
COMMON_PRIORS = ("rule", "sigma2_e")
#: data.genotypes = { plink = "prefix", <read_plink QC options> }: option -> its upper bound.
PLINK_OPTIONS = {"maf": 0.5, "call_rate": 1.0}
#: [sampler] integer keys and their minimum values.
SAMPLER_COUNTS = {"draws": 1, "burn": 0, "thin": 1, "chains": 1, "cores": 1, "seed": 0}
#: Data files that a simulation replaces.
DATA_FILES = ("phenotypes", "pedigree", "genotypes")
SIMULATE_ARGUMENTS = tuple(inspect.signature(simulate).parameters)
OUTPUT_SUFFIX = ".nc"
#: First two bytes of every PLINK .bed file.
PLINK_BED_MAGIC = b"\x6c\x1b"


@dataclass
class Spec:
    model: Model
    sampler: dict = field(default_factory=dict)
    output: Path | None = None
    #: ``Simulation.truth`` when the data are simulated (data.simulate), else None.
    truth: dict | None = None


# --------------------------------------------------------------------------- value checks
def _count(value, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SpecError(f"{where} must be an integer >= {minimum}, got {found(value)}.")
    return value


def _boolean(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{where} must be true or false, got {found(value)}.")
    return value


def _name(value, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise SpecError(f"{where} must be a non-empty string, got {found(value)}.")
    return value


def _names(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{where} must be a list of column names (strings), got {found(value)}.")
    return value


def _table(spec: dict, key: str) -> dict:
    value = spec.get(key, {})
    if not isinstance(value, dict):
        raise SpecError(f"[{key}] must be a table, got {found(value)}.")
    return value


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


def check_writable_directory(path: Path, where: str) -> Path:
    """The nearest existing ancestor directory of ``path``, after checking that a file can be
    created in it (probed with a temporary file, which also catches read-only file systems
    and, unlike ``os.access``, holds for root). ``where`` names the argument in the error."""
    ancestor = path.absolute().parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise SpecError(f"{where}: {path} cannot be created: {ancestor} is a file, not a directory.")
    try:
        with tempfile.TemporaryFile(dir=ancestor, prefix=".bayesgen-write-test-"):
            pass
    except OSError as err:
        raise SpecError(
            f"{where}: {path} cannot be written: directory {ancestor} is not writable ({err.strerror})."
        ) from None
    return ancestor


def check_output_path(value, where: str) -> Path:
    """The netCDF file to write, checked before sampling so that no draws are lost after it.

    The path must end in ``.nc`` and not be a directory; its nearest existing ancestor must
    be a directory in which a file can be created (probed with a temporary file, which also
    catches read-only file systems and, unlike ``os.access``, holds for root); an existing
    file must be writable. Missing parent directories are created only when writing.
    """
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise SpecError(f"{where} must be a non-empty string naming a netCDF file (*.nc), got {found(value)}.")
    path = Path(value)
    if path.is_dir():
        raise SpecError(f"{where}: {path} is a directory; expected a netCDF file name such as {path / 'fit.nc'}.")
    if path.suffix != OUTPUT_SUFFIX:
        raise SpecError(f"{where}: {path} does not end in {OUTPUT_SUFFIX}; expected a netCDF file name (*.nc).")
    check_writable_directory(path, where)
    if path.exists() and not os.access(path, os.W_OK):
        raise SpecError(f"{where}: {path} exists and is not writable.")
    return path


def _data_file(value, key: str, base: Path, options: set) -> tuple[Path, dict]:
    """``key = "path.csv"`` or ``key = {path = "...", <options>}``; paths relative to the spec."""
    where = f"data.{key}"
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict):
        raise SpecError(f"{where} must be a file path or a table with a 'path' key, got {found(value)}.")
    if options is not None:
        check_keys(value, options | {"path"}, where)
    path = Path(_name(require(value, "path", where), f"{where}.path"))
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
        raise SpecError(
            f"{where}: {path} is a PLINK .bed file, not a CSV; expected a CSV file "
            "(an id column and one column of 0/1/2 allele counts per marker). "
            f'For PLINK write {key} = {{ plink = "{path.with_suffix("").name}" }}.'
        )
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
                    raise SpecError(f"{where} must be one of {', '.join(map(repr, STORE_MODES))}, got {found(value)}.")
                sampler[key] = value
            else:
                raise SpecError(f"Unknown sampler setting {where}.")
    return sampler


def _one_of(value, allowed, where: str) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(f"{where} must be one of {', '.join(map(repr, allowed))}, got {found(value)}.")
    return value


def _check_prior_keys(priors: dict, kind: str) -> None:
    """Every [priors] key must belong to the chosen model type; a key of another type says whose it is."""
    allowed = set(COMMON_PRIORS) | set(MODEL_TYPES[kind].priors)
    unknown = sorted(set(priors) - allowed)
    if not unknown:
        return
    described = []
    for key in unknown:
        owners = [name for name, entry in MODEL_TYPES.items() if key in entry.priors]
        described.append(f"{key} (a key of {', '.join(owners)})" if owners else key)
    raise SpecError(
        f"[priors] key(s) not used by model.type = {kind!r}: {'; '.join(described)}. "
        f"Allowed for {kind}: {', '.join(sorted(allowed))}."
    )


def _check_formula(model: dict, priors: dict, data: dict) -> dict:
    """``model.formula = "y ~ sex + (1|herd) + animal(id)"``: it replaces model.type, trait, id, fixed,
    random and intercept; [priors] keys are ``rule``, ``sigma2_e`` and the formula's term or variance
    names (a number or {df, scale}); pedigree and genotypes are required by the terms that use them."""
    from ..model.formula import FormulaError, parse

    clash = [f"model.{k}" for k in ("type", "trait", "id", "fixed", "random", "intercept") if k in model]
    if clash:
        raise SpecError(f"model.formula replaces {', '.join(clash)}: keep either the formula or those keys.")
    formula = model["formula"]
    if not isinstance(formula, str):
        raise SpecError(f'model.formula must be a string such as "y ~ sex + animal(id)", got {found(formula)}.')
    try:
        parsed = parse(formula)
    except FormulaError as err:
        raise SpecError(f"model.formula: {err}") from None
    term_priors = {
        key: variance_prior(value, f"priors.{key}") for key, value in priors.items() if key not in COMMON_PRIORS
    }
    needs = {"animal": "pedigree", "maternal": "pedigree", "markers": "genotypes"}
    for _, function, _ in parsed.special:
        if function in needs and needs[function] not in data and "simulate" not in data:
            raise SpecError(f"model.formula: {function}() needs data.{needs[function]} (or data.simulate).")
    return {
        "kind": None,
        "formula": formula,
        "trait": parsed.traits[0],
        "traits": list(parsed.traits),
        "term_priors": term_priors,
        "common": {
            "sigma2_e": None if "sigma2_e" not in priors else variance_prior(priors["sigma2_e"], "priors.sigma2_e")
        },
    }


def _check_model(model: dict, priors: dict, data: dict) -> dict:
    """[model] and [priors] keys, and which data each model type needs (before reading data)."""
    if "formula" in model:
        settings = _check_formula(model, priors, data)
        settings["common"]["priors"] = _one_of(priors.get("rule", "default"), PRIOR_RULES, "priors.rule")
        kind, entry = None, None
    else:
        kind = require(model, "type", "model")
        entry = model_type(kind)
        _check_prior_keys(priors, kind)
        settings = {
            "kind": kind,
            "trait": _name(require(model, "trait", "model"), "model.trait"),
            "id": _name(require(model, "id", "model"), "model.id"),
            "common": {
                "fixed": _names(model.get("fixed", []), "model.fixed"),
                "random": _names(model.get("random", []), "model.random"),
                "intercept": _boolean(model.get("intercept", True), "model.intercept"),
                "sigma2_e": None if "sigma2_e" not in priors else variance_prior(priors["sigma2_e"], "priors.sigma2_e"),
                "priors": _one_of(priors.get("rule", "default"), PRIOR_RULES, "priors.rule"),
            },
            "priors": entry.parse_priors(kind, priors),
        }
    family = model.get("family")
    if isinstance(family, list):  # one per trait of a formula's cbind(...)
        traits = settings.get("traits", [settings["trait"]])
        if len(traits) < 2:
            raise SpecError(
                "A list model.family (one family per trait) goes with a model.formula of several traits, "
                f'"cbind(a, b) ~ ...", got {found(family)}.'
            )
        if len(family) != len(traits):
            raise SpecError(
                f"model.family lists {len(family)} families for the formula's {len(traits)} traits {traits}."
            )
        settings["common"]["family"] = [_one_of(f, tuple(FAMILIES), f"model.family[{k}]") for k, f in enumerate(family)]
    elif "family" in model:
        settings["common"]["family"] = _one_of(family, tuple(FAMILIES), "model.family")
    censored = family == "censored" or (isinstance(family, list) and "censored" in family)
    if "bounds" in model:
        if not censored:
            raise SpecError('model.bounds goes with model.family = "censored" (or a "censored" entry in its list).')
        bounds = _names(model["bounds"], "model.bounds")
        if len(bounds) != 2:
            raise SpecError(f"model.bounds must be two column names [lower, upper], got {found(model['bounds'])}.")
        settings["common"]["bounds"] = tuple(bounds)
    elif censored:
        raise SpecError('A "censored" model.family needs model.bounds = ["lower column", "upper column"].')
    if "categories" in model:
        if family != "threshold":
            raise SpecError(
                'model.categories (the order of an ordinal trait\'s categories) goes with model.family = "threshold" '
                "(one trait; with several, give the column as an ordered category or sorted integer codes)."
            )
        settings["categories"] = _names(model["categories"], "model.categories")
    if "sampler" in model:  # else the shortcut's default (GBLUP picks single-site on its eigen route)
        settings["common"]["sampler"] = _one_of(model["sampler"], SAMPLERS, "model.sampler")
    if "single_step" in model:
        if kind != "single-step":
            raise SpecError(f'model.single_step goes with model.type = "single-step", not {kind!r}.')
        settings["priors"].update(single_step_options(model["single_step"], "model.single_step"))
    if kind == "single-step":
        bayes = settings["priors"].get("method") == "bayes"
        wrong = [k for k in (("sigma2_a",) if bayes else ("sigma2_epsilon", "pi", "variance")) if k in priors]
        if wrong:
            other = "ssgblup" if bayes else "bayes"
            raise SpecError(f'priors.{wrong[0]} applies to model.single_step.method = "{other}".')
    simulate_options = data.get("simulate")
    if entry is None:
        return settings
    for needed in entry.needs.split("+"):
        if simulate_options is None and needed not in data:
            extra = " with n_markers > 0" if needed == "genotypes" else ""
            raise SpecError(f"model.type = {kind!r} needs data.{needed} (or data.simulate{extra}).")
    if "genotypes" in entry.needs and isinstance(simulate_options, dict) and simulate_options.get("n_markers") == 0:
        raise SpecError(f"model.type = {kind!r} needs genotypes, but data.simulate.n_markers = 0 simulates none.")
    return settings


def _check_data(data: dict) -> None:
    """Either a simulation or files, never both; simulate() argument names."""
    if "simulate" in data:
        clash = [f"data.{k}" for k in DATA_FILES if k in data]
        if clash:
            raise SpecError(
                f"data.simulate cannot be combined with {', '.join(clash)}: the simulation makes its "
                "own phenotypes, pedigree and genotypes. Keep either simulate or the files."
            )
        options = data["simulate"]
        if not isinstance(options, dict):
            raise SpecError(f"data.simulate must be a table of simulate() arguments, got {found(options)}.")
        check_keys(options, SIMULATE_ARGUMENTS, "data.simulate")
    elif "phenotypes" not in data:
        raise SpecError('[data] needs either simulate = { ... } or phenotypes = "file.csv" (see models/README.md).')
    elif _is_plink(data.get("genotypes")):
        _check_plink_options(data["genotypes"])
    elif isinstance(data.get("genotypes"), dict):  # the CSV form; its unknown keys listed with plink's
        check_keys(data["genotypes"], {"path", "id", "plink"}, "data.genotypes")


def _is_plink(value) -> bool:
    return isinstance(value, dict) and "plink" in value


def _check_plink_options(value: dict) -> None:
    """``data.genotypes = { plink = "prefix", maf = ..., call_rate = ..., packed = ... }``: keys and types."""
    where = "data.genotypes"
    if "path" in value:
        raise SpecError(f"{where} takes either path (a CSV file, with id) or plink (a PLINK file set), not both.")
    check_keys(value, {"plink", "packed", *PLINK_OPTIONS}, f"{where} (PLINK form)")
    _name(value["plink"], f"{where}.plink")
    for key, upper in PLINK_OPTIONS.items():
        if key in value and not (is_number(value[key]) and 0 <= value[key] <= upper):
            raise SpecError(f"{where}.{key} must be a number in [0, {upper:g}], got {found(value[key])}.")
    if "packed" in value:
        _boolean(value["packed"], f"{where}.packed")


def _read_plink(value: dict, base: Path) -> Genotypes:
    """Genotypes from a PLINK file set (prefix, or the .bed path, relative to the spec file).

    read_plink's own errors (missing files, a .bed that does not match its .bim/.fam, no
    marker left after QC) are passed on with the key in front.
    """
    prefix = Path(value["plink"])
    prefix = prefix if prefix.is_absolute() else base / prefix
    try:
        return read_plink(prefix, **{k: value[k] for k in (*PLINK_OPTIONS, "packed") if k in value})
    except (OSError, ValueError, TypeError) as err:
        raise SpecError(f"data.genotypes.plink: {err}") from None


def _simulate(options: dict):
    """Run simulate(); its errors start with the argument's name, which becomes data.simulate.<name>."""
    try:
        return simulate(**options)
    except (TypeError, ValueError) as err:
        message = str(err)
        separator = "." if message.split(" ", 1)[0] in SIMULATE_ARGUMENTS else ": "
        raise SpecError(f"data.simulate{separator}{message}") from None


def _load_data(data: dict, base: Path):
    """Phenotypes, pedigree, genotypes (simulated by the package or read from files) and the
    simulation's true values (None for files)."""
    if "simulate" in data:
        sim = _simulate(data["simulate"])
        return sim.phenotypes, sim.pedigree_object(), sim.genotypes, sim.truth
    phen_path, phen_opts = _data_file(data["phenotypes"], "phenotypes", base, options=None)
    phenotypes = _read_csv("data.phenotypes", phen_path, pd.read_csv, **phen_opts)
    pedigree = genotypes = None
    if "pedigree" in data:
        ped_path, ped_opts = _data_file(data["pedigree"], "pedigree", base, options={"id", "sire", "dam"})
        columns = {k: _name(v, f"data.pedigree.{k}") for k, v in ped_opts.items()}
        pedigree = _read_csv("data.pedigree", ped_path, Pedigree.from_csv, **columns)
    if _is_plink(data.get("genotypes")):
        genotypes = _read_plink(data["genotypes"], base)
    elif "genotypes" in data:
        geno_path, geno_opts = _data_file(data["genotypes"], "genotypes", base, options={"id"})
        id_column = _name(require(geno_opts, "id", "data.genotypes"), "data.genotypes.id")
        genotypes = _read_csv("data.genotypes", geno_path, Genotypes.from_csv, column=id_column)
    return phenotypes, pedigree, genotypes, None


def _build_model(settings: dict, data: dict, base: Path) -> tuple[Model, dict | None]:
    """The model, and the simulation's true values when the data are simulated."""
    phenotypes, pedigree, genotypes, truth = _load_data(data, base)
    if "categories" in settings and settings["trait"] in phenotypes.columns:
        phenotypes = _ordered_categories(phenotypes, settings["trait"], settings["categories"])
    if settings.get("formula") is not None:
        from ..model.formula import FormulaError

        common = dict(settings["common"])
        rule = common.pop("priors")
        try:
            return Model.from_formula(
                settings["formula"],
                phenotypes,
                pedigree=pedigree,
                genotypes=genotypes,
                priors={**settings["term_priors"], "rule": rule},
                **common,
            ), truth
        except FormulaError as err:
            raise SpecError(f"model.formula: {err}") from None
        except (ValueError, TypeError) as err:
            raise SpecError(str(err)) from None
    kind = settings["kind"]
    entry = MODEL_TYPES[kind]
    # Never None: _check_model requires the file, and a simulation always makes a pedigree and,
    # unless n_markers = 0 (rejected there too), genotypes.
    source = {"pedigree": pedigree, "genotypes": genotypes, "pedigree+genotypes": (pedigree, genotypes)}[entry.needs]
    try:
        return entry.build(
            phenotypes, settings["trait"], settings["id"], source, **settings["priors"], **settings["common"]
        ), truth
    except SpecError:
        raise
    except (ValueError, KeyError, TypeError) as err:
        raise SpecError(err.args[0] if isinstance(err, KeyError) and err.args else str(err)) from None


def _ordered_categories(phenotypes: pd.DataFrame, trait: str, categories: list) -> pd.DataFrame:
    """The trait column as an ordered Categorical in the order of model.categories (values compared as text)."""
    text = phenotypes[trait].map(lambda v: v if pd.isna(v) else str(v))
    unknown = sorted(set(text.dropna()) - set(categories))
    if unknown:
        raise SpecError(f"Phenotype column {trait!r} has values {unknown[:5]} not in model.categories {categories}.")
    phenotypes = phenotypes.copy()
    phenotypes[trait] = pd.Categorical(text, categories=categories, ordered=True)
    return phenotypes


def load_spec(path, overrides: dict | None = None) -> Spec:
    """Read and validate a spec file and build its model.

    ``overrides`` (from the command line) replace [sampler] values (``draws``, ``burn``, ...)
    and ``output`` replaces [output] path; None values are ignored. All checks that need
    no data run before any data file is read or simulated.
    """
    path = Path(path)
    spec = _read_toml(path)
    check_keys(spec, set(SECTIONS), "the spec (top-level sections)")
    tables = {name: _table(spec, name) for name in SECTIONS}
    for name, allowed in SECTIONS.items():
        if allowed is not None:
            check_keys(tables[name], allowed, f"[{name}]")
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
    model, truth = _build_model(settings, tables["data"], path.parent)
    return Spec(model=model, sampler=sampler, output=output, truth=truth)


def load_scan_data(path):
    """(phenotypes, genotypes, {trait, id, fixed}) of a spec, for ``bayesgen gwas``: its [data] as for
    ``fit`` and the trait, id and fixed columns of [model]; the other sections are not used."""
    path = Path(path)
    spec = _read_toml(path)
    check_keys(spec, set(SECTIONS), "the spec (top-level sections)")
    data, model = _table(spec, "data"), _table(spec, "model")
    check_keys(data, SECTIONS["data"], "[data]")
    _check_data(data)
    settings = {
        "trait": _name(require(model, "trait", "model"), "model.trait"),
        "id": _name(require(model, "id", "model"), "model.id"),
        "fixed": _names(model.get("fixed", []), "model.fixed"),
    }
    phenotypes, _, genotypes, _ = _load_data(data, path.parent)
    if genotypes is None:
        raise SpecError("bayesgen gwas needs genotypes: data.genotypes (or data.simulate with n_markers > 0).")
    return phenotypes, genotypes, settings


def simulation_of(path):
    """The Simulation that a spec's ``data.simulate`` makes (for ``bayesgen simulate``)."""
    path = Path(path)
    spec = _read_toml(path)
    check_keys(spec, set(SECTIONS), "the spec (top-level sections)")
    data = _table(spec, "data")
    check_keys(data, SECTIONS["data"], "[data]")
    if "simulate" not in data:
        raise SpecError(f"{path} has no data.simulate table: there is nothing to simulate.")
    _check_data(data)
    return _simulate(data["simulate"])
