"""Numba kernels over marker-major int8 genotype codes (``codes[j, i]``, marker j,
individual i; 0/1/2 copies of the counted allele, 3 = missing), and over the same codes
packed 2 bits each in the PLINK .bed layout (see "Packed codes" below).

They work in place or into preallocated outputs so that no float64 (or bool, or int64)
copy of a whole genotype matrix is ever made.
"""

import numpy as np

from .._numba import kernel


@kernel
def count_codes(codes, counts):
    """``counts[j, c]`` = number of individuals with code c (0, 1, 2, 3 = missing) at marker j.

    Returns the flat position ``j * n + i`` of the first code outside 0..3, or -1 if all
    codes are valid (invalid codes are not counted).
    """
    n_markers, n = codes.shape
    first_invalid = -1
    for j in range(n_markers):
        for c in range(4):
            counts[j, c] = 0
        for i in range(n):
            c = codes[j, i]
            if 0 <= c <= 3:
                counts[j, c] += 1
            elif first_invalid < 0:
                first_invalid = j * n + i
    return first_invalid


@kernel
def recode_missing(codes, missing_in, missing_out):
    """Replace ``missing_in`` (e.g. bed-reader's int8 missing value -127) by ``missing_out``, in place."""
    n_markers, n = codes.shape
    for j in range(n_markers):
        for i in range(n):
            if codes[j, i] == missing_in:
                codes[j, i] = missing_out


@kernel
def centred_block(codes, lookup, start, columns, out, n=-1):
    """``out[k, c] = lookup[start + k, codes[start + k, columns[c]]]``: centred genotypes of
    markers ``start .. start + out.shape[0] - 1`` for the individuals at ``columns`` (int8 or
    packed ``codes``; packed codes need ``n``, their number of individuals)."""
    scratch = row_scratch(codes, n_records(codes, n))
    for k in range(out.shape[0]):
        j = start + k
        row = marker_row(codes, j, scratch)
        for c in range(columns.shape[0]):
            out[k, c] = lookup[j, row[columns[c]]]


@kernel
def mirror_upper(matrix):
    """Copy the upper triangle of a square matrix onto its lower triangle, in place."""
    n = matrix.shape[0]
    for col in range(n):
        for row in range(col + 1, n):
            matrix[row, col] = matrix[col, row]


def summarise_counts(counts: np.ndarray):
    """Per marker, from ``count_codes`` output: observed genotypes, sum of the observed
    codes (copies of the counted allele), and whether at least two genotypes occur."""
    observed = counts[:, :3]
    n_obs = observed.sum(axis=1)
    sums = counts[:, 1] + 2 * counts[:, 2]
    polymorphic = (observed > 0).sum(axis=1) >= 2
    return n_obs, sums, polymorphic


# ---------------------------------------------------------------------------------------------
# Packed codes: 2 bits per genotype in the PLINK 1 .bed layout (SNP-major), ``packed[j, k]``
# holding individuals 4k .. 4k + 3 of marker j in bits (0, 1), (2, 3), (4, 5), (6, 7). The
# kernels take either int8 codes (markers x individuals) or packed codes (uint8, markers x
# ceil(individuals / 4)) and tell them apart by dtype (signed: int8 codes; unsigned: packed);
# ``marker_row`` gives a marker's int8 codes either way, so every sweep reads the same codes.

#: PLINK's 2-bit value -> bayesgen code (copies of allele1, the .bim's 5th column; 3 = missing):
#: 00 homozygous allele1 -> 2, 01 missing -> 3, 10 heterozygous -> 1, 11 homozygous allele2 -> 0.
#: The same meaning as bed-reader's int8 read with count_A1=True (read_plink's int8 path).
PLINK_TO_CODE = np.array([2, 3, 1, 0], dtype=np.int8)

#: bayesgen code -> PLINK's 2-bit value (the inverse of ``PLINK_TO_CODE``).
CODE_TO_PLINK = np.array([3, 2, 0, 1], dtype=np.uint8)

#: ``BYTE_TO_CODES[b, s]``: the code of the s-th individual held in byte b (a 256 x 4 table, 1 kB).
BYTE_TO_CODES = PLINK_TO_CODE[(np.arange(256)[:, None] >> (2 * np.arange(4))[None, :]) & 3]

#: The same table with each row's four int8 codes as one 4-byte word (its bytes in memory order),
#: so that decoding writes one word per packed byte.
BYTE_TO_WORD = np.ascontiguousarray(BYTE_TO_CODES).view(np.uint32).reshape(256)


def packed_width(n_individuals: int) -> int:
    """Bytes per marker of packed codes: ceil(n / 4)."""
    return (int(n_individuals) + 3) // 4


@kernel
def is_packed(codes):
    """True for packed codes (unsigned bytes), False for int8 codes; known at compile time."""
    return np.iinfo(codes.dtype).min == 0


@kernel
def n_records(codes, n):
    """Individuals (records) of ``codes``: ``codes.shape[1]`` for int8 codes when ``n < 0``, else ``n``
    (packed codes need it: ceil(n / 4) bytes do not say n)."""
    if n >= 0:
        return n
    if is_packed(codes):
        raise ValueError("packed genotype codes need the number of individuals")
    return codes.shape[1]


@kernel
def row_scratch(codes, n):
    """The decoding buffer of ``marker_row``: n int8 for packed codes, empty for int8 codes."""
    return np.empty(n if is_packed(codes) else 0, dtype=np.int8)


@kernel
def unpack_row(packed_row, out):
    """``out[i]`` = code of individual i from one marker's packed bytes (``BYTE_TO_CODES``), i < out.size.

    ``out`` must be C-contiguous; its first 4 * (n // 4) codes are written a word per byte
    (``BYTE_TO_WORD``), the last n % 4 one by one."""
    n = out.size
    full = n // 4
    words = out[: 4 * full].view(np.uint32)
    for k in range(full):
        words[k] = BYTE_TO_WORD[packed_row[k]]
    for i in range(4 * full, n):
        out[i] = BYTE_TO_CODES[packed_row[full], i - 4 * full]


@kernel
def marker_row(codes, j, scratch):
    """Marker j's int8 codes: the row itself for int8 codes (no copy), decoded into ``scratch``
    (``row_scratch``) for packed codes. The same int8 values either way, so whatever a kernel
    computes from them is the same bit for bit."""
    if is_packed(codes):
        unpack_row(codes[j], scratch)
        return scratch
    return codes[j].view(np.int8)


@kernel
def pack_codes(codes, out):
    """Pack int8 codes (markers x n, 0/1/2/3) into ``out`` (uint8, markers x ceil(n/4)); padding bits 0."""
    n_markers, n = codes.shape
    for j in range(n_markers):
        for k in range(out.shape[1]):
            b = 0
            for s in range(min(4, n - 4 * k)):
                b |= CODE_TO_PLINK[codes[j, 4 * k + s]] << (2 * s)
            out[j, k] = b


@kernel
def count_packed(packed, n, counts):
    """:func:`count_codes` of packed codes (n individuals); every 2-bit value is a valid code."""
    scratch = np.empty(n, dtype=np.int8)
    for j in range(packed.shape[0]):
        unpack_row(packed[j], scratch)
        for c in range(4):
            counts[j, c] = 0
        for i in range(n):
            counts[j, scratch[i]] += 1


@kernel
def repack_columns(packed, n, columns, out):
    """``out`` (packed, markers x ceil(columns.size / 4)) = the individuals at ``columns`` of
    ``packed`` (n individuals), in that order; O(n) scratch."""
    scratch = np.empty(n, dtype=np.int8)
    m = columns.size
    for j in range(packed.shape[0]):
        unpack_row(packed[j], scratch)
        for k in range(out.shape[1]):
            b = 0
            for s in range(min(4, m - 4 * k)):
                b |= CODE_TO_PLINK[scratch[columns[4 * k + s]]] << (2 * s)
            out[j, k] = b


@kernel
def unpack_rows(codes, n, rows, out):
    """``out[k]`` = int8 codes of marker ``rows[k]`` (int8 or packed ``codes`` of n individuals)."""
    for k in range(rows.size):
        if is_packed(codes):
            unpack_row(codes[rows[k]], out[k])
        else:
            for i in range(n):
                out[k, i] = codes[rows[k], i]


def decode_rows(codes, n, rows) -> np.ndarray:
    """int8 codes (len(rows) x n) of the markers ``rows`` of int8 or packed ``codes``: a block to
    decode into floating point, never the whole matrix at once unless asked."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    out = np.empty((rows.size, n), dtype=np.int8)
    unpack_rows(codes, n, rows, out)
    return out
