"""SNP genotypes stored compactly as int8, centred on the fly by the kernels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import check_duplicates, id_labels, id_sequence, normalize_ids, positions, preview

#: Code stored for a missing genotype; kernels map it to the marker mean (centred value 0).
MISSING = 3

#: Text read as a missing genotype (besides NaN, None and -9 / "-9"); any other text that is
#: not a number is an error, never silently missing.
MISSING_TEXT = ("", "NA", "NaN", "nan")


class Genotypes:
    """Genotypes of individuals at biallelic markers, coded 0/1/2 copies of an allele.

    Parameters
    ----------
    ids : one-dimensional sequence
        One id per individual (row of ``matrix``).
    matrix : array-like or DataFrame, shape (n_individuals, n_markers)
        Allele counts 0, 1 or 2 (numbers, or their text); missing as NaN, None or -9 (or
        the text "-9", "", "NA", "NaN"). Any other value, e.g. a text genotype "AB", is an
        error naming individual, marker and value. If a DataFrame, its columns name the
        markers unless ``markers`` is given.
    markers : sequence, optional
        Marker names; default ``m0, m1, ...``.
    drop_monomorphic : bool, default True
        Drop markers whose observed genotypes are all equal (they carry no information
        for fitting). Use False for individuals to predict, where a handful of
        individuals is "monomorphic" at most markers.

    Notes
    -----
    Codes are stored marker-major as int8 (``codes[j, i]`` for marker j, individual i;
    missing = 3), never as float64. Markers whose observed genotypes are all equal are
    dropped with a warning (unless ``drop_monomorphic=False``). ``centre[j]`` is twice
    the allele frequency, computed over the non-missing genotypes; kernels use
    ``g - centre[j]``, and 0 for missing, i.e. missing genotypes are mean-imputed.
    """

    def __init__(self, ids, matrix, markers=None, drop_monomorphic: bool = True):
        if isinstance(matrix, pd.DataFrame):
            if markers is None:
                markers = [str(c) for c in matrix.columns]
            matrix = matrix.to_numpy()
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"Genotype matrix must be 2-dimensional, got shape {matrix.shape}.")
        ids = normalize_ids(id_sequence(ids, "Genotypes ids"), "Genotypes")
        if markers is not None:
            markers = id_sequence(markers, "Genotypes markers")
        n, p = matrix.shape
        if n == 0 or p == 0:
            raise ValueError(f"Genotype matrix is empty (shape {matrix.shape}).")
        if len(ids) != n:
            raise ValueError(f"Got {len(ids)} ids for a genotype matrix with {n} rows.")
        markers = [f"m{j}" for j in range(p)] if markers is None else [str(m) for m in markers]
        if len(markers) != p:
            raise ValueError(f"Got {len(markers)} marker names for a genotype matrix with {p} columns.")
        check_duplicates(ids, "individual ids in the genotypes")
        check_duplicates(markers, "marker names in the genotypes")

        codes = _to_codes(matrix, ids, markers)  # (p, n) int8
        observed = codes != MISSING
        n_obs = observed.sum(axis=1)
        sums = np.where(observed, codes, 0).sum(axis=1, dtype=np.int64)
        lowest = np.where(observed, codes, 2).min(axis=1)
        highest = np.where(observed, codes, 0).max(axis=1)
        polymorphic = (n_obs > 0) & (lowest < highest)
        if drop_monomorphic and not polymorphic.all():
            dropped = [m for m, keep in zip(markers, polymorphic) if not keep]
            warnings.warn(
                f"Dropped {len(dropped)} monomorphic marker(s): {preview(dropped)}.",
                UserWarning,
                stacklevel=2,
            )
            if not polymorphic.any():
                raise ValueError("All markers are monomorphic; nothing is left to fit.")
            codes = np.ascontiguousarray(codes[polymorphic])
            markers = [m for m, keep in zip(markers, polymorphic) if keep]
            sums, n_obs = sums[polymorphic], n_obs[polymorphic]

        self.ids = ids
        self.markers = markers
        self.codes = codes
        # A marker kept with no observed genotype (drop_monomorphic=False) is centred at 0.
        self.centre = np.where(n_obs > 0, sums / np.maximum(n_obs, 1), 0.0)
        self._index = {a: k for k, a in enumerate(ids)}

    @property
    def n_individuals(self) -> int:
        return self.codes.shape[1]

    @property
    def n_markers(self) -> int:
        return self.codes.shape[0]

    @property
    def allele_frequencies(self) -> pd.Series:
        """Frequency of the counted allele per marker (over non-missing genotypes)."""
        return pd.Series(self.centre / 2.0, index=pd.Index(self.markers, name="marker"))

    @property
    def labels(self) -> np.ndarray:
        """``ids`` as int64 if every id is an integer, otherwise as str (same order)."""
        return id_labels(self.ids)

    @property
    def marker_labels(self) -> np.ndarray:
        """Marker names as a str array (marker names stay text, even when numeric)."""
        return np.array(self.markers, dtype=str)

    def __repr__(self) -> str:
        return f"Genotypes({self.n_individuals} individuals x {self.n_markers} markers, int8)"

    def index(self, ids) -> np.ndarray:
        """Positions of ``ids``; ids without genotypes raise a KeyError naming them."""
        return positions(ids, self._index, "Ids without genotypes")

    def centred_lookup(self, centre=None) -> np.ndarray:
        """Table ``t[j, code]`` of centred genotype values: ``code - centre[j]``, 0 for missing."""
        centre = self.centre if centre is None else centre
        table = np.zeros((self.n_markers, 4))
        table[:, :3] = np.arange(3)[None, :] - centre[:, None]
        return table

    @classmethod
    def from_dataframe(cls, frame: pd.DataFrame, id: str):
        """Genotypes from a DataFrame with an id column and one column per marker."""
        if id not in frame.columns:
            raise KeyError(f"Id column {id!r} not found in the genotype table.")
        return cls(frame[id].tolist(), frame.drop(columns=[id]))

    @classmethod
    def from_csv(cls, path, id: str, **read_csv_kwargs):
        """Read genotypes from a CSV (or .csv.gz) file with an id column and one column per marker.

        Ids are read as text (``007`` stays ``"007"``, as in ``Pedigree.from_csv``). Missing
        genotypes are empty cells, NA, NaN or -9; other text is an error. ``read_csv_kwargs``
        go to ``pandas.read_csv`` and override these defaults.
        """
        read_csv_kwargs.setdefault("dtype", {id: str})
        if "na_values" not in read_csv_kwargs and "keep_default_na" not in read_csv_kwargs:
            read_csv_kwargs.update(na_values=list(MISSING_TEXT), keep_default_na=False)
        return cls.from_dataframe(pd.read_csv(path, **read_csv_kwargs), id=id)


def _to_codes(matrix: np.ndarray, ids, markers) -> np.ndarray:
    """Validate allele counts and convert them to marker-major int8 codes (missing = 3).

    Works column block by column block so that a large float input is never copied whole.
    """
    n, p = matrix.shape
    codes = np.empty((p, n), dtype=np.int8)
    if matrix.dtype.kind in "OUS":
        matrix = _text_to_numbers(matrix, ids, markers)
    block = max(1, 2**22 // max(n, 1))
    for start in range(0, p, block):
        chunk = np.asarray(matrix[:, start : start + block], dtype=np.float64)
        missing = np.isnan(chunk) | (chunk == -9)
        valid = missing | (chunk == 0) | (chunk == 1) | (chunk == 2)
        if not valid.all():
            bad_rows, bad_cols = np.nonzero(~valid)
            examples = [
                f"{ids[r]}/{markers[start + c]}={float(chunk[r, c])!r}" for r, c in zip(bad_rows[:5], bad_cols[:5])
            ]
            raise ValueError(
                "Genotype codes must be 0, 1, 2 or missing (NaN or -9); found "
                f"{bad_rows.size} invalid value(s) (individual/marker=value): {', '.join(examples)}."
            )
        out = np.where(missing, MISSING, chunk).astype(np.int8)
        codes[start : start + chunk.shape[1]] = out.T
    return codes


def _text_to_numbers(matrix: np.ndarray, ids, markers) -> np.ndarray:
    """Object or text genotypes as float64: numbers and numeric text are converted, the
    missing codes (None, NaN, ``MISSING_TEXT``) become NaN, anything else raises naming
    individual, marker and value."""
    numbers = pd.DataFrame(matrix).apply(pd.to_numeric, errors="coerce").to_numpy(float)
    rows, cols = np.nonzero(np.isnan(numbers))  # missing codes, and whatever was not a number
    bad = [(r, c) for r, c in zip(rows, cols) if not _is_missing_code(matrix[r, c])]
    if bad:
        examples = [f"{ids[r]}/{markers[c]}={_plain(matrix[r, c])!r}" for r, c in bad[:5]]
        raise ValueError(
            "Genotype codes must be 0, 1, 2 or missing (NaN, None, -9, or the text "
            f"{', '.join(repr(t) for t in MISSING_TEXT)}); found {len(bad)} invalid value(s) "
            f"(individual/marker=value): {', '.join(examples)}."
        )
    return numbers


def _is_missing_code(value) -> bool:
    if isinstance(value, str):
        return value.strip() in MISSING_TEXT
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    return value is None or value is pd.NA or value is pd.NaT


def _plain(value):
    """numpy scalars as Python values, so that messages show 'AB', not np.str_('AB')."""
    return value.item() if isinstance(value, np.generic) else value
