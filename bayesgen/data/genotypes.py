"""SNP genotypes stored compactly as int8 (or packed, 2 bits each), centred on the fly by the kernels."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .._deprecation import renamed_arguments
from .._typing import IdsArg
from .._validation import check_duplicates, id_labels, id_sequence, normalize_ids, positions, preview
from ._genotype_kernels import (
    count_codes,
    count_packed,
    decode_rows,
    pack_codes,
    packed_width,
    repack_columns,
    summarise_counts,
)

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
    marker_info : DataFrame, optional (keyword)
        Marker metadata indexed by marker name (``read_plink`` gives chrom, pos, allele1,
        allele2); every marker needs a row. Kept through ``select``.

    Notes
    -----
    Other constructors: ``from_codes`` (ready int8 codes, no copy), ``from_csv``,
    ``from_dataframe``, and ``bayesgen.read_plink`` (``packed=True`` reads the .bed bytes as
    they are, 2 bits per genotype).

    Codes are stored marker-major as int8 (``codes[j, i]`` for marker j, individual i;
    missing = 3), never as float64. Markers whose observed genotypes are all equal are
    dropped with a warning (unless ``drop_monomorphic=False``). ``centre[j]`` is twice
    the allele frequency, computed over the non-missing genotypes; kernels use
    ``g - centre[j]``, and 0 for missing, i.e. missing genotypes are mean-imputed.

    Packed genotypes (``pack()``, ``read_plink(..., packed=True)``) hold the same codes 2 bits
    each in the PLINK .bed layout (``packed_codes``: uint8, markers x ceil(n/4); 00 = 2 copies of
    the counted allele, 01 = missing, 10 = 1, 11 = 0), a quarter of the int8 bytes. Every marker
    prior and sweep reads them directly, decoding one marker at a time into the same int8
    values, so a model fitted on packed genotypes gives the same draws, bit for bit, as on int8
    ones. ``nbytes`` is what the codes take in memory.
    """

    def __init__(
        self,
        ids: IdsArg,
        matrix: ArrayLike | pd.DataFrame,
        markers: Sequence[str] | None = None,
        drop_monomorphic: bool = True,
        *,
        marker_info: pd.DataFrame | None = None,
    ):
        if isinstance(matrix, pd.DataFrame):
            if markers is None:
                markers = [str(c) for c in matrix.columns]
            matrix = matrix.to_numpy()
        matrix = np.asarray(matrix)
        if matrix.ndim != 2:
            raise ValueError(f"Genotype matrix must be 2-dimensional, got shape {matrix.shape}.")
        n, p = matrix.shape
        ids, markers = _check_names(ids, markers, n, p, rows="rows", columns="columns")
        codes = _to_codes(matrix, ids, markers)  # (p, n) int8
        counts = np.empty((p, 4), dtype=np.int64)
        count_codes(codes, counts)
        self._set(ids, markers, codes, counts, drop_monomorphic, marker_info, centre=None, stacklevel=3)

    @classmethod
    def from_codes(cls, ids, codes, markers, *, marker_info=None, drop_monomorphic: bool = True):
        """Genotypes from ready marker-major int8 codes, without copying them.

        Parameters
        ----------
        ids : one-dimensional sequence
            One id per individual (column of ``codes``).
        codes : numpy int8 array, shape (n_markers, n_individuals)
            ``codes[j, i]`` = copies (0, 1, 2) of the counted allele of marker j in
            individual i, 3 = missing. Kept as is (no copy) when C-contiguous; any other
            layout is copied once to C order. Never modified.
        markers : one-dimensional sequence
            One name per marker (row of ``codes``).
        marker_info : DataFrame, optional
            Marker metadata (e.g. chrom, pos, allele1, allele2) indexed by marker name;
            every marker needs a row. Stored as ``marker_info``, rows in marker order.
        drop_monomorphic : bool, default True
            As in ``Genotypes``; dropping markers copies the kept rows.

        Notes
        -----
        Validation is one pass over the codes (counts per marker; values outside 0..3
        are an error naming individual, marker and value), with O(n_markers) memory.
        """
        codes = np.asarray(codes)
        if codes.dtype != np.int8:
            raise TypeError(
                f"codes must be a numpy int8 array (0/1/2, 3 = missing), got dtype {codes.dtype}; "
                "use Genotypes(ids, matrix, markers) for other allele-count inputs."
            )
        if codes.ndim != 2:
            raise ValueError(f"codes must be 2-dimensional (markers x individuals), got shape {codes.shape}.")
        p, n = codes.shape
        ids, markers = _check_names(ids, markers, n, p, rows="columns of codes", columns="rows of codes")
        codes = np.ascontiguousarray(codes)
        counts = np.empty((p, 4), dtype=np.int64)
        first_invalid = count_codes(codes, counts)
        if first_invalid >= 0:
            n_bad = p * n - int(counts.sum())
            examples = []
            for j in range(first_invalid // n, p):  # row by row: no full-size temporary
                for i in np.flatnonzero((codes[j] < 0) | (codes[j] > MISSING))[: 5 - len(examples)]:
                    examples.append(f"{ids[i]}/{markers[j]}={int(codes[j, i])}")
                if len(examples) == 5:
                    break
            raise ValueError(
                f"Genotype codes must be 0, 1, 2 or {MISSING} (missing); found {n_bad} invalid value(s) "
                f"(individual/marker=value): {', '.join(examples)}."
            )
        self = cls.__new__(cls)
        self._set(ids, markers, codes, counts, drop_monomorphic, marker_info, centre=None, stacklevel=3)
        return self

    def _set(self, ids, markers, codes, counts, drop_monomorphic, marker_info, centre, stacklevel, info_aligned=False):
        """Fill the attributes from checked names, int8 or packed codes and their ``count_codes``.

        ``centre``, if given, replaces the centres computed from the codes (one per row
        of ``codes``, subset with them when monomorphic markers are dropped).
        ``info_aligned``: ``marker_info`` is a frame of our own, already indexed by
        ``markers`` in order (read_plink), so it is neither checked nor copied.
        """
        n_obs, sums, polymorphic = summarise_counts(counts)
        if marker_info is not None and not info_aligned:
            marker_info = _align_marker_info(marker_info, markers)
        if drop_monomorphic and not polymorphic.all():
            dropped = [m for m, keep in zip(markers, polymorphic) if not keep]
            warnings.warn(
                f"Dropped {len(dropped)} monomorphic marker(s): {preview(dropped)}.",
                UserWarning,
                stacklevel=stacklevel,
            )
            if not polymorphic.any():
                raise ValueError("All markers are monomorphic; nothing is left to fit.")
            codes = np.ascontiguousarray(codes[polymorphic])
            markers = [m for m, keep in zip(markers, polymorphic) if keep]
            sums, n_obs = sums[polymorphic], n_obs[polymorphic]
            if centre is not None:
                centre = centre[polymorphic]
            if marker_info is not None:
                marker_info = marker_info.loc[polymorphic]

        self.ids = ids
        self.markers = markers
        self._n_individuals = len(ids)
        self._stored = codes  # int8 codes, or packed codes (uint8) when ``packed``
        if centre is None:
            # A marker kept with no observed genotype (drop_monomorphic=False) is centred at 0.
            centre = np.where(n_obs > 0, sums / np.maximum(n_obs, 1), 0.0)
        self.centre = np.asarray(centre, dtype=np.float64)
        #: Marker metadata (DataFrame indexed by marker, e.g. chrom, pos, allele1, allele2), or None.
        self.marker_info = marker_info
        #: What ``read_plink`` removed and why (dict), or None for genotypes not read from PLINK.
        self.qc_report = None
        self._index = {a: k for k, a in enumerate(ids)}

    @property
    def n_individuals(self) -> int:
        return self._n_individuals

    @property
    def n_markers(self) -> int:
        return self._stored.shape[0]

    @property
    def packed(self) -> bool:
        """True if the codes are held packed, 2 bits each (``pack()``, ``read_plink(packed=True)``)."""
        return self._stored.dtype == np.uint8

    @property
    def stored_codes(self) -> np.ndarray:
        """The codes as held: int8 (markers x individuals) or packed (uint8, markers x ceil(n/4)).
        Every genotype kernel takes either; this is what the model terms read (never a copy)."""
        return self._stored

    @property
    def codes(self) -> np.ndarray:
        """int8 codes, markers x individuals (0/1/2, 3 = missing). For packed genotypes this is a
        new decoded array of n_markers x n_individuals bytes, four times what they hold: read
        blocks with ``marker_codes(rows)`` instead."""
        if self.packed:
            return self.marker_codes(np.arange(self.n_markers))
        return self._stored

    @property
    def packed_codes(self) -> np.ndarray | None:
        """The packed codes (uint8, markers x ceil(n/4), PLINK .bed layout), or None if held as int8."""
        return self._stored if self.packed else None

    @property
    def nbytes(self) -> int:
        """Bytes of the genotype codes held: n_markers x n_individuals as int8, a quarter of that
        (n_markers x ceil(n/4)) packed. Names, centres and marker_info are O(n + p) on top."""
        return int(self._stored.nbytes)

    def marker_codes(self, rows) -> np.ndarray:
        """int8 codes (len(rows) x n_individuals) of the markers at positions ``rows``: one
        block, decoded if packed (a copy either way)."""
        return decode_rows(self._stored, self.n_individuals, rows)

    def pack(self) -> Genotypes:
        """The same genotypes held packed, 2 bits each (PLINK .bed layout): a new Genotypes with the
        same ids, markers, centres, marker_info and qc_report, whose codes take a quarter of the
        bytes. Already packed genotypes are returned as they are. ``self`` is not changed."""
        if self.packed:
            return self
        packed = np.empty((self.n_markers, packed_width(self.n_individuals)), dtype=np.uint8)
        pack_codes(self._stored, packed)
        return self._with_codes(packed)

    def unpack(self) -> Genotypes:
        """The same genotypes held as int8 codes (a new Genotypes; int8 genotypes are returned as they are)."""
        if not self.packed:
            return self
        return self._with_codes(self.codes)

    def _with_codes(self, stored) -> Genotypes:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new._stored = stored
        if self.qc_report is not None:  # its own dict: changing one object's report leaves the other's
            new.qc_report = dict(self.qc_report)
        return new

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
        held = "packed 2 bits" if self.packed else "int8"
        return f"Genotypes({self.n_individuals} individuals x {self.n_markers} markers, {held})"

    def index(self, ids) -> np.ndarray:
        """Positions of ``ids``; ids without genotypes raise a ValueError naming them."""
        return positions(ids, self._index, "Ids without genotypes")

    def select(self, ids=None, markers=None, *, drop_monomorphic: bool = False, keep_centre: bool = False):
        """A new Genotypes with the individuals ``ids`` and the markers ``markers``, in the
        order given (None keeps all, in the current order).

        Parameters
        ----------
        ids, markers : one-dimensional sequences, optional
            Ids absent from these genotypes, unknown marker names and duplicates are errors
            naming them.
        drop_monomorphic : bool, default False
            Drop markers whose genotypes are all equal among the selected individuals
            (with a warning). Off by default: a subset to predict is often monomorphic at
            many markers, and a fitted model needs all of its markers.
        keep_centre : bool, default False
            False: ``centre`` (twice the allele frequency) is recomputed over the selected
            individuals, exactly as ``Genotypes(ids, matrix)`` of the same genotypes would.
            True: each marker keeps its centre from these genotypes (the frequency of the
            whole set, e.g. a reference population for a GRM of a subset).

        Notes
        -----
        The codes of the subset are copied once (int8, selected markers x selected
        individuals; packed genotypes give packed genotypes, repacked marker by marker);
        ``marker_info`` follows the selected markers; ``qc_report`` is not carried over (it
        describes a file read, not the subset).
        """
        if ids is None:
            columns = None
        else:
            wanted = normalize_ids(id_sequence(ids, "ids"), "ids")
            check_duplicates(wanted, "ids in select(ids=...)")
            columns = self.index(wanted)
        if markers is None:
            rows = None
        else:
            wanted = [str(m) for m in id_sequence(markers, "markers")]
            check_duplicates(wanted, "markers in select(markers=...)")
            position = {m: k for k, m in enumerate(self.markers)}
            unknown = [m for m in wanted if m not in position]
            if unknown:
                raise ValueError(f"Markers not in the genotypes: {preview(unknown)}.")
            rows = np.array([position[m] for m in wanted], dtype=np.int64)

        stored = self._stored
        if self.packed:
            if rows is not None:
                stored = stored[rows]
            if columns is None:
                codes = stored.copy() if rows is None else np.ascontiguousarray(stored)
            else:
                codes = np.empty((stored.shape[0], packed_width(columns.size)), dtype=np.uint8)
                repack_columns(np.ascontiguousarray(stored), self.n_individuals, columns.astype(np.int64), codes)
        elif rows is None and columns is None:
            codes = stored.copy()
        elif columns is None:
            codes = stored[rows]
        elif rows is None:
            codes = stored[:, columns]
        else:
            codes = stored[np.ix_(rows, columns)]
        codes = np.ascontiguousarray(codes)
        new_ids = self.ids if columns is None else [self.ids[k] for k in columns]
        new_markers = self.markers if rows is None else [self.markers[k] for k in rows]
        if len(new_ids) == 0 or len(new_markers) == 0:
            raise ValueError(
                f"select() needs at least one id and one marker, got {len(new_ids)} and {len(new_markers)}."
            )
        marker_info = None
        if self.marker_info is not None:
            marker_info = self.marker_info if rows is None else self.marker_info.iloc[rows]
        centre = None
        if keep_centre:
            centre = self.centre.copy() if rows is None else self.centre[rows]
        counts = np.empty((codes.shape[0], 4), dtype=np.int64)
        if self.packed:
            count_packed(codes, len(new_ids), counts)
        else:
            count_codes(codes, counts)
        new = type(self).__new__(type(self))
        new._set(list(new_ids), list(new_markers), codes, counts, drop_monomorphic, marker_info, centre, stacklevel=3)
        return new

    def centred_lookup(self, centre=None) -> np.ndarray:
        """Table ``t[j, code]`` of centred genotype values: ``code - centre[j]``, 0 for missing."""
        centre = self.centre if centre is None else centre
        table = np.zeros((self.n_markers, 4))
        table[:, :3] = np.arange(3)[None, :] - centre[:, None]
        return table

    @classmethod
    @renamed_arguments(id="column")
    def from_dataframe(cls, frame: pd.DataFrame, column: str, *, drop_monomorphic: bool = True):
        """Genotypes from a DataFrame with an id column (``column``) and one column per marker
        (``drop_monomorphic`` as in ``Genotypes``)."""
        if column not in frame.columns:
            raise ValueError(f"Id column {column!r} not found in the genotype table.")
        return cls(frame[column].tolist(), frame.drop(columns=[column]), drop_monomorphic=drop_monomorphic)

    @classmethod
    @renamed_arguments(id="column")
    def from_csv(cls, path, column: str, *, drop_monomorphic: bool = True, **read_csv_kwargs):
        """Read genotypes from a CSV (or .csv.gz) file with an id column (``column``) and one column per marker.

        Ids are read as text (``007`` stays ``"007"``, as in ``Pedigree.from_csv``). Missing
        genotypes are empty cells, NA, NaN or -9; other text is an error. ``drop_monomorphic``
        as in ``Genotypes`` (False keeps markers fixed among these individuals, as genotypes
        of individuals to predict need). ``read_csv_kwargs`` go to ``pandas.read_csv`` and
        override these defaults.
        """
        read_csv_kwargs.setdefault("dtype", {column: str})
        if "na_values" not in read_csv_kwargs and "keep_default_na" not in read_csv_kwargs:
            read_csv_kwargs.update(na_values=list(MISSING_TEXT), keep_default_na=False)
        return cls.from_dataframe(
            pd.read_csv(path, **read_csv_kwargs), column=column, drop_monomorphic=drop_monomorphic
        )


def _check_names(ids, markers, n: int, p: int, rows: str, columns: str):
    """Normalised ids (text) and marker names for ``n`` individuals and ``p`` markers;
    ``rows``/``columns`` say where individuals and markers are in the input, for messages."""
    ids = normalize_ids(id_sequence(ids, "Genotypes ids"), "Genotypes")
    if markers is not None:
        markers = id_sequence(markers, "Genotypes markers")
    if n == 0 or p == 0:
        raise ValueError(f"Genotype matrix is empty ({n} individuals x {p} markers).")
    if len(ids) != n:
        raise ValueError(f"Got {len(ids)} ids for a genotype matrix with {n} {rows}.")
    markers = [f"m{j}" for j in range(p)] if markers is None else [str(m) for m in markers]
    if len(markers) != p:
        raise ValueError(f"Got {len(markers)} marker names for a genotype matrix with {p} {columns}.")
    check_duplicates(ids, "individual ids in the genotypes")
    check_duplicates(markers, "marker names in the genotypes")
    return ids, markers


def _align_marker_info(marker_info, markers) -> pd.DataFrame:
    """``marker_info`` with its rows in the order of ``markers`` (index as text, named
    "marker"); a copy, so the caller's frame is never modified."""
    if not isinstance(marker_info, pd.DataFrame):
        raise TypeError(f"marker_info must be a pandas DataFrame indexed by marker, got {type(marker_info).__name__}.")
    info = marker_info.copy()
    info.index = pd.Index([str(m) for m in info.index], name="marker")
    check_duplicates(list(info.index), "markers in the index of marker_info")
    present = set(info.index)
    absent = [m for m in markers if m not in present]
    if absent:
        raise ValueError(f"Markers without a row in marker_info: {preview(absent)}.")
    return info.loc[list(markers)]


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
