"""Declarative model specs (TOML, see ``models/README.md``) turned into a Model and sampler settings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.genotypes import Genotypes
from ..data.pedigree import Pedigree
from ..model import AnimalModel, BayesA, Model
from ..priors.gamma import Gamma
from ..priors.scaled_inv_chi2 import ScaledInvChi2
from ..simulation import simulate

SECTIONS = {
    "data": {"simulate", "phenotypes", "pedigree", "genotypes"},
    "model": {"type", "trait", "id", "fixed", "random", "intercept"},
    "priors": {"sigma2_a", "sigma2_e", "df", "scale"},
    "sampler": {"chains", "draws", "burn", "thin", "seed", "store"},
    "output": {"path"},
}
MODEL_TYPES = ("animal", "bayesA")


class SpecError(ValueError):
    """A spec is invalid; the message names the offending key."""


@dataclass
class Spec:
    model: Model
    sampler: dict = field(default_factory=dict)
    output: Path | None = None


def _table(spec: dict, key: str) -> dict:
    value = spec.get(key, {})
    if not isinstance(value, dict):
        raise SpecError(f"[{key}] must be a table, got {type(value).__name__}.")
    return value


def _check_keys(table: dict, allowed: set, where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise SpecError(f"Unknown key(s) in {where}: {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.")


def _require(table: dict, key: str, where: str, kind=None):
    if key not in table:
        raise SpecError(f"Missing required key {where}.{key}.")
    value = table[key]
    if kind is not None and not isinstance(value, kind):
        raise SpecError(f"{where}.{key} must be of type {getattr(kind, '__name__', kind)}, got {value!r}.")
    return value


def _variance_prior(value, key: str):
    """A number fixes the variance; a table {df, scale} is a ScaledInvChi2 prior."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, dict):
        _check_keys(value, {"df", "scale"}, f"priors.{key}")
        try:
            return ScaledInvChi2(_require(value, "df", f"priors.{key}"), _require(value, "scale", f"priors.{key}"))
        except (TypeError, ValueError) as err:
            raise SpecError(f"priors.{key}: {err}") from None
    raise SpecError(f"priors.{key} must be a number (fixed) or a table {{df, scale}}, got {value!r}.")


def _file_table(value, key: str, base: Path) -> tuple[Path, dict]:
    """``key = "path.csv"`` or ``key = {path = "...", <column options>}``; paths relative to the spec."""
    if isinstance(value, str):
        value = {"path": value}
    if not isinstance(value, dict) or "path" not in value:
        raise SpecError(f"data.{key} must be a path or a table with a 'path' key, got {value!r}.")
    path = Path(value["path"])
    path = path if path.is_absolute() else base / path
    if not path.exists():
        raise SpecError(f"data.{key}: file not found: {path}")
    return path, {k: v for k, v in value.items() if k != "path"}


def load_spec(path, overrides: dict | None = None) -> Spec:
    """Read and validate a spec file; ``overrides`` replace [sampler]/[output] values."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            spec = tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError(f"Spec file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"Spec {path} is not valid TOML: {err}") from None
    _check_keys(spec, set(SECTIONS), "the spec (top-level sections)")
    tables = {name: _table(spec, name) for name in SECTIONS}
    for name, allowed in SECTIONS.items():
        _check_keys(tables[name], allowed, f"[{name}]")
    sampler = dict(tables["sampler"])
    output = tables["output"].get("path")
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "output":
            output = value
        else:
            sampler[key] = value
    model = _build_model(tables, path.parent)
    return Spec(model=model, sampler=sampler, output=Path(output) if output else None)


def _load_data(data: dict, base: Path):
    """Phenotypes, pedigree and genotypes: simulated by the package or read from files."""
    if "simulate" in data:
        options = data["simulate"]
        if not isinstance(options, dict):
            raise SpecError("data.simulate must be a table of simulate() arguments.")
        try:
            sim = simulate(**options)
        except TypeError as err:
            raise SpecError(f"data.simulate: {err}") from None
        return sim.phenotypes, sim.pedigree_object(), sim.genotypes
    phen_path, phen_opts = _file_table(_require(data, "phenotypes", "data"), "phenotypes", base)
    phenotypes = pd.read_csv(phen_path, **phen_opts)
    pedigree = genotypes = None
    if "pedigree" in data:
        ped_path, ped_opts = _file_table(data["pedigree"], "pedigree", base)
        _check_keys(ped_opts, {"id", "sire", "dam"}, "data.pedigree")
        pedigree = Pedigree.from_csv(ped_path, **ped_opts)
    if "genotypes" in data:
        geno_path, geno_opts = _file_table(data["genotypes"], "genotypes", base)
        _check_keys(geno_opts, {"id"}, "data.genotypes")
        genotypes = Genotypes.from_csv(geno_path, id=_require(geno_opts, "id", "data.genotypes"))
    return phenotypes, pedigree, genotypes


def _build_model(tables: dict, base: Path) -> Model:
    model, priors = tables["model"], tables["priors"]
    kind = _require(model, "type", "model", str)
    if kind not in MODEL_TYPES:
        raise SpecError(f"model.type must be one of {', '.join(MODEL_TYPES)}, got {kind!r}.")
    trait = _require(model, "trait", "model", str)
    id_column = _require(model, "id", "model", str)
    fixed = model.get("fixed", [])
    random = model.get("random", [])
    for key, value in (("fixed", fixed), ("random", random)):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SpecError(f"model.{key} must be a list of column names, got {value!r}.")
    intercept = model.get("intercept", True)
    phenotypes, pedigree, genotypes = _load_data(tables["data"], base)
    sigma2_e = _variance_prior(priors.get("sigma2_e"), "sigma2_e")
    if kind == "animal":
        if pedigree is None:
            raise SpecError("model.type = 'animal' needs data.pedigree (or data.simulate).")
        for key in ("df", "scale"):
            if key in priors:
                raise SpecError(f"priors.{key} applies to bayesA models only.")
        return AnimalModel(phenotypes, trait, id_column, pedigree, fixed=fixed, random=random,
                           sigma2_a=_variance_prior(priors.get("sigma2_a"), "sigma2_a"), sigma2_e=sigma2_e,
                           intercept=intercept)
    if genotypes is None:
        raise SpecError("model.type = 'bayesA' needs data.genotypes (or data.simulate with n_markers > 0).")
    if "sigma2_a" in priors:
        raise SpecError("priors.sigma2_a applies to animal models only.")
    scale = priors.get("scale")
    if isinstance(scale, dict):
        _check_keys(scale, {"shape", "rate"}, "priors.scale")
        scale = Gamma(_require(scale, "shape", "priors.scale"), _require(scale, "rate", "priors.scale"))
    return BayesA(phenotypes, trait, id_column, genotypes, fixed=fixed, random=random,
                  df=priors.get("df", 5.0), scale=scale, sigma2_e=sigma2_e, intercept=intercept)
