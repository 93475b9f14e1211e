"""Fixed-effect design matrices from DataFrame columns (R-style treatment coding)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import preview, require_columns


def is_categorical(series: pd.Series) -> bool:
    """Numeric columns are covariates; anything else (text, category, bool) is a factor."""
    return not (pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def fixed_design(frame: pd.DataFrame, columns, intercept: bool = True) -> tuple[np.ndarray, list[str]]:
    """Design matrix X (n x k, float64) and coefficient names for fixed effects.

    Numeric columns enter as covariates. Categorical columns get treatment dummies: the
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
            levels = sorted(series.astype(str).unique())
            keep = levels[1:] if has_reference else levels
            codes = series.astype(str).to_numpy()
            blocks.append(np.column_stack([(codes == lv).astype(float) for lv in keep]) if keep else np.empty((n, 0)))
            names.extend(f"{col}[{lv}]" for lv in keep)
            has_reference = True
        else:
            values = series.to_numpy(dtype=float)
            if not np.isfinite(values).all():
                raise ValueError(f"Fixed-effect column {col!r} has non-finite values.")
            blocks.append(values[:, None])
            names.append(col)
    x = np.hstack(blocks) if blocks else np.empty((n, 0))
    return x, names
