"""Numba kernels over marker-major int8 genotype codes (``codes[j, i]``, marker j,
individual i; 0/1/2 copies of the counted allele, 3 = missing).

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
def centred_block(codes, lookup, start, columns, out):
    """``out[k, c] = lookup[start + k, codes[start + k, columns[c]]]``: centred genotypes of
    markers ``start .. start + out.shape[0] - 1`` for the individuals at ``columns``."""
    for k in range(out.shape[0]):
        j = start + k
        for c in range(columns.shape[0]):
            out[k, c] = lookup[j, codes[j, columns[c]]]


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
