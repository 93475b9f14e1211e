"""Input checks shared by the data classes and the model builders.

Every error names the offending column, ids or values, in the style of scikit-learn's
messages: say what was expected, what was found, and where.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Set

import numpy as np
import pandas as pd

#: Values read as "unknown parent" in pedigrees, after ``normalize_id`` (so the numbers 0 and
#: -9, integer or float, are covered by "0" and "-9"; NaN and None are unknown too).
UNKNOWN_PARENT_CODES = {"", "0", "-9", "NA", "na", "NaN", "nan", "None", "."}

_EXPECTED_IDS = "a one-dimensional sequence of ids (list, tuple, numpy array or pandas Series)"


def preview(values, limit: int = 5) -> str:
    """A short, readable list of offending values for an error message."""
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:limit])
    if len(values) > limit:
        shown += f", ... ({len(values)} in all)"
    return shown


def _short(value, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def id_sequence(values, name: str) -> list:
    """``values`` as a list, after checking that it is a one-dimensional sequence of ids.

    A str is one id, not a sequence of one-letter ids; None, numbers, mappings and sets
    (unordered) are not sequences of ids; arrays must have one dimension and entries must
    not themselves be sequences. ``name`` names the argument in the error.
    """
    if values is None:
        raise TypeError(f"{name} must be {_EXPECTED_IDS}, got None.")
    if isinstance(values, (str, bytes)):
        raise TypeError(
            f"{name} must be {_EXPECTED_IDS}, got {type(values).__name__} {_short(values)} "
            "(a str is one id, not a sequence of ids: wrap a single id in a list)."
        )
    if isinstance(values, (Mapping, Set)) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be {_EXPECTED_IDS}, got {type(values).__name__} {_short(values)}.")
    ndim = getattr(values, "ndim", 1)
    if ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got an array of shape {np.shape(values)}.")
    out = list(values)
    nested = [
        k
        for k, v in enumerate(out)
        if not isinstance(v, (str, bytes))
        and isinstance(v, Iterable)
        and not (isinstance(v, np.ndarray) and v.ndim == 0)
    ]
    if nested:
        raise ValueError(
            f"{name} must be one-dimensional: the entries at positions {preview(nested)} are "
            f"themselves sequences (first: {_short(out[nested[0]])})."
        )
    return out


def id_labels(ids_text) -> np.ndarray:
    """Labels for normalised ids (coordinates, predictions): int64 if every id is the
    canonical text of an integer (``str(int(t)) == t``: "12", "-3", not "007", "+5", "1_0"),
    otherwise str, in the same order."""
    ids_text = [str(t) for t in ids_text]
    try:
        numbers = [int(t) for t in ids_text]
    except ValueError:
        return np.array(ids_text, dtype=str)
    if any(str(v) != t for v, t in zip(numbers, ids_text)):
        return np.array(ids_text, dtype=str)
    try:
        return np.array(numbers, dtype=np.int64)
    except OverflowError:
        return np.array(ids_text, dtype=str)


def normalize_id(value):
    """Return an id as a string, or ``None`` for an unknown/missing id.

    Integral floats (``12.0``, as pandas makes of an integer column holding NaN) become
    ``"12"`` so that ids match whatever column type they were read from.
    """
    if value is None:
        return None
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = str(value).strip()
    return text


def normalize_ids(values, what: str) -> list[str]:
    """Normalise a sequence of ids that must all be known (records, genotypes); boolean ids
    are legal (read as "1" and "0") but warned about (``warn_if_boolean_ids``)."""
    values = list(values)
    warn_if_boolean_ids(values, what)
    out = [normalize_id(v) for v in values]
    missing = [i for i, v in enumerate(out) if v is None or v == ""]
    if missing:
        raise ValueError(f"{what} has missing ids at positions {preview(missing)}.")
    return out


def warn_if_boolean_ids(values, what: str) -> None:
    """Legal but worth a warning: True and False are integers to Python, so as ids they are
    read as "1" and "0" and match the animal or genotype ids 1 and 0."""
    n_bool = sum(isinstance(v, (bool, np.bool_)) for v in values)
    if n_bool:
        from ._user_warnings import warn_user

        warn_user(
            f"{what} holds {n_bool} boolean id(s) (True/False): they are read as the ids '1' and '0', so "
            "True matches an animal or genotype id 1. If this is not the id column, pass the right one; if "
            "it is, convert it first (.astype(int) or .astype(str)) to say what the ids are."
        )


def normalize_parent(value):
    """A parent id, or ``None`` for any of the unknown-parent codes: NaN, None, '', 0, '0',
    -9, '-9', 'NA' (see ``UNKNOWN_PARENT_CODES``)."""
    out = normalize_id(value)
    if out is None or out in UNKNOWN_PARENT_CODES:
        return None
    return out


def check_duplicates(ids, what: str) -> None:
    """Raise if ``ids`` has repeated entries, naming them."""
    seen, dups = set(), []
    for i in ids:
        if i in seen and i not in dups:
            dups.append(i)
        seen.add(i)
    if dups:
        raise ValueError(f"Duplicate {what}: {preview(dups)}.")


def require_columns(frame: pd.DataFrame, columns, what: str = "data") -> None:
    """Raise if any of ``columns`` is not a column of ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"Column(s) {preview(missing)} not found in {what}; "
            f"available columns: {preview(list(frame.columns), limit=12)}."
        )


def check_positive_finite(value, name: str, allow_zero: bool = False) -> float:
    """Return ``value`` as a float after checking it is finite and positive (or zero)."""
    # Text and booleans are not numbers here: "5" or True for a degree of freedom is a mistake.
    if isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}.") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}.")
    return value


#: Bounds of a standard-deviation scale A: A² stays within 1e±200, so that A², 1/A² and their
#: products with the data's sums of squares in the conjugate updates stay finite and nonzero in
#: float64 (whose range ends near 1e±308; 1e300 overflowed there as an OverflowError).
SCALE_MAX = 1e100
SCALE_MIN = 1e-100


def check_square_representable(scale: float, df: float, name: str) -> None:
    """Raise unless a standard-deviation scale is within [SCALE_MIN, SCALE_MAX] (and df·A² is
    finite): beyond, the sampler's conjugate updates overflow or divide by 0."""
    if not SCALE_MIN <= scale <= SCALE_MAX or not math.isfinite(df * scale * scale):
        raise ValueError(
            f"{name} must be between {SCALE_MIN:g} and {SCALE_MAX:g}, got {scale!r}: its square, the scale of "
            "the variance, must stay far inside float64's range for the sampler's updates. It is in the units of "
            "the standard deviation: rescale the phenotype if it needs such a scale."
        )


def positions(ids, index: dict, missing_message: str) -> np.ndarray:
    """Positions of ``ids`` in ``index`` (id -> position); absent ids raise a ValueError
    ``"<missing_message>: <ids>."`` naming each once."""
    ids = normalize_ids(id_sequence(ids, "ids"), "ids")
    missing = [a for a in ids if a not in index]
    if missing:
        raise ValueError(f"{missing_message}: {preview(list(dict.fromkeys(missing)))}.")
    return np.array([index[a] for a in ids], dtype=np.int64)
