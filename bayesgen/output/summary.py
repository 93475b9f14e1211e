"""``bg.summary(idata)``: one table of the model's low-dimensional parameters.

``az.summary(idata)`` summarises every posterior variable, breeding values and marker
effects included (1,779 rows on gryphon's four-component model). ``summary`` keeps the
parameters a user reads first: the scalars (variances, ``h2``, ``pi``, ``scale``, ...) and
the elements of small vectors and matrices (fixed effects, covariance upper triangles,
correlations, per-trait ``h2``), the set that the convergence report diagnoses
(:func:`bayesgen.output.convergence.diagnosed_draws`, named alike, e.g. ``beta[sex[M]]``,
``sigma2_a[y, y2]``).

Per parameter, over all draws of all chains: ``mean``, ``sd`` (ddof = 1), the central
``prob`` interval (quantiles ``(1 - prob)/2`` and ``(1 + prob)/2``, columns named by their
percent, e.g. ``2.5%`` and ``97.5%``), ``mcse_mean`` (Monte Carlo standard error of the
mean), ``ess_bulk``, ``ess_tail`` and ``r_hat`` (rank-normalised split R-hat; Vehtari et
al. 2021, computed by arviz; NaN with one chain). With fewer than 4 draws per chain the
diagnostics are NaN. A parameter fixed by the user (every draw equal) has sd 0 and NaN
diagnostics.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._deprecation import renamed_variables
from .._typing import VarNamesArg
from .convergence import MAX_SIZE, MIN_DRAWS, RHAT_FORMAT, _diagnostics, diagnosed_draws, scalar, variable_elements
from .inference_data import az

#: Columns of the table, around the two interval columns (named after ``prob``).
STAT_COLUMNS = ("mean", "sd")
DIAGNOSTIC_COLUMNS = ("mcse_mean", "ess_bulk", "ess_tail", "r_hat")


def summary(
    idata: az.InferenceData, *, var_names: VarNamesArg = None, prob: float = 0.95, max_size: int = MAX_SIZE
) -> pd.DataFrame:
    """Posterior summary of the model's low-dimensional parameters (see the module docstring).

    Parameters
    ----------
    idata : arviz.InferenceData
        From ``model.sample()`` (or ``bayesgen.output.load``).
    var_names : str or list of str, optional
        Posterior variables to summarise (scalar, or a small vector or matrix, reported
        element by element); default every low-dimensional one, in stored order.
    prob : float in (0, 1)
        Probability of the central interval (default 0.95).
    max_size : int
        Vectors and matrices with at most this many values per draw are low-dimensional.

    Returns
    -------
    pandas.DataFrame indexed by parameter, with columns ``mean``, ``sd``, the interval's
    lower and upper quantiles (e.g. ``2.5%``, ``97.5%``), ``mcse_mean``, ``ess_bulk``,
    ``ess_tail`` and ``r_hat``; ``attrs`` hold ``prob``, ``chains`` and ``draws``.
    """
    posterior = getattr(idata, "posterior", None)
    if posterior is None or not hasattr(posterior, "data_vars"):
        raise TypeError(
            f"idata must be an arviz.InferenceData with a posterior group (from model.sample()), "
            f"got {type(idata).__name__}."
        )
    if isinstance(prob, bool) or not isinstance(prob, (int, float, np.floating)) or not 0 < prob < 1:
        raise ValueError(f"prob must be a number in (0, 1), got {prob!r}.")
    series = _selected(idata, var_names, max_size)
    lower_name, upper_name = (f"{100 * q:g}%" for q in ((1 - prob) / 2, (1 + prob) / 2))
    columns = [*STAT_COLUMNS, lower_name, upper_name, *DIAGNOSTIC_COLUMNS]
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    rows = {}
    for name, draws in series.items():
        flat = draws.ravel()
        lower, upper = np.quantile(flat, [(1 - prob) / 2, (1 + prob) / 2])
        sd = float(flat.std(ddof=1)) if flat.size > 1 else np.nan
        constant = bool(np.all(flat == flat[0]))
        if n_draws >= MIN_DRAWS and not constant:
            r_hat, ess_bulk, ess_tail = _diagnostics(draws, n_chains)
            with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                mcse = scalar(az.mcse(draws, method="mean"))
        else:
            r_hat = ess_bulk = ess_tail = mcse = np.nan
        rows[name] = (float(flat.mean()), sd, float(lower), float(upper), mcse, ess_bulk, ess_tail, r_hat)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns).astype(float)
    table.index.name = "parameter"
    table.attrs.update(prob=prob, chains=n_chains, draws=n_draws)
    return table


def _selected(idata, var_names, max_size: int) -> dict:
    """(chain, draw) draws of each summarised parameter, keyed by its name."""
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise ValueError(f"max_size must be an integer >= 1, got {max_size!r}.")
    if var_names is None:
        return diagnosed_draws(idata, max_size)
    if isinstance(var_names, str):
        var_names = [var_names]
    if not isinstance(var_names, (list, tuple)) or not var_names or not all(isinstance(v, str) for v in var_names):
        raise TypeError(f"var_names must be a variable name or a non-empty list of them, got {var_names!r}.")
    posterior = idata.posterior
    var_names = renamed_variables(list(var_names), posterior.data_vars)
    unknown = [v for v in var_names if v not in posterior.data_vars]
    if unknown:
        raise ValueError(f"var_names {unknown} are not posterior variables; they are {list(posterior.data_vars)}.")
    out = {}
    for name in var_names:
        elements = variable_elements(name, posterior[name], max_size)
        if elements is None:
            raise ValueError(
                f"{name!r} has dims {tuple(posterior[name].dims)}: summary covers low-dimensional parameters "
                f"(scalars, and vectors or matrices of at most max_size={max_size} values with no axis over "
                f"levels, animals, markers or records). For effects per level use az.summary(idata, "
                f"var_names=[{name!r}]) or model.predict(idata)."
            )
        out.update(elements)
    return out


#: Significant digits of the estimates (mean, sd, interval, MCSE) when the table is printed.
PRINT_DIGITS = 4


def format_summary(table: pd.DataFrame, digits: int = PRINT_DIGITS) -> str:
    """The table of :func:`summary` as text: estimates with ``digits`` significant digits (so
    that a BayesA ``scale`` of 0.0003 does not print as 0.000), ESS as whole numbers, R-hat
    with four decimals, "n/a" where undefined."""

    def number(spec):
        return lambda v: "n/a" if np.isnan(v) else format(v, spec)

    shown = table.copy().astype(object)
    for column in table.columns:
        if not pd.api.types.is_float_dtype(table[column]):
            continue  # e.g. a column of text added by the caller, shown as it is
        if column in ("ess_bulk", "ess_tail"):
            spec = ".0f"
        elif column == "r_hat":
            spec = RHAT_FORMAT
        else:
            spec = f".{digits}g"
        shown[column] = table[column].map(number(spec))
    return shown.to_string()
