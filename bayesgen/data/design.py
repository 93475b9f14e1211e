"""Fixed-effect design matrices from DataFrame columns (R-style treatment coding)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.linalg

from .._user_warnings import warn_user
from .._validation import preview, require_columns


def is_categorical(series: pd.Series) -> bool:
    """Numeric columns are covariates; anything else (text, category, bool) is a factor."""
    return not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def _levels(series: pd.Series) -> list[str]:
    """Levels of a factor column, as text, in sorted order (the first is the reference)."""
    return sorted(series.astype(str).unique())


def factor_levels(frame: pd.DataFrame, columns) -> dict[str, list[str]]:
    """Every level (sorted, reference first) of each categorical column among ``columns``."""
    return {col: _levels(frame[col]) for col in columns if is_categorical(frame[col])}


def fixed_design(frame: pd.DataFrame, columns, intercept: bool = True) -> tuple[np.ndarray, list[str]]:
    """Design matrix X (n x k, float64) and coefficient names for fixed effects.

    Numeric columns enter as covariates (an integer one with at most
    ``CODED_FACTOR_MAX_LEVELS`` distinct values with a warning: it is probably a coded factor,
    such as sex 1/2). Categorical columns get treatment dummies: the
    first level (in sorted order) is the reference and is dropped if there is an
    intercept or an earlier factor; otherwise the first factor gets all its levels
    (cell means). Dummy names are ``column[level]``. Missing values in a fixed-effect
    column are an error, as they cannot be imputed without a model for them.
    """
    columns = list(columns)
    require_columns(frame, columns, "data")
    n = len(frame)
    blocks, names = [], []
    if intercept:
        blocks.append(np.ones((n, 1)))
        names.append("Intercept")
    has_reference = intercept
    for col in columns:
        series = frame[col]
        if series.isna().any():
            rows = list(frame.index[series.isna()])
            raise ValueError(f"Fixed-effect column {col!r} has missing values in rows {preview(rows)}.")
        if is_categorical(series):
            levels = _levels(series)
            keep = levels[1:] if has_reference else levels
            codes = series.astype(str).to_numpy()
            blocks.append(np.column_stack([(codes == lv).astype(float) for lv in keep]) if keep else np.empty((n, 0)))
            names.extend(f"{col}[{lv}]" for lv in keep)
            has_reference = True
        else:
            values = series.to_numpy(dtype=float)
            if not np.isfinite(values).all():
                raise ValueError(f"Fixed-effect column {col!r} has non-finite values.")
            _warn_if_coded_factor(series, col)
            blocks.append(values[:, None])
            names.append(col)
    x = np.hstack(blocks) if blocks else np.empty((n, 0))
    return x, names


#: An integer column with at most this many distinct values entering as a covariate is
#: probably a coded factor (sex 1/2, herd 1..k): a warning says how to make it one.
CODED_FACTOR_MAX_LEVELS = 20


def _warn_if_coded_factor(series: pd.Series, column: str) -> None:
    """Warn when an integer column with few distinct values becomes a covariate (one slope)."""
    if not pd.api.types.is_integer_dtype(series):
        return
    levels = np.unique(series.to_numpy())
    if levels.size > CODED_FACTOR_MAX_LEVELS:
        return
    shown = ", ".join(str(v) for v in levels[:5]) + (", ..." if levels.size > 5 else "")
    warn_user(
        f"Fixed-effect column {column!r} holds integers with {levels.size} distinct values ({shown}) and enters "
        f"as a covariate: one slope on its codes, not an effect per level. If it codes categories, make it a "
        f"factor first, e.g. data[{column!r}] = data[{column!r}].astype(str) (or 'category'); to keep it a "
        f"covariate and silence this, make it float: data[{column!r}].astype(float)."
    )


#: Smallest eigenvalue of the column-scaled X_o'X_o, relative to the largest, for a full-rank design.
RANK_TOLERANCE = 1e-10


def check_estimable(x_observed: np.ndarray, names, levels: dict | None = None) -> None:
    r"""Raise unless every fixed-effect coefficient is estimable from the observed records.

    Under a flat prior, :math:`\beta` has a proper posterior only if :math:`X_o`, the rows
    of X whose phenotype is observed, has full column rank. Three causes are named, in order:

    1. A factor level with no record with an observed phenotype (``levels``: column ->
       all its levels, reference first, as from :func:`factor_levels`). A level with a
       dummy column shows as a zero column of :math:`X_o`. The reference level has no
       column: when it is empty, every observed record falls in another level, so the
       intercept (or the previous factor's dummies) equals the sum of this factor's dummies
       over the observed records: :math:`X_o` is rank-deficient though no column is zero,
       and a rank check alone would blame one of the other levels as "confounded".
    2. Other columns that are zero in every observed record.
    3. Linear dependence, tested on the eigenvalues of the correlation form of
       :math:`X_o'X_o` (smallest < ``RANK_TOLERANCE`` x largest); the dependent columns are
       named by a QR decomposition of the column-scaled :math:`X_o` with column pivoting
       (the columns pivoted past the numerical rank).
    """
    names = list(names)
    k = x_observed.shape[1]
    if k == 0:
        return
    zero = ~np.any(x_observed != 0, axis=0)
    empty = []
    for col, col_levels in (levels or {}).items():
        dummies = {lv: names.index(f"{col}[{lv}]") for lv in col_levels if f"{col}[{lv}]" in names}
        dropped = [lv for lv in col_levels if lv not in dummies]
        reference_empty = (
            len(dropped) == 1  # the reference level of a treatment coding
            and bool(dummies)
            and bool(np.all(x_observed[:, list(dummies.values())].sum(axis=1) != 0))
        )
        empty += [(col, lv) for lv in col_levels if (zero[dummies[lv]] if lv in dummies else reference_empty)]
    if empty:
        raise ValueError(
            "Fixed effects cannot be estimated: "
            + "; ".join(f"level {lv!r} of column {col!r} has no record with an observed phenotype" for col, lv in empty)
            + ". Drop the level's records or merge the level with another."
        )
    if zero.any():
        raise ValueError(
            f"Fixed-effect column(s) {preview([names[j] for j in np.flatnonzero(zero)])} are zero in every "
            "record with an observed phenotype, so their coefficients cannot be estimated."
        )
    scaled = x_observed / np.sqrt(np.einsum("ij,ij->j", x_observed, x_observed))
    eig = np.linalg.eigvalsh(scaled.T @ scaled)
    rank = int(np.sum(eig > RANK_TOLERANCE * eig.max()))
    if rank < k:
        _, _, pivots = scipy.linalg.qr(scaled, mode="economic", pivoting=True)
        dependent = [names[j] for j in pivots[rank:]]
        raise ValueError(
            "Fixed-effect design is rank-deficient (confounded coefficients): "
            f"{preview(dependent)} can be written as combinations of other columns."
        )
