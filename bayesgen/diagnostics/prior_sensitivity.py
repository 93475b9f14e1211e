"""Power-scaling prior and likelihood sensitivity of the low-dimensional parameters, from existing draws.

Kallioinen, Paananen, Bürkner & Vehtari (2023), "Detecting and diagnosing prior and
likelihood sensitivity with power-scaling", Statistics and Computing 34:57; the method of
R's priorsense (``powerscale_sensitivity``), rewritten here for bayesgen's InferenceData.

Power-scaling a component by α replaces the posterior p(θ | y) ∝ p(θ) p(y | θ) by
p_α(θ) ∝ p(θ)^α p(y | θ) (prior) or p(θ) p(y | θ)^α (likelihood). The draws θ_s of the
posterior estimate p_α by importance sampling with log ratios (α − 1) log p(θ_s) (resp.
(α − 1) Σ_i log p(y_i | θ_s)), Pareto-smoothed (:mod:`.psis`); no refit. The sensitivity
of a scalar θ to a component is the derivative, with respect to log2 α at α = 1, of the
cumulative Jensen–Shannon distance between the marginal of θ under p and under p_α,
estimated by finite differences at α = 0.99 and 1.01:

    sensitivity = ( D(p, p_1.01) / log2(1.01) + D(p, p_0.99) / (−log2(0.99)) ) / 2.

D (:func:`cjs_distance`) compares the empirical CDF P of the draws with the weighted
empirical CDF Q over the range of the draws:

    D² = ∫ [P log2(2P / (P + Q)) + Q log2(2Q / (P + Q))] dx / ∫ (P + Q) dx,

taken as the larger of its values for θ and −θ (so that it does not depend on the sign
of θ); it lies in [0, 1]. Adding a constant to log p or log p(y | θ) changes no weight, so
"up to constants" is enough.

Diagnosis, as in priorsense with threshold t (0.05): prior ≥ t and likelihood ≥ t is a
"potential prior-data conflict" (the posterior is a compromise between a prior and a
likelihood that disagree); prior > t and likelihood < t is a "potential strong prior /
weak likelihood" (the data say little beyond the prior); otherwise "-". A sensitive
likelihood alone is what informative data look like.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._deprecation import renamed_variables
from .._typing import VarNamesArg
from .psis import k_threshold, psis_log_weights

if TYPE_CHECKING:
    import arviz as az

#: The power-scaling factors of the finite differences (priorsense's lower_alpha, upper_alpha).
LOWER_ALPHA = 0.99
UPPER_ALPHA = 1.01
#: Default sensitivity threshold of the diagnosis (Kallioinen et al. 2023).
THRESHOLD = 0.05

PRIOR_DATA_CONFLICT = "potential prior-data conflict"
WEAK_LIKELIHOOD = "potential strong prior / weak likelihood"
NO_ISSUE = "-"

_COMPONENTS = ("prior", "likelihood")
_DIRECTIONS = (("lower", LOWER_ALPHA), ("upper", UPPER_ALPHA))
_HOW_TO_GET = (
    'Sample with model.sample(..., store="full"), which stores the log prior of each draw in '
    "sample_stats and the pointwise log-likelihood in the log_likelihood group."
)


class PowerScalingWarning(UserWarning):
    """The Pareto k̂ of some power-scaling importance weights is too large to trust them."""


def cjs_distance(draws, weights=None) -> float:
    """Cumulative Jensen–Shannon distance between the draws and the same draws reweighted.

    P is the empirical CDF of ``draws`` (equal weights) and Q the empirical CDF with
    ``weights`` (normalised here; None means equal weights, distance 0). Both are step
    functions, so the integrals of the module docstring are exact sums over the gaps
    between sorted draws. Returns max(D(θ), D(−θ)), in [0, 1]; 0 when all draws are equal
    (a point mass does not move however it is weighted).
    """
    draws = np.asarray(draws, dtype=float).ravel()
    if weights is None:
        return 0.0
    weights = np.asarray(weights, dtype=float).ravel()
    if weights.shape != draws.shape:
        raise ValueError(f"weights must have one value per draw ({draws.size}), got {weights.size}.")
    order = np.argsort(draws, kind="stable")
    sorted_draws, sorted_weights = draws[order], weights[order] / weights.sum()
    equal = np.full(draws.size, 1.0 / draws.size)
    forward = _cjs_sorted(sorted_draws, equal, sorted_weights)
    # -θ sorted ascending is θ reversed; ties keep their (reversed) order, which is harmless.
    backward = _cjs_sorted(-sorted_draws[::-1], equal, sorted_weights[::-1])
    return max(forward, backward)


def _cjs_sorted(sorted_draws: np.ndarray, p_weights: np.ndarray, q_weights: np.ndarray) -> float:
    """D for draws sorted ascending with the two weight vectors in the same order."""
    widths = np.diff(sorted_draws)
    # The ECDFs on [x_(j), x_(j+1)), j = 1..S-1; beyond x_(S) both equal 1 and are left out.
    p_cdf = np.cumsum(p_weights)[:-1]
    q_cdf = np.cumsum(q_weights)[:-1]
    bound = float(np.sum(widths * (p_cdf + q_cdf)))
    if bound <= 0.0:
        return 0.0
    mid = 0.5 * (p_cdf + q_cdf)
    safe_mid = np.where(mid > 0.0, mid, 1.0)  # where mid is 0 both CDFs are 0: 0 log 0 = 0
    with np.errstate(divide="ignore"):
        integrand = _xlog2(p_cdf, p_cdf / safe_mid) + _xlog2(q_cdf, q_cdf / safe_mid)
    # The linear terms ±(∫Q − ∫P) / (2 ln 2) of CJS(P‖Q) and CJS(Q‖P) cancel in the sum.
    divergence = float(np.sum(widths * integrand)) / bound
    return math.sqrt(max(divergence, 0.0))  # each term is >= 0; rounding may give -1e-17


def _xlog2(x: np.ndarray, ratio: np.ndarray) -> np.ndarray:
    """x log2(ratio), with 0 where x is 0."""
    return np.where(x > 0.0, x * np.log2(np.where(x > 0.0, ratio, 1.0)), 0.0)


def prior_sensitivity(
    idata: az.InferenceData, *, var_names: VarNamesArg = None, threshold: float = THRESHOLD
) -> pd.DataFrame:
    """Power-scaling sensitivity of each scalar parameter (and each element of a small
    covariance, correlation or per-trait vector) to the prior and to the likelihood.

    Parameters
    ----------
    idata : arviz.InferenceData
        Draws of ``model.sample()`` with ``sample_stats["log_prior"]`` (chain, draw), the
        log density of all variance-component priors and hyperpriors at each draw, and a
        ``log_likelihood`` group (chain, draw, record), whose variables are summed over
        records to the log-likelihood of each draw.
    var_names : str or list of str, optional
        Posterior variables to report, scalar (dims chain, draw) or low-dimensional (the
        small vectors and matrices of ``bayesgen.output.convergence_report``, reported
        element by element: a covariance's upper triangle as ``sigma2_a[y, y2]``, a
        correlation matrix's strict upper triangle, ``h2[y]`` per trait). Default: every
        such variable (``sigma2_*``, ``h2``, ``rho_*``, ``pi``, ``scale``, ...; with several
        traits or correlated effects, the elements of their matrices) except the fixed
        effects (dim ``coef``: a flat prior, not part of the log prior), in stored order.
    threshold : float
        Sensitivity above which a component is said to matter (default 0.05).

    Returns
    -------
    pandas.DataFrame indexed by parameter (the variable's name, or ``name[labels]`` for an
    element of a vector or matrix), with columns ``prior`` and ``likelihood`` (the
    sensitivities, see the module docstring), ``diagnosis`` ("-",
    "potential prior-data conflict" or "potential strong prior / weak likelihood") and the
    Pareto k̂ of the importance weights of each power-scaling, ``k_prior_lower``
    (α = 0.99), ``k_prior_upper`` (α = 1.01), ``k_likelihood_lower``,
    ``k_likelihood_upper`` (the same on every row: the weights do not depend on the
    parameter). ``attrs`` hold ``threshold``, ``alphas``, ``k_threshold`` and ``n_draws``.
    When a component's log density is the same at every draw (e.g. all variances fixed),
    power-scaling it changes nothing: its sensitivities are exactly 0 and its k̂ NaN.

    Warns
    -----
    PowerScalingWarning
        When some k̂ exceeds min(1 − 1/log10(S), 0.7) for S draws (0.7 from S = 2,154): the
        importance weights of that power-scaling, hence both sensitivities it feeds, are
        unreliable; more draws help.

    Raises
    ------
    ValueError
        When ``sample_stats.log_prior`` or the ``log_likelihood`` group is missing, not
        (chain, draw) like the posterior or not finite, when ``var_names`` names a variable
        that is not in the posterior or not low-dimensional, or when ``threshold`` is not a
        positive number.
    """
    threshold = _check_threshold(threshold)
    _check_idata(idata)
    posterior = idata.posterior
    parameters = _parameter_draws(posterior, var_names)
    shape = (posterior.sizes["chain"], posterior.sizes["draw"])
    log_densities = {"prior": _log_prior(idata, shape), "likelihood": _log_likelihood(idata, shape)}
    n_draws = shape[0] * shape[1]
    limit = k_threshold(n_draws)

    weights, k_hats = {}, {}
    for component in _COMPONENTS:
        log_density = log_densities[component]
        for direction, alpha in _DIRECTIONS:
            key = f"{component}_{direction}"
            if np.all(log_density == log_density[0]):
                weights[key], k_hats[key] = None, math.nan
                continue
            log_weights, k_hats[key] = psis_log_weights((alpha - 1.0) * log_density)
            weights[key] = np.exp(log_weights)
    _warn_large_k(k_hats, limit, n_draws)

    rows = {}
    for name, values in parameters.items():
        draws = values.ravel()
        if not np.all(np.isfinite(draws)):
            raise ValueError(f"posterior[{name!r}] has {int(np.sum(~np.isfinite(draws)))} non-finite draws.")
        sensitivity = {}
        for component in _COMPONENTS:
            lower = cjs_distance(draws, weights[f"{component}_lower"]) / -math.log2(LOWER_ALPHA)
            upper = cjs_distance(draws, weights[f"{component}_upper"]) / math.log2(UPPER_ALPHA)
            sensitivity[component] = 0.5 * (lower + upper)
        rows[name] = (
            sensitivity["prior"],
            sensitivity["likelihood"],
            _diagnosis(sensitivity["prior"], sensitivity["likelihood"], threshold),
        )
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["prior", "likelihood", "diagnosis"])
    if not rows:
        table = table.astype({"prior": float, "likelihood": float})
    for key, k_hat in k_hats.items():
        table[f"k_{key}"] = k_hat
    table.index.name = "parameter"
    table.attrs.update(threshold=threshold, alphas=(LOWER_ALPHA, UPPER_ALPHA), k_threshold=limit, n_draws=n_draws)
    return table


def _diagnosis(prior: float, likelihood: float, threshold: float) -> str:
    """priorsense's rule: both sensitive is a conflict, the prior alone a weak likelihood."""
    if prior >= threshold and likelihood >= threshold:
        return PRIOR_DATA_CONFLICT
    if prior > threshold and likelihood < threshold:
        return WEAK_LIKELIHOOD
    return NO_ISSUE


def _warn_large_k(k_hats: dict, limit: float, n_draws: int) -> None:
    large = {key: k for key, k in k_hats.items() if not math.isnan(k) and k > limit}
    if not large:
        return
    parts = []
    for key, k_hat in large.items():
        component, direction = key.split("_")
        alpha = LOWER_ALPHA if direction == "lower" else UPPER_ALPHA
        parts.append(f"{component} at alpha={alpha:g}: k={k_hat:.2f}")
    warnings.warn(
        f"Pareto k of the power-scaling importance weights exceeds {limit:.2f} (Vehtari et al. 2024; "
        f"{n_draws} draws) for the {'; '.join(parts)}. The sensitivities computed from these weights "
        "are unreliable: sample more draws.",
        PowerScalingWarning,
        stacklevel=3,
    )


def _check_threshold(threshold) -> float:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float, np.integer, np.floating))
        or not (0.0 < threshold < math.inf)
    ):
        raise ValueError(f"threshold must be a positive finite number, got {threshold!r}.")
    return float(threshold)


def _check_idata(idata) -> None:
    if not hasattr(idata, "groups"):
        raise TypeError(f"idata must be an arviz.InferenceData, got {type(idata).__name__}.")
    if "posterior" not in idata.groups():
        raise ValueError("The InferenceData has no posterior group: nothing to diagnose.")


def _parameter_draws(posterior, var_names) -> dict:
    """(chain, draw) draws of each reported parameter, keyed by its name: the scalars and the
    elements of the low-dimensional variables named (all but the fixed effects when None)."""
    from ..output.convergence import variable_elements

    elements = {name: variable_elements(name, var) for name, var in posterior.data_vars.items()}
    defaults = [name for name, found in elements.items() if found is not None and "coef" not in posterior[name].dims]
    if var_names is None:
        return {key: values for name in defaults for key, values in elements[name].items()}
    if isinstance(var_names, str):
        var_names = [var_names]
    elif not isinstance(var_names, Iterable) or any(not isinstance(v, str) for v in var_names):
        raise TypeError(f"var_names must be a str or a list of str, got {var_names!r}.")
    var_names = renamed_variables(list(var_names), posterior.data_vars)
    if not var_names:
        raise ValueError("var_names is empty: name at least one scalar posterior variable, or pass None for all.")
    unknown = [v for v in var_names if v not in posterior.data_vars]
    if unknown:
        raise ValueError(
            f"var_names {unknown} are not posterior variables; the ones reported by default are {defaults}."
        )
    vectors = {v: tuple(posterior[v].dims) for v in var_names if elements[v] is None}
    if vectors:
        found = ", ".join(f"{v} has dims {dims}" for v, dims in vectors.items())
        raise ValueError(
            f"var_names must name scalar parameters (dims ('chain', 'draw')) or small vectors and "
            f"matrices of them, not effects per level, animal, marker or record: {found}. "
            f"The ones reported by default are {defaults}."
        )
    return {key: values for name in var_names for key, values in elements[name].items()}


def _as_draws(values, what: str, shape: tuple[int, int]) -> np.ndarray:
    """A (chain, draw) array flattened like the posterior draws, after shape and finiteness checks."""
    if values.shape != shape:
        raise ValueError(
            f"{what} must have one value per draw, shape (chain, draw) = {shape} like the "
            f"posterior, got shape {values.shape}."
        )
    values = np.asarray(values, dtype=float).ravel()
    bad = int(np.sum(~np.isfinite(values)))
    if bad:
        raise ValueError(
            f"{what} has {bad} non-finite values of {values.size}: a draw with zero prior or "
            "likelihood density cannot be power-scaled."
        )
    return values


def _log_prior(idata, shape) -> np.ndarray:
    if "sample_stats" not in idata.groups() or "log_prior" not in idata.sample_stats.data_vars:
        where = (
            "has no sample_stats group"
            if "sample_stats" not in idata.groups()
            else "has a sample_stats group without log_prior"
        )
        raise ValueError(
            f"The InferenceData {where}: power-scaling the prior needs sample_stats['log_prior'], "
            f"the log prior density of each draw. {_HOW_TO_GET}"
        )
    log_prior = idata.sample_stats["log_prior"]
    if set(log_prior.dims) != {"chain", "draw"}:
        raise ValueError(f"sample_stats['log_prior'] must have dims ('chain', 'draw'), got {log_prior.dims}.")
    return _as_draws(log_prior.transpose("chain", "draw").values, "sample_stats['log_prior']", shape)


def _log_likelihood(idata, shape) -> np.ndarray:
    """Σ over variables and records of the pointwise log-likelihood, per draw."""
    if "log_likelihood" not in idata.groups() or not idata.log_likelihood.data_vars:
        raise ValueError(
            "The InferenceData has no log_likelihood group (or an empty one): power-scaling the "
            f"likelihood needs the pointwise log-likelihood of each draw. {_HOW_TO_GET}"
        )
    total = np.zeros(shape)
    for name, var in idata.log_likelihood.data_vars.items():
        if "chain" not in var.dims or "draw" not in var.dims:
            raise ValueError(f"log_likelihood[{name!r}] must have dims ('chain', 'draw', ...), got {var.dims}.")
        values = var.transpose("chain", "draw", ...).values
        if values.shape[:2] != shape:
            raise ValueError(f"log_likelihood[{name!r}] has (chain, draw) = {values.shape[:2]}, the posterior {shape}.")
        total += values.reshape(shape + (-1,)).sum(axis=2)
    return _as_draws(total, "the log-likelihood (log_likelihood summed over records)", shape)
