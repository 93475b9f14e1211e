"""The ``model.type`` values of a spec and their ``[priors]`` keys, one table entry per type.

Each :class:`ModelType` names the model shortcut that builds it (``bg.BayesB``, ...), the data
it needs (a pedigree or genotypes), and its prior keys with the parser of each. A parser turns
the TOML value into the shortcut's argument (a number, or a prior object for a table) and
raises a :class:`SpecError` naming the key when the value has the wrong type or range. Keys
of ``[priors]`` that every type takes (``rule``, ``sigma2_e``) are handled in ``spec.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from ..model import BRR, GBLUP, AnimalModel, BayesA, BayesB, BayesC, BayesCPi, BayesLasso, BayesR
from ..priors.bayes_a import BayesAPrior
from ..priors.bayes_b import BayesBPrior
from ..priors.bayes_c import BayesCPrior
from ..priors.bayes_r import BayesRPrior
from ..priors.beta import Beta
from ..priors.gamma import Gamma
from ..priors.lasso import LassoPrior
from ..priors.ridge import RidgePrior
from ..priors.scaled_inv_chi2 import ScaledInvChi2


class SpecError(ValueError):
    """A spec (or a command-line override) is invalid; the message names the key, option or file."""


# --------------------------------------------------------------------------- value checks
def found(value) -> str:
    """How a found value is shown in a message: its TOML-ish repr and Python type."""
    return f"{value!r} ({type(value).__name__})"


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value, where: str):
    """A number of any sign; its range is checked by the class it is passed to."""
    if not is_number(value):
        raise SpecError(f"{where} must be a number, got {found(value)}.")
    return value


def positive_number(value, where: str) -> float:
    if not is_number(value) or not math.isfinite(value) or value <= 0:
        raise SpecError(f"{where} must be a number > 0, got {found(value)}.")
    return float(value)


def check_keys(table: dict, allowed, where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise SpecError(f"Unknown key(s) in {where}: {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}.")


def require(table: dict, key: str, where: str):
    if key not in table:
        raise SpecError(f"Missing required key {where}.{key}.")
    return table[key]


def _prior_table(value: dict, family, keys: tuple[str, str], where: str):
    """``{key1 = x, key2 = y}`` -> ``family(x, y)``; the class's range errors are prefixed with the key."""
    check_keys(value, set(keys), where)
    args = [number(require(value, key, where), f"{where}.{key}") for key in keys]
    try:
        return family(*args)
    except (TypeError, ValueError) as err:
        raise SpecError(f"{where}: {err}") from None


# --------------------------------------------------------------------------- [priors] parsers
def variance_prior(value, where: str):
    """A number > 0 fixes the variance; a table {df, scale} is a Scale-inv-chi2(df, scale) prior."""
    if isinstance(value, dict):
        return _prior_table(value, ScaledInvChi2, ("df", "scale"), where)
    if not is_number(value):
        raise SpecError(f"{where} must be a number (fixed) or a table {{df, scale}}, got {found(value)}.")
    return positive_number(value, where)


def gamma_or_number(value, where: str):
    """A number > 0 fixes the parameter; a table {shape, rate} is its Gamma(shape, rate) prior."""
    if isinstance(value, dict):
        return _prior_table(value, Gamma, ("shape", "rate"), where)
    if not is_number(value):
        raise SpecError(f"{where} must be a number (fixed) or a table {{shape, rate}}, got {found(value)}.")
    return positive_number(value, where)


def inclusion(value, where: str):
    """pi: a number in (0, 1] is fixed; a table {a, b} is its Beta(a, b) prior (pi sampled)."""
    if isinstance(value, dict):
        return _prior_table(value, Beta, ("a", "b"), where)
    if not is_number(value) or not 0.0 < value <= 1.0:
        raise SpecError(
            f"{where} must be a number in (0, 1] (fixed) or a table {{a, b}} (a Beta prior), got {found(value)}."
        )
    return float(value)


def sampled_inclusion(value, where: str):
    """pi of BayesCpi, which samples it: only a table {a, b}."""
    if not isinstance(value, dict):
        raise SpecError(
            f"{where} must be a table {{a, b}} (the Beta prior of the sampled pi) for "
            f"model.type = 'bayesCpi', got {found(value)}; use model.type = 'bayesC' to fix pi."
        )
    return inclusion(value, where)


def class_multipliers(value, where: str) -> list[float]:
    """BayesR's gamma: 0 followed by one or more numbers > 0."""
    if (
        not isinstance(value, list)
        or len(value) < 2
        or not all(is_number(v) for v in value)
        or value[0] != 0
        or not all(math.isfinite(v) and v > 0 for v in value[1:])
    ):
        raise SpecError(
            f"{where} must be a list of numbers starting with 0 followed by numbers > 0 "
            f"(e.g. [0, 1e-4, 1e-3, 1e-2]), got {found(value)}."
        )
    return [float(v) for v in value]


def positive_numbers(value, where: str) -> list[float]:
    if not isinstance(value, list) or not value or not all(is_number(v) and math.isfinite(v) and v > 0 for v in value):
        raise SpecError(f"{where} must be a non-empty list of numbers > 0, got {found(value)}.")
    return [float(v) for v in value]


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class ModelType:
    """One ``model.type``.

    ``build(data, trait, id, source, **priors, **common)`` is the model shortcut; ``source``
    is the pedigree or the genotypes (``needs``). ``priors`` maps each ``[priors]`` key of
    this type to its parser, whose result is passed to ``build`` under ``SPEC_ARGUMENTS[key]``
    (default: the key itself; the spec names the variance, the shortcut calls its prior ``prior=``). ``marker_prior``, when given, builds the marker prior from
    the parsed keys so that their joint checks (pi with its Beta, dirichlet against gamma)
    run before any data is read.
    """

    build: Callable
    needs: str
    description: str
    priors: dict[str, Callable] = field(default_factory=dict)
    marker_prior: Callable | None = None

    def parse_priors(self, kind: str, table: dict) -> dict:
        """The shortcut's prior arguments from the ``[priors]`` keys of this type."""
        keys = {SPEC_ARGUMENTS.get(key, key): key for key in self.priors if key in table}
        arguments = {argument: self.priors[key](table[key], f"priors.{key}") for argument, key in keys.items()}
        if self.marker_prior is not None:
            error = _construction_error(self.marker_prior, arguments)
            if error is not None:
                # Name the key when it fails alone with the same message; else the combination is at fault.
                alone = [
                    keys[argument]
                    for argument, value in arguments.items()
                    if _construction_error(self.marker_prior, {argument: value}) == error
                ]
                where = f"priors.{alone[0]}" if len(alone) == 1 else f"[priors] of model.type = {kind!r}"
                raise SpecError(f"{where}: {error}")
        return arguments


def _construction_error(prior_class, arguments: dict) -> str | None:
    try:
        prior_class(**arguments)
    except (TypeError, ValueError) as err:
        return str(err)
    return None


def _bayes_cpi_prior(pi=None, prior=None):
    return BayesCPrior(pi=Beta(5.5, 5.5) if pi is None else pi, prior=prior)


#: ``[priors]`` keys (named after the variance) -> the shortcut's argument (its prior).
SPEC_ARGUMENTS = {"sigma2_a": "prior", "sigma2_g": "prior", "variance": "prior"}


#: model.single_step = { ... } keys (model.type = "single-step") and the marker priors of method = "bayes".
SINGLE_STEP_OPTIONS = ("method", "blend", "tune", "marker_prior", "j_covariate")
SINGLE_STEP_MARKER_PRIORS = {
    "BRR": RidgePrior,
    "bayesA": BayesAPrior,
    "bayesB": BayesBPrior,
    "bayesC": BayesCPrior,
    "bayesLasso": LassoPrior,
}


def single_step_options(value, where: str) -> dict:
    """``model.single_step = { method, blend, tune, marker_prior, j_covariate }`` (all optional)."""
    if not isinstance(value, dict):
        raise SpecError(
            f"{where} must be a table {{method, blend, tune, marker_prior, j_covariate}}, got {found(value)}."
        )
    check_keys(value, set(SINGLE_STEP_OPTIONS), where)
    out = dict(value)
    if out.get("method", "ssgblup") not in ("ssgblup", "bayes"):
        raise SpecError(f'{where}.method must be "ssgblup" or "bayes", got {found(out["method"])}.')
    if "blend" in out and not (is_number(out["blend"]) and 0 <= out["blend"] <= 1):
        raise SpecError(f"{where}.blend must be a number in [0, 1], got {found(out['blend'])}.")
    if "tune" in out and out["tune"] not in ("mean", "none"):
        raise SpecError(f'{where}.tune must be "mean" or "none", got {found(out["tune"])}.')
    if "marker_prior" in out and out["marker_prior"] not in SINGLE_STEP_MARKER_PRIORS:
        raise SpecError(
            f"{where}.marker_prior must be one of {', '.join(SINGLE_STEP_MARKER_PRIORS)}, "
            f"got {found(out['marker_prior'])}."
        )
    if "j_covariate" in out and not isinstance(out["j_covariate"], bool):
        raise SpecError(f"{where}.j_covariate must be true or false, got {found(out['j_covariate'])}.")
    bayes_only = [k for k in ("marker_prior", "j_covariate") if k in out]
    gblup_only = [k for k in ("blend", "tune") if k in out]
    if out.get("method", "ssgblup") == "ssgblup" and bayes_only:
        raise SpecError(f'{where}: {", ".join(bayes_only)} apply to method = "bayes".')
    if out.get("method") == "bayes" and gblup_only:
        raise SpecError(f'{where}: {", ".join(gblup_only)} apply to method = "ssgblup".')
    return out


def SingleStepModel(
    data,
    y,
    id,
    source,
    method="ssgblup",
    blend=0.05,
    tune="mean",
    marker_prior="bayesC",
    j_covariate=True,
    prior=None,
    sigma2_epsilon=None,
    pi=None,
    fixed=(),
    random=(),
    intercept: bool = True,
    sigma2_e=None,
    **model_options,
):
    """The single-step model of ``model.type = "single-step"``: ``source`` is (pedigree, genotypes); ``prior``
    is priors.sigma2_a (ssGBLUP) or priors.variance (the markers' common variance, method "bayes")."""
    from ..model.model import Model
    from ..model.standard import _common_terms
    from ..terms.single_step import SingleStep

    pedigree, genotypes = source
    terms = _common_terms(fixed, random, intercept)
    if method == "ssgblup":
        terms.append(
            SingleStep(id, pedigree, genotypes, prior=prior, blend=blend, tune=None if tune == "none" else tune)
        )
    else:
        prior_class = SINGLE_STEP_MARKER_PRIORS[marker_prior]
        arguments = {k: v for k, v in (("pi", pi), ("prior", prior)) if v is not None}
        try:
            marker = prior_class(**arguments)
        except TypeError as err:
            raise SpecError(f"[priors] of marker_prior = {marker_prior!r}: {err}") from None
        terms.append(
            SingleStep(
                id,
                pedigree,
                genotypes,
                method="bayes",
                prior=marker,
                epsilon_prior=sigma2_epsilon,
                j_covariate=j_covariate,
            )
        )
    return Model(data, y, terms, sigma2_e=sigma2_e, **model_options)


MODEL_TYPES: dict[str, ModelType] = {
    "animal": ModelType(
        AnimalModel, "pedigree", "pedigree animal model, a ~ N(0, sigma2_a A)", {"sigma2_a": variance_prior}
    ),
    "GBLUP": ModelType(
        GBLUP,
        "genotypes",
        "g ~ N(0, sigma2_g G), G = VanRaden's genomic relationship matrix",
        {"sigma2_g": variance_prior},
    ),
    "bayesA": ModelType(
        BayesA,
        "genotypes",
        "alpha_j ~ N(0, sigma2_j), sigma2_j ~ Scale-inv-chi2(df, scale)",
        {"df": positive_number, "scale": gamma_or_number},
        BayesAPrior,
    ),
    "BRR": ModelType(
        BRR, "genotypes", "alpha_j ~ N(0, variance), one common variance", {"variance": variance_prior}, RidgePrior
    ),
    "bayesB": ModelType(
        BayesB,
        "genotypes",
        "BayesA effects included with probability pi",
        {"pi": inclusion, "df": positive_number, "scale": gamma_or_number},
        BayesBPrior,
    ),
    "bayesC": ModelType(
        BayesC,
        "genotypes",
        "BRR effects included with probability pi (fixed, or Beta-sampled)",
        {"pi": inclusion, "variance": variance_prior},
        BayesCPrior,
    ),
    "bayesCpi": ModelType(
        BayesCPi,
        "genotypes",
        "BayesC with pi ~ Beta(a, b) sampled (default Beta(5.5, 5.5))",
        {"pi": sampled_inclusion, "variance": variance_prior},
        _bayes_cpi_prior,
    ),
    "bayesLasso": ModelType(
        BayesLasso,
        "genotypes",
        "Bayesian LASSO: alpha_j double exponential with rate lambda",
        {"lambda2": gamma_or_number},
        LassoPrior,
    ),
    "bayesR": ModelType(
        BayesR,
        "genotypes",
        "alpha_j ~ sum_k pi_k N(0, gamma_k variance), pi ~ Dirichlet",
        {"gamma": class_multipliers, "dirichlet": positive_numbers, "variance": variance_prior},
        BayesRPrior,
    ),
    "single-step": ModelType(
        SingleStepModel,
        "pedigree+genotypes",
        "ssGBLUP (u ~ N(0, sigma2_a H)) or single-step Bayesian regression, model.single_step",
        {"sigma2_a": variance_prior, "sigma2_epsilon": variance_prior, "pi": inclusion, "variance": variance_prior},
    ),
}


def model_type(kind) -> ModelType:
    """The table entry of ``model.type``; a wrong case gets a "did you mean"."""
    if isinstance(kind, str) and kind in MODEL_TYPES:
        return MODEL_TYPES[kind]
    names = ", ".join(MODEL_TYPES)
    if isinstance(kind, str):
        close = [name for name in MODEL_TYPES if name.lower() == kind.lower()]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SpecError(f"model.type must be one of {names}, got {kind!r}{hint}.")
    raise SpecError(f"model.type must be one of {names} (a string), got {found(kind)}.")
