"""Convergence diagnostics of the low-dimensional parameters, and the warning ``Model.sample`` emits.

The report covers every scalar parameter (a posterior variable with only the ``chain`` and
``draw`` dims: variances, ``h2``, ``pi``, ``scale``, correlations, ...) and every element of
a low-dimensional vector or matrix variable: at most ``max_size`` (default 20) values per
draw and no axis over levels, markers or records, e.g. the fixed effects ``beta`` and the
entries of a covariance matrix (``sigma2_<term>``, or a marker term's derived ``var_<term>``: upper
triangle; ``rho_<term>``, ``cor_<term>``: strict upper triangle). Random-effect levels, breeding values and marker effects are left out:
they are many, and the scalars that govern them (their variances) are checked. An element
is named like ``beta[Days]`` or ``sigma2_Subject[(Intercept), Days]``.

For each one the report gives the rank-normalised split R-hat and the bulk and tail
effective sample sizes of Vehtari, Gelman, Simpson, Carpenter and Bürkner (2021, Bayesian
Analysis 16:667), computed by arviz. A parameter is flagged when R-hat > ``rhat_max``
(default 1.01) or bulk ESS < ``ess_min`` (default 400, i.e. 100 per chain with four
chains), the thresholds that paper recommends.

With a single chain R-hat is not computable (it compares chains): it is left out (NaN) and
only the ESS is judged. A parameter whose draws are all identical (a variance fixed by
the user) has no Monte Carlo error: it is never flagged.

A variance (a ``sigma2_*`` scalar or element) drawn by a Metropolis step stays exactly where it
is when the proposals are rejected. A chain that repeats one draw more than
``STUCK_REPEATS`` (50) times in a row is named ("chain 3 repeated one draw of sigma2_a for 137
iterations, draws 450-586") and the variance flagged: when each iteration moves with
probability at least 0.25 wherever the chain is, such a run has probability below 1e-3 per
1,000 draws (0.75^50 per draw), so it means a region where the step all but stops. Gibbs
draws of a variance never repeat; only these runs are counted.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .inference_data import az

#: Vehtari et al. (2021): R-hat below 1.01 ...
RHAT_MAX = 1.01
#: ... and a bulk ESS of at least 400 over all chains.
ESS_MIN = 400
#: R-hat is shown with 4 decimals, so that one just above 1.01 does not read as 1.010.
RHAT_FORMAT = ".4f"
#: Fewer draws per chain than this and arviz computes neither R-hat nor ESS.
MIN_DRAWS = 4
#: Vector and matrix variables with at most this many values per draw are diagnosed element by element.
MAX_SIZE = 20
#: Axes over levels, animals, markers or records (``<term>_level``, ``animal``, ``marker``,
#: ``<term>_marker``, ``record``): a variable along one holds per-level effects, left out at any size.
PER_LEVEL_DIMS = ("animal", "marker", "record")
PER_LEVEL_SUFFIXES = ("_level", "_marker")
#: A chain that repeats one draw of a variance more than this many times in a row is named
#: and the variance flagged (see the module docstring).
STUCK_REPEATS = 50


class ConvergenceWarning(UserWarning):
    """The chains of some low-dimensional parameter have not converged or mixed enough."""


def scalar_names(idata) -> list[str]:
    """Posterior variables with only the ``chain`` and ``draw`` dims, in their stored order."""
    return [name for name, var in idata.posterior.data_vars.items() if set(var.dims) == {"chain", "draw"}]


def _is_per_level(dim: str) -> bool:
    return dim in PER_LEVEL_DIMS or dim.endswith(PER_LEVEL_SUFFIXES)


def _element_indices(name: str, dims: tuple, shape: tuple) -> list[tuple]:
    """Index tuples of the elements of a vector or matrix variable that the report diagnoses."""
    indices = list(np.ndindex(*shape))
    square = len(shape) == 2 and shape[0] == shape[1] and dims[0].endswith("_row") and dims[1].endswith("_col")
    if square:
        # A symmetric matrix: each entry once; a correlation matrix's diagonal is 1.
        first = 1 if name.startswith(("rho_", "cor_")) else 0  # cor_: derived (a marker term's)
        indices = [(i, j) for i, j in indices if j >= i + first]
    return indices


def diagnosed_draws(idata, max_size: int = MAX_SIZE) -> dict:
    """The (chains x draws) draws of every diagnosed parameter, keyed by its report name, in stored order.

    Scalars as they are; vector and matrix variables with at most ``max_size`` values per
    draw and no per-level axis (``PER_LEVEL_DIMS``, ``PER_LEVEL_SUFFIXES``) element by element, named
    ``name[label, ...]`` after their coordinates.
    """
    out = {}
    for name, var in idata.posterior.data_vars.items():
        out.update(variable_elements(name, var, max_size) or {})
    return out


def variable_elements(name: str, var, max_size: int = MAX_SIZE) -> dict | None:
    """The diagnosed (chains x draws) draws of one posterior variable, keyed by report name
    (see ``diagnosed_draws``); None when it is not low-dimensional (too many values per draw,
    or an axis over levels, animals, markers or records)."""
    dims = tuple(d for d in var.dims if d not in ("chain", "draw"))
    if not dims:
        return {name: var.transpose("chain", "draw").values}
    shape = tuple(var.sizes[d] for d in dims)
    if int(np.prod(shape)) > max_size or any(_is_per_level(d) for d in dims):
        return None
    values = var.transpose("chain", "draw", *dims).values
    labels = [var[d].values for d in dims]
    out = {}
    for index in _element_indices(name, dims, shape):
        label = ", ".join(str(labels[k][i]) for k, i in enumerate(index))
        out[f"{name}[{label}]"] = values[(slice(None), slice(None)) + index]
    return out


def longest_repeat(values: np.ndarray) -> tuple[int, int, int]:
    """(length, chain, first draw) of the longest run of one draw repeated exactly in a
    (chains x draws) array; length 1 when no draw equals the one before it."""
    best = (1, 0, 0)
    for chain, series in enumerate(np.asarray(values)):
        if series.size < 2:
            continue
        changes = np.flatnonzero(series[1:] != series[:-1]) + 1  # first draw of each new value
        starts = np.concatenate([[0], changes])
        lengths = np.diff(np.concatenate([starts, [series.size]]))
        k = int(np.argmax(lengths))
        if lengths[k] > best[0]:
            best = (int(lengths[k]), chain, int(starts[k]))
    return best


def stuck_chains(idata, max_size: int = MAX_SIZE, repeats: int = STUCK_REPEATS) -> list[dict]:
    """Runs longer than ``repeats`` of one repeated draw of a variance, one per (variance, chain).

    The variances are the diagnosed (``diagnosed_draws``) ``sigma2_*`` parameters and derived
    ``var_*`` variances that are not constant. Each item: ``parameter``, ``chain`` (the posterior's chain coordinate),
    ``first_draw`` and ``length``; in the order of the parameters, then chains.
    """
    out = []
    chain_labels = idata.posterior["chain"].values
    for name, values in diagnosed_draws(idata, max_size).items():
        if not name.startswith(("sigma2_", "var_")) or values.size < 2 or np.all(values == values.flat[0]):
            continue
        for chain, series in enumerate(values):
            length, _, first = longest_repeat(series[None, :])
            if length > repeats:
                out.append(
                    {"parameter": name, "chain": chain_labels[chain].item(), "first_draw": first, "length": length}
                )
    return out


def _describe_stuck(stuck: list[dict]) -> str:
    """ "chain 3 repeated one draw of sigma2_a, sigma2_e for 137 iterations (draws 450-586)", ..."""
    runs = {}
    for item in stuck:
        runs.setdefault((item["chain"], item["first_draw"], item["length"]), []).append(item["parameter"])
    return "; ".join(
        f"chain {chain} repeated one draw of {', '.join(names)} for {length} iterations "
        f"(draws {first}-{first + length - 1})"
        for (chain, first, length), names in runs.items()
    )


def _check_thresholds(rhat_max, ess_min, max_size) -> None:
    if isinstance(rhat_max, bool) or not isinstance(rhat_max, (int, float)) or not rhat_max > 1:
        raise ValueError(f"rhat_max must be a number > 1, got {rhat_max!r}.")
    if isinstance(ess_min, bool) or not isinstance(ess_min, (int, float)) or not ess_min > 0:
        raise ValueError(f"ess_min must be a number > 0, got {ess_min!r}.")
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise ValueError(f"max_size must be an integer >= 1 (values per draw of a diagnosed vector), got {max_size!r}.")


def _diagnostics(draws: np.ndarray, n_chains: int) -> tuple[float, float, float]:
    """R-hat (NaN with one chain), bulk and tail ESS of one (chains x draws) array."""
    # Stuck chains give 0/0 inside arviz; the NaN or inf it returns is what is judged.
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rhat = scalar(az.rhat(draws, method="rank")) if n_chains > 1 else np.nan
        return rhat, scalar(az.ess(draws, method="bulk")), scalar(az.ess(draws, method="tail"))


def scalar(value) -> float:
    """One arviz statistic as a float: arviz returns a 0-d array, or a (1,) array when it was
    imported before bayesgen and kept numba (its numba path), which float() refuses."""
    return float(np.asarray(value).reshape(-1)[0])


def convergence_report(
    idata, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN, max_size: int = MAX_SIZE
) -> pd.DataFrame:
    """R-hat, bulk and tail ESS of each low-dimensional parameter, and whether it passes.

    The parameters are the scalars and the elements of small vector and matrix variables
    (``diagnosed_draws``; ``max_size`` values per draw at most). Returns a DataFrame
    indexed by parameter name with columns ``r_hat`` (NaN with one chain), ``ess_bulk``,
    ``ess_tail`` and ``ok`` (R-hat <= ``rhat_max`` and bulk ESS >= ``ess_min``; a NaN
    diagnostic of a parameter that varies fails; a variance one of whose chains repeated one
    draw more than ``STUCK_REPEATS`` times in a row fails too). With fewer than ``MIN_DRAWS``
    draws per chain nothing is computable: all NaN, and only constant parameters pass. An
    empty frame when the posterior has no such parameter. ``report.attrs`` keeps the
    thresholds, the numbers of chains and draws, and ``stuck`` (``stuck_chains``).
    """
    _check_thresholds(rhat_max, ess_min, max_size)
    if not hasattr(idata, "posterior"):
        raise ValueError("The InferenceData has no posterior group: nothing to diagnose.")
    series = diagnosed_draws(idata, max_size)
    columns = ["r_hat", "ess_bulk", "ess_tail", "ok"]
    n_chains, n_draws = idata.posterior.sizes["chain"], idata.posterior.sizes["draw"]
    stuck = stuck_chains(idata, max_size)
    attrs = {"rhat_max": rhat_max, "ess_min": ess_min, "chains": n_chains, "draws": n_draws, "stuck": stuck}
    if not series:
        report = pd.DataFrame(columns=columns, index=pd.Index([], name="parameter"))
        report.attrs.update(attrs)
        return report
    rows = {}
    for name, values in series.items():
        constant = values.size > 1 and bool(np.all(values == values.flat[0]))
        r, bulk, tail = _diagnostics(values, n_chains) if n_draws >= MIN_DRAWS else (np.nan, np.nan, np.nan)
        rhat_ok = n_chains == 1 or r <= rhat_max  # one chain: R-hat is not computable, not failed
        rows[name] = (r, bulk, tail, constant or bool(bulk >= ess_min and rhat_ok))
    for item in stuck:
        rows[item["parameter"]] = rows[item["parameter"]][:3] + (False,)
    report = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    report["ok"] = report["ok"].astype(bool)
    report.index.name = "parameter"
    report.attrs.update(attrs)
    return report


def _number(value: float, spec: str) -> str:
    return "n/a" if np.isnan(value) else format(value, spec)


def convergence_message(report: pd.DataFrame) -> str | None:
    """The text of the warning for the flagged rows of ``report``; None when none is flagged."""
    flagged = report[~report["ok"]]
    if flagged.empty:
        return None
    rhat_max, ess_min = report.attrs.get("rhat_max", RHAT_MAX), report.attrs.get("ess_min", ESS_MIN)
    chains, draws = report.attrs.get("chains", 2), report.attrs.get("draws", MIN_DRAWS)
    if draws < MIN_DRAWS:
        criterion = f"R-hat and ESS need at least {MIN_DRAWS} draws per chain, got {draws}"
    elif chains == 1:
        criterion = f"bulk ESS < {ess_min:g}; R-hat not computable with one chain"
    else:
        criterion = f"R-hat > {rhat_max:g} or bulk ESS < {ess_min:g}"
    parts = []
    for name, row in flagged.iterrows():
        rhat = f"R-hat {_number(row['r_hat'], RHAT_FORMAT)}, " if chains > 1 else ""
        parts.append(f"{name} ({rhat}bulk ESS {_number(row['ess_bulk'], '.0f')})")
    stuck = report.attrs.get("stuck", [])
    stuck_text = (
        f" Stuck chains (a draw repeated more than {STUCK_REPEATS} times in a row): {_describe_stuck(stuck)}."
        if stuck
        else ""
    )
    return (
        f"The chains may not have converged ({criterion}; Vehtari et al. 2021): {', '.join(parts)}.{stuck_text} "
        "Estimates of these parameters are unreliable: run longer chains (more draws or burn-in) "
        "and check the trace plots."
    )


def warn_if_not_converged(
    idata, rhat_max: float = RHAT_MAX, ess_min: float = ESS_MIN, *, stacklevel: int = 3, max_size: int = MAX_SIZE
) -> pd.DataFrame:
    """Emit one :class:`ConvergenceWarning` naming every flagged parameter of ``convergence_report``.

    Nothing is emitted when every parameter passes. Returns the report either way.
    ``stacklevel`` 3 points the warning at the caller of the function that calls this one
    (the user's ``model.sample(...)`` line).
    """
    report = convergence_report(idata, rhat_max=rhat_max, ess_min=ess_min, max_size=max_size)
    message = convergence_message(report)
    if message is not None:
        warnings.warn(message, ConvergenceWarning, stacklevel=stacklevel)
    return report


def format_convergence(report: pd.DataFrame, seconds: float | None = None) -> str:
    """The report as text for a terminal: a heading with the criteria, the table, the verdict
    and, when given, the wall time of sampling in seconds."""
    rhat_max, ess_min = report.attrs.get("rhat_max", RHAT_MAX), report.attrs.get("ess_min", ESS_MIN)
    lines = [f"Convergence (ok: R-hat <= {rhat_max:g} and bulk ESS >= {ess_min:g}; Vehtari et al. 2021):"]
    if report.empty:
        lines.append("no low-dimensional parameter to diagnose.")
    else:
        table = report.copy()
        table["r_hat"] = table["r_hat"].map(lambda v: _number(v, RHAT_FORMAT))
        for column in ("ess_bulk", "ess_tail"):
            table[column] = table[column].map(lambda v: _number(v, ".0f"))
        lines.append(table.to_string())
        flagged = list(report.index[~report["ok"]])
        lines.append("All parameters pass." if not flagged else f"Not converged: {', '.join(flagged)}.")
        if report.attrs.get("stuck"):
            lines.append(f"Stuck: {_describe_stuck(report.attrs['stuck'])}.")
    if seconds is not None:
        lines.append(f"Sampling wall time: {seconds:.1f} s.")
    return "\n".join(lines)
