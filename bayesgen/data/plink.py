"""Read PLINK 1 binary file sets (.bed/.bim/.fam) straight to int8 or packed ``Genotypes``."""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._typing import IdsArg
from .._validation import check_duplicates, id_sequence, normalize_ids, positions, preview
from ._genotype_kernels import (
    count_codes,
    count_packed,
    packed_width,
    recode_missing,
    repack_columns,
    summarise_counts,
)
from .genotypes import MISSING, Genotypes

logger = logging.getLogger(__name__)

#: bed-reader's missing value for ``dtype="int8"`` (documented in ``open_bed.read``).
BED_READER_MISSING_INT8 = -127

#: First three bytes of a PLINK 1 .bed file in SNP-major mode.
BED_MAGIC = bytes([0x6C, 0x1B, 0x01])

#: Bytes of int8 genotypes read from the .bed per block of markers: at most BLOCK_BYTES and
#: at most 1/BLOCK_FRACTION of the whole selection (but at least MIN_BLOCK_BYTES). A block is
#: the memory used on top of the result: bed-reader reads it, then it is copied into place.
BLOCK_BYTES = 2**22
BLOCK_FRACTION = 32
MIN_BLOCK_BYTES = 2**16


def read_plink(
    prefix: str | os.PathLike,
    *,
    ids: IdsArg | None = None,
    markers: Sequence[str] | None = None,
    maf: float | None = None,
    call_rate: float | None = None,
    report: bool = True,
    packed: bool = False,
) -> Genotypes:
    """Genotypes from the PLINK 1 binary files ``prefix.bed``, ``prefix.bim``, ``prefix.fam``.

    Parameters
    ----------
    prefix : str or path
        The file set without extension (a trailing ``.bed``, ``.bim`` or ``.fam`` is
        ignored, so ``"data/mice.bed"`` also works).
    ids : one-dimensional sequence, optional
        Individuals to read (the .fam's individual id, IID, compared as text), in this
        order. Default: all, in .fam order. Only they are read from the .bed.
    markers : one-dimensional sequence, optional
        Markers to read (the .bim's variant id), in this order. Default: all, in .bim order.
    maf : float in [0, 0.5], optional
        Remove markers whose minor allele frequency (over the observed genotypes of the
        selected individuals) is below ``maf`` (PLINK's ``--maf``).
    call_rate : float in [0, 1], optional
        Remove markers observed in fewer than this fraction of the selected individuals
        (PLINK's ``--geno 1 - call_rate``).
    report : bool, default True
        Print what was read and how many markers each rule removed. The same lines go to
        the ``bayesgen.data.plink`` logger (INFO) either way, and the numbers to
        ``genotypes.qc_report``. With ``report=False``, dropped monomorphic markers give
        the same UserWarning as ``Genotypes``.
    packed : bool, default False
        Hold the genotypes packed, 2 bits each, in the .bed's own layout (``Genotypes.pack``):
        the .bed bytes are copied as they are (re-packed only for a subset of ``ids``), never
        through int8, so memory is a quarter of the int8 codes. The same genotypes, QC and
        draws as ``packed=False``.

    Returns
    -------
    Genotypes
        Codes count copies of allele1 (the .bim's 5th column, PLINK's A1): 0, 1, 2, and
        missing genotypes stay missing (code 3, mean-imputed by the kernels).
        ``marker_info`` holds chrom, pos (bp), allele1, allele2 per marker;
        ``qc_report`` a dict of the counts (``removed_call_rate``, ``removed_maf``,
        ``removed_monomorphic``, ``markers_kept``, ...) and the removed marker names.

    Notes
    -----
    Rules are applied in order and each removed marker is counted once, under the first
    rule it fails: call rate, then MAF (a marker with no observed genotype has MAF 0),
    then monomorphic (all observed genotypes equal; always removed, as in ``Genotypes``).
    The .bed is read with bed-reader as int8, in blocks of markers written into one
    preallocated (markers x individuals) int8 array, so peak memory is about that array
    plus one block (at most 1/32 of it, and 4 MB) plus O(individuals + markers); no float
    copy is made. Markers removed by QC are compacted in place and the array shrunk. With
    ``packed=True`` the .bed is read through a memory map, a block of markers at a time, into
    one preallocated (markers x ceil(individuals/4)) uint8 array, counted per marker for QC
    from the 2-bit codes; peak memory is that array plus O(individuals + markers).

    Before reading, the file sizes must agree (3 + ceil(n/4) bytes per marker) and the
    padding bits after the n-th individual of each marker read must be zero, as PLINK
    writes them: a .fam that lost one to three lines leaves the size unchanged but the
    missing individuals' genotypes in those bits (undetectable only where all of them are
    homozygous for allele1, PLINK code 00).
    """
    bed_path, bim_path, fam_path = _file_set(prefix)
    if not isinstance(packed, (bool, np.bool_)):
        raise TypeError(f"read_plink packed must be True or False, got {packed!r}.")
    maf = _threshold(maf, "maf", upper=0.5)
    call_rate = _threshold(call_rate, "call_rate", upper=1.0)

    from bed_reader import open_bed  # imported here: only read_plink needs it

    _check_magic(bed_path)
    with open_bed(bed_path, fam_filepath=fam_path, bim_filepath=bim_path) as bed:
        file_ids = _read_property(bed, "iid", fam_path)
        file_markers = _read_property(bed, "sid", bim_path)
        _check_bed_size(bed_path, bim_path, fam_path, len(file_ids), len(file_markers))
        file_ids = normalize_ids(file_ids, f"{fam_path.name}")
        check_duplicates(file_ids, f"individual ids (IID) in {fam_path.name}")
        file_markers = [str(m) for m in file_markers]
        check_duplicates(file_markers, f"marker ids in {bim_path.name}")
        columns = _select(ids, "ids", file_ids, f"Ids not in {fam_path.name}")
        rows = _select(markers, "markers", file_markers, f"Markers not in {bim_path.name}")
        _check_padding(bed_path, fam_path, len(file_ids), file_markers, rows)
        info = pd.DataFrame(
            {
                "chrom": _read_property(bed, "chromosome", bim_path),
                "pos": _read_property(bed, "bp_position", bim_path).astype(np.int64),
                "allele1": _read_property(bed, "allele_1", bim_path),
                "allele2": _read_property(bed, "allele_2", bim_path),
            },
            index=pd.Index(file_markers, name="marker"),
        )
        n_ids = len(file_ids) if columns is None else columns.size
        n_read = len(file_markers) if rows is None else rows.size
        if n_ids == 0 or n_read == 0:
            raise ValueError(f"Nothing to read from {bed_path.name}: {n_ids} individuals x {n_read} markers selected.")
        if packed:
            codes, counts, read_rows, removed = _read_packed(
                bed_path, len(file_ids), len(file_markers), columns, rows, n_ids, n_read, maf, call_rate
            )
        else:
            codes, counts, read_rows, removed = _read_codes(bed, bed_path, columns, rows, n_ids, n_read, maf, call_rate)

    kept_markers = [file_markers[k] for k in read_rows]
    qc = {
        "files": str(bed_path.with_suffix("")),
        "individuals": n_ids,
        "markers_read": n_read,
        "call_rate": call_rate,
        "maf": maf,
        "removed_call_rate": len(removed["call_rate"]),
        "removed_maf": len(removed["maf"]),
        "removed_monomorphic": len(removed["monomorphic"]),
        "markers_kept": len(kept_markers),
        "removed_markers": {reason: [file_markers[k] for k in idx] for reason, idx in removed.items()},
    }
    lines = _report_lines(qc)
    for line in lines:
        logger.info(line)
    if report:
        print("\n".join(lines))
    if not kept_markers:
        reasons = "; ".join(line.strip() for line in lines[1:-1])
        raise ValueError(f"No marker of {bed_path.name} is left after quality control: {reasons}.")
    if not report and removed["monomorphic"]:  # unreported, so say it as Genotypes does
        names = qc["removed_markers"]["monomorphic"]
        warnings.warn(f"Dropped {len(names)} monomorphic marker(s): {preview(names)}.", UserWarning, stacklevel=2)

    kept_ids = file_ids if columns is None else [file_ids[k] for k in columns]
    genotypes = Genotypes.__new__(Genotypes)
    genotypes._set(
        kept_ids, kept_markers, codes, counts, drop_monomorphic=False,
        marker_info=info.iloc[read_rows], centre=None, stacklevel=2, info_aligned=True,
    )  # fmt: skip
    genotypes.qc_report = qc
    return genotypes


def _read_codes(bed, bed_path, columns, rows, n_ids, n_read, maf, call_rate):
    """Read the selected genotypes block by block of markers into one (markers x
    individuals) int8 array, keeping only markers that pass the QC rules.

    Returns the codes, their ``count_codes`` counts, the .bim positions of the kept
    markers, and per rule the .bim positions of the markers it removed.
    """
    file_rows = np.arange(bed.sid_count) if rows is None else rows
    iid_index = slice(None) if columns is None else columns
    codes = np.empty((n_read, n_ids), dtype=np.int8)
    counts = np.empty((n_read, 4), dtype=np.int64)
    kept = np.empty(n_read, dtype=np.int64)
    removed = {"call_rate": [], "maf": [], "monomorphic": []}
    block_bytes = min(BLOCK_BYTES, max(MIN_BLOCK_BYTES, n_read * n_ids // BLOCK_FRACTION))
    block = max(1, block_bytes // n_ids)
    n_kept = 0
    for start in range(0, n_read, block):
        stop = min(start + block, n_read)
        sid_index = slice(start, stop) if rows is None else rows[start:stop]
        try:
            # F order: each marker's genotypes are contiguous, so the transpose is C-contiguous.
            chunk = bed.read(np.s_[iid_index, sid_index], dtype="int8", order="F").T
        except Exception as error:  # bed-reader's errors do not say which file set is at fault
            raise ValueError(f"Could not read genotypes from {bed_path}: {error}") from error
        recode_missing(chunk, BED_READER_MISSING_INT8, MISSING)
        chunk_counts = np.empty((stop - start, 4), dtype=np.int64)
        first_invalid = count_codes(chunk, chunk_counts)
        if first_invalid >= 0:  # bed-reader only produces 0/1/2/-127; a guard, not a path
            raise ValueError(f"bed-reader returned an unexpected genotype code from {bed_path}.")
        keep = _quality(chunk_counts, n_ids, maf, call_rate, file_rows[start:stop], removed)
        n_new = int(keep.sum())
        target = codes[n_kept : n_kept + n_new]
        if n_new == keep.size:
            target[...] = chunk
        elif n_new:
            np.compress(keep, chunk, axis=0, out=target)
        counts[n_kept : n_kept + n_new] = chunk_counts[keep]
        kept[n_kept : n_kept + n_new] = file_rows[start:stop][keep]
        n_kept += n_new
        del chunk, target
    if n_kept < n_read:
        # Shrink in place (realloc): slicing would keep the removed rows alive, copying
        # would double the peak. Safe: no view of ``codes`` exists at this point.
        codes.resize((n_kept, n_ids), refcheck=False)
    return codes, counts[:n_kept].copy(), kept[:n_kept].copy(), removed


def _read_packed(bed_path, n_file_ids, n_file_markers, columns, rows, n_ids, n_read, maf, call_rate):
    """:func:`_read_codes` for packed codes: the .bed bytes copied block by block of markers
    (at most BLOCK_BYTES of the file each) into one (markers x ceil(n_ids / 4)) uint8 array,
    keeping only markers that pass the QC rules; a subset of individuals (``columns``) is
    re-packed marker by marker.

    The .bed's 2-bit values are the packed codes themselves (``PLINK_TO_CODE`` decodes them), so
    nothing is converted. Plain reads, not a memory map, so that the file's pages never count
    in the process's resident memory; with all individuals a block is read straight into its
    place in the result (only the kept markers lie before it). Returns what :func:`_read_codes`
    returns.
    """
    file_width = packed_width(n_file_ids)
    width = packed_width(n_ids)
    file_rows = np.arange(n_file_markers) if rows is None else rows
    codes = np.empty((n_read, width), dtype=np.uint8)
    counts = np.empty((n_read, 4), dtype=np.int64)
    kept = np.empty(n_read, dtype=np.int64)
    removed = {"call_rate": [], "maf": [], "monomorphic": []}
    block = max(1, BLOCK_BYTES // max(file_width, 1))
    n_kept = 0
    with open(bed_path, "rb") as handle:
        for start in range(0, n_read, block):
            stop = min(start + block, n_read)
            if columns is None:  # straight into place: n_kept <= start
                source = codes[n_kept : n_kept + stop - start]
            else:
                source = np.empty((stop - start, file_width), dtype=np.uint8)
            if rows is None:
                handle.seek(len(BED_MAGIC) + start * file_width)
                got = handle.readinto(memoryview(source).cast("B"))
            else:
                got = 0
                for k, row in enumerate(rows[start:stop]):
                    handle.seek(len(BED_MAGIC) + int(row) * file_width)
                    got += handle.readinto(memoryview(source[k]))
            if got != source.size:  # the size was checked before: only a file changed while being read
                raise ValueError(f"Could not read genotypes from {bed_path}: the file ended early.")
            if columns is None:
                chunk = source
            else:
                chunk = np.empty((stop - start, width), dtype=np.uint8)
                repack_columns(source, n_file_ids, columns.astype(np.int64), chunk)
            chunk_counts = np.empty((stop - start, 4), dtype=np.int64)
            count_packed(chunk, n_ids, chunk_counts)
            keep = _quality(chunk_counts, n_ids, maf, call_rate, file_rows[start:stop], removed)
            n_new = int(keep.sum())
            if n_new < keep.size or columns is not None:
                codes[n_kept : n_kept + n_new] = chunk[keep]  # chunk[keep] is a copy: safe in place
            counts[n_kept : n_kept + n_new] = chunk_counts[keep]
            kept[n_kept : n_kept + n_new] = file_rows[start:stop][keep]
            n_kept += n_new
            del chunk, source
    if n_kept < n_read:
        codes.resize((n_kept, width), refcheck=False)  # as in _read_codes: no second copy
    return codes, counts[:n_kept].copy(), kept[:n_kept].copy(), removed


def _quality(counts, n_ids, maf, call_rate, file_rows, removed):
    """Which markers of a block pass call rate, MAF and polymorphism (in that order);
    appends the .bim positions of the others to ``removed[rule]``."""
    n_obs, sums, polymorphic = summarise_counts(counts)
    keep = np.ones(counts.shape[0], dtype=bool)
    if call_rate is not None:
        fail = n_obs < call_rate * n_ids
        removed["call_rate"].extend(file_rows[fail].tolist())
        keep &= ~fail
    if maf is not None:
        frequency = np.where(n_obs > 0, sums / (2.0 * np.maximum(n_obs, 1)), 0.0)
        minor = np.minimum(frequency, 1.0 - frequency)
        fail = keep & (minor < maf)
        removed["maf"].extend(file_rows[fail].tolist())
        keep &= ~fail
    fail = keep & ~polymorphic
    removed["monomorphic"].extend(file_rows[fail].tolist())
    keep &= ~fail
    return keep


def _report_lines(qc) -> list[str]:
    lines = [f"read_plink {qc['files']}: {qc['individuals']} individuals x {qc['markers_read']} markers read"]
    if qc["call_rate"] is not None:
        lines.append(f"  removed {qc['removed_call_rate']} markers with call rate < {qc['call_rate']:g}")
    if qc["maf"] is not None:
        lines.append(f"  removed {qc['removed_maf']} markers with minor allele frequency < {qc['maf']:g}")
    lines.append(f"  removed {qc['removed_monomorphic']} monomorphic markers")
    lines.append(f"  kept {qc['markers_kept']} markers")
    return lines


def _file_set(prefix) -> tuple[Path, Path, Path]:
    """The .bed, .bim and .fam paths of ``prefix``; missing files are named in one error."""
    if not isinstance(prefix, (str, os.PathLike)):
        raise TypeError(f"prefix must be a path (str or os.PathLike) to a PLINK file set, got {type(prefix).__name__}.")
    base = Path(prefix)
    if base.suffix in (".bed", ".bim", ".fam"):
        base = base.with_suffix("")
    paths = tuple(base.parent / (base.name + ext) for ext in (".bed", ".bim", ".fam"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"PLINK file(s) not found: {', '.join(missing)} "
            f"(read_plink({str(prefix)!r}) needs {base.name}.bed, {base.name}.bim and {base.name}.fam)."
        )
    return paths


def _threshold(value, name: str, upper: float):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number in [0, {upper:g}] or None, got {value!r}.")
    value = float(value)
    if not 0.0 <= value <= upper:
        raise ValueError(f"{name} must be in [0, {upper:g}], got {value!r}.")
    return value


def _check_magic(bed_path: Path) -> None:
    with open(bed_path, "rb") as handle:
        head = handle.read(3)
    if head != BED_MAGIC:
        raise ValueError(
            f"{bed_path} is not a PLINK 1 binary .bed file in SNP-major mode: it starts with bytes "
            f"{head.hex(' ') or '(none)'}, expected {BED_MAGIC.hex(' ')}."
        )


def _check_bed_size(bed_path: Path, bim_path: Path, fam_path: Path, n_ids: int, n_markers: int) -> None:
    """A SNP-major .bed holds 3 header bytes and ceil(n/4) bytes per marker."""
    expected = 3 + math.ceil(n_ids / 4) * n_markers
    size = bed_path.stat().st_size
    if size != expected:
        raise ValueError(
            f"{bed_path.name} has {size} bytes, but {fam_path.name} lists {n_ids} individuals and "
            f"{bim_path.name} lists {n_markers} markers, which need 3 + ceil({n_ids}/4) x {n_markers} = "
            f"{expected} bytes: the three files do not belong together, or one of them is truncated."
        )


def _check_padding(bed_path: Path, fam_path: Path, n_ids: int, file_markers: list, rows) -> None:
    """Raise when the padding bits at the end of a marker's bytes are not zero.

    Each marker takes ceil(n/4) bytes; with n not a multiple of 4 the last byte holds
    4 - n % 4 unused 2-bit slots, which PLINK writes as zero. A .fam missing one to three
    lines still passes the size check (the byte count is the same), but then the genotypes
    of the missing individuals sit in those slots (nonzero unless every one of them is
    homozygous for allele1) and every genotype is read onto the wrong individual. Only the
    last byte of each marker to be read (``rows``, None = all) is looked at, through a
    memory map of one block of the file (at most BLOCK_BYTES) at a time, so that the file's
    pages never all count in the process's resident memory at once.
    """
    spare = (-n_ids) % 4
    if spare == 0 or not file_markers:
        return
    per_marker = math.ceil(n_ids / 4)
    rows = np.arange(len(file_markers)) if rows is None else rows
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    mask = np.uint8((0xFF << (2 * (n_ids % 4))) & 0xFF)  # the high bit pairs: the slots after individual n
    bad = np.zeros(rows.size, dtype=bool)  # per marker read, in the order of rows
    per_block = max(1, BLOCK_BYTES // per_marker)
    for start in range(0, len(file_markers), per_block):
        stop = min(start + per_block, len(file_markers))
        lo, hi = np.searchsorted(sorted_rows, [start, stop])
        if hi == lo:
            continue
        body = np.memmap(
            bed_path,
            dtype=np.uint8,
            mode="r",
            offset=len(BED_MAGIC) + start * per_marker,
            shape=(stop - start, per_marker),
        )
        bad[order[lo:hi]] = (body[sorted_rows[lo:hi] - start, -1] & mask) != 0
        del body  # unmaps this block
    n_bad = int(bad.sum())
    first = int(rows[np.argmax(bad)]) if n_bad else None
    if n_bad:
        raise ValueError(
            f"{fam_path.name} lists {n_ids} individuals, but {bed_path.name} holds genotypes for more: the padding "
            f"bits after the {_ordinal(n_ids)} individual are not zero in {n_bad} of the {rows.size} markers read "
            f"(first: {file_markers[first]!r}), where a well-formed .bed has zeros. With {per_marker} bytes per "
            f"marker the .bed fits up to {n_ids + spare} individuals: the .fam has likely lost line(s), and every "
            "genotype would be read onto the wrong individual. Use the .fam written with this .bed."
        )


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _read_property(bed, name: str, path: Path) -> np.ndarray:
    """A .fam/.bim column from bed-reader, with parse errors naming the file."""
    try:
        return np.asarray(getattr(bed, name))
    except Exception as error:
        raise ValueError(f"Could not read {path}: {error}") from error


def _select(wanted, argument: str, names: list[str], missing_message: str):
    """Positions in the file of the requested ``wanted`` names (None = all)."""
    if wanted is None:
        return None
    if argument == "ids":
        wanted = normalize_ids(id_sequence(wanted, argument), argument)
    else:
        wanted = [str(m) for m in id_sequence(wanted, argument)]
    check_duplicates(wanted, f"{argument} requested from read_plink")
    return positions(wanted, {name: k for k, name in enumerate(names)}, missing_message)
