r"""Likelihood-ratio tests between nested models fitted by ``reml``.

With :math:`T = 2(\ell_{full} - \ell_{reduced})` (clipped at 0):

* **Variance components** (same fixed effects; REML or ML): the reduced model lacks
  k covariance parameters. When they are one variance (k = 1) its null value 0 is on the
  boundary of the parameter space and T follows :math:`\tfrac12\chi^2_0 + \tfrac12\chi^2_1`
  (Self & Liang 1987): :math:`p = \tfrac12 P(\chi^2_1 \ge T)` for T > 0 and p = 1 at T = 0.
  For a random term with a k-parameter covariance the mixture is
  :math:`\tfrac12\chi^2_{k-1} + \tfrac12\chi^2_k` (Stram & Lee 1994).
* **Fixed effects** (same covariance parameters): ML fits only (REML likelihoods of models
  with different fixed effects are not comparable); :math:`T \sim \chi^2_k` with k the extra
  fixed-effect equations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import scipy.stats

if TYPE_CHECKING:
    from .result import RemlResult


def boundary_p_value(statistic: float, k: int = 1) -> float:
    """P(T >= statistic) under the mixture 1/2 chi2_{k-1} + 1/2 chi2_k (chi2_0: a point mass at 0)."""
    t = max(float(statistic), 0.0)
    upper = scipy.stats.chi2.sf(t, k)
    lower = (1.0 if t <= 0 else 0.0) if k == 1 else scipy.stats.chi2.sf(t, k - 1)
    return 0.5 * lower + 0.5 * upper


def lrt(full: RemlResult, reduced: RemlResult) -> pd.Series:
    """Likelihood-ratio test of ``reduced`` against ``full`` (two ``RemlResult``; module docstring).

    Returns a Series: ``statistic``, ``df``, ``p_value``, ``test`` ("variance components
    (boundary mixture)" or "fixed effects"), ``loglik_full``, ``loglik_reduced``.
    """
    for name, result in (("full", full), ("reduced", reduced)):
        if not hasattr(result, "loglik") or not hasattr(result, "variances"):
            raise TypeError(f"{name} must be a result of bg.reml, got {type(result).__name__}.")
    if full.reml != reduced.reml:
        raise ValueError("Both models must be fitted the same way (both REML or both ML).")
    n_full = len(full.model.likelihood.record_labels), int(full.model._observed_matrix.sum())
    n_reduced = len(reduced.model.likelihood.record_labels), int(reduced.model._observed_matrix.sum())
    if n_full != n_reduced:
        raise ValueError(f"The models are fitted to different records ({n_full[0]} and {n_reduced[0]} with data).")
    extra_variances = full.n_parameters - reduced.n_parameters
    extra_fixed = full.n_fixed - reduced.n_fixed
    missing = [v for v in reduced.variances.index if v not in full.variances.index]
    if missing:
        raise ValueError(f"reduced is not nested in full: its parameters {missing} are not in full.")
    statistic = max(2.0 * (full.loglik - reduced.loglik), 0.0)
    if extra_fixed == 0 and extra_variances > 0:
        added = [v for v in full.variances.index if v not in reduced.variances.index]
        p = boundary_p_value(statistic, extra_variances)
        test = f"variance components {added} (boundary mixture)"
    elif extra_variances == 0 and extra_fixed > 0:
        if full.reml:
            raise ValueError(
                "REML log-likelihoods of models with different fixed effects are not comparable: fit both "
                "with reml=False for a likelihood-ratio test of fixed effects."
            )
        p = float(scipy.stats.chi2.sf(statistic, extra_fixed))
        test = "fixed effects"
    else:
        raise ValueError(
            f"full must add either covariance parameters or fixed effects to reduced (it adds "
            f"{extra_variances} covariance parameters and {extra_fixed} fixed-effect equations)."
        )
    df = extra_variances if extra_fixed == 0 else extra_fixed
    return pd.Series(
        {
            "statistic": statistic,
            "df": df,
            "p_value": p,
            "test": test,
            "loglik_full": full.loglik,
            "loglik_reduced": reduced.loglik,
        }
    )
