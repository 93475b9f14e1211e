"""SNP genotypes stored compactly as int8, centred on the fly by the kernels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .._validation import check_duplicates, normalize_ids, positions, preview

#: Code stored for a missing genotype; kernels map it to the marker mean (centred value 0).
MISSING = 3


class Genotypes:
    """Genotypes of individuals at biallelic markers, coded 0/1/2 copies of an allele.

    Parameters
    ----------
    ids : sequence
        One id per individual (row of ``matrix``).
    matrix : array-like or DataFrame, shape (n_individuals, n_markers)
        Allele counts 0, 1 or 2; missing as NaN or -9. If a DataFrame, its columns name
        the markers unless ``markers`` is given.
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
        ids = normalize_ids(ids, "Genotypes")
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
        """Read genotypes from a CSV (or .csv.gz) file with an id column and one column per marker."""
        return cls.from_dataframe(pd.read_csv(path, **read_csv_kwargs), id=id)


def _to_codes(matrix: np.ndarray, ids, markers) -> np.ndarray:
    """Validate allele counts and convert them to marker-major int8 codes (missing = 3).

    Works column block by column block so that a large float input is never copied whole.
    """
    n, p = matrix.shape
    codes = np.empty((p, n), dtype=np.int8)
    if matrix.dtype == object:
        matrix = pd.DataFrame(matrix).apply(pd.to_numeric, errors="coerce").to_numpy(float)
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
