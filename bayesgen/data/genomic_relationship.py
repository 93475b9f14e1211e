"""Genomic relationship matrix (VanRaden 2008, method 1) from int8 genotypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.linalg.blas import dsyrk

from .._typing import IdsArg
from .._validation import check_duplicates, id_labels, id_sequence, normalize_ids, preview
from ._genotype_kernels import centred_block, mirror_upper
from .genotypes import Genotypes

#: float64 elements of centred genotypes built per block of markers (16 MB).
BLOCK_ELEMENTS = 2**21


def grm(genotypes: Genotypes, *, ids: IdsArg | None = None) -> pd.DataFrame:
    r"""Genomic relationship matrix of VanRaden (2008, J Dairy Sci 91:4414), method 1.

    .. math:: G = \frac{W W'}{2 \sum_j p_j (1 - p_j)}, \qquad W_{ij} = x_{ij} - 2 p_j,

    with :math:`x_{ij}` the copies of the counted allele of marker j in individual i,
    :math:`p_j` its frequency over the observed genotypes of all individuals of
    ``genotypes`` (``genotypes.centre / 2``), and :math:`W_{ij} = 0` for a missing genotype
    (mean imputation), as in the marker kernels.

    Parameters
    ----------
    genotypes : Genotypes
    ids : one-dimensional sequence, optional
        Rows and columns of G, in this order (default: all individuals). Frequencies stay
        those of all of ``genotypes``; for frequencies of a subset only, pass
        ``genotypes.select(ids)`` instead.

    Returns
    -------
    DataFrame, shape (n, n)
        G labelled by the ids on both axes (integers when every id is an integer, as
        ``genotypes.labels``), float64.

    Raises
    ------
    ValueError
        When every marker is monomorphic, or when no marker varies among the individuals
        (every centred code 0: all heterozygous, or one individual with its own
        frequencies), where G would be all zero.

    Notes
    -----
    W is never formed whole: blocks of markers are centred into a float64 buffer of at
    most ``BLOCK_ELEMENTS`` values and accumulated into the upper triangle of G with the
    BLAS rank-k update ``dsyrk``; extra memory is that buffer plus O(markers).
    """
    if not isinstance(genotypes, Genotypes):
        raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
    if ids is None:
        columns = np.arange(genotypes.n_individuals, dtype=np.int64)
    else:
        wanted = normalize_ids(id_sequence(ids, "ids"), "ids")
        check_duplicates(wanted, "ids in grm(ids=...)")
        if not wanted:
            raise ValueError("grm(ids=...) needs at least one id, got an empty sequence.")
        columns = genotypes.index(wanted)
    frequency = genotypes.centre / 2.0
    scale = 2.0 * float(np.sum(frequency * (1.0 - frequency)))
    if scale <= 0.0:
        raise ValueError("Every marker is monomorphic (2 sum p(1 - p) = 0): the GRM is undefined.")

    n = columns.size
    lookup = genotypes.centred_lookup()
    codes = genotypes.stored_codes  # int8 or packed: centred_block decodes a marker at a time
    block = max(1, min(genotypes.n_markers, BLOCK_ELEMENTS // n))
    buffer = np.empty((block, n))
    relationship = np.zeros((n, n), order="F")  # F order: dsyrk updates it in place
    for start in range(0, genotypes.n_markers, block):
        size = min(block, genotypes.n_markers - start)
        centred = buffer[:size]
        centred_block(codes, lookup, start, columns, centred, genotypes.n_individuals)
        # centred.T is (n x size) and F-contiguous: no copy; C <- A A' + C, upper triangle.
        out = dsyrk(1.0, centred.T, beta=1.0, c=relationship, trans=0, lower=0, overwrite_c=1)
        if out is not relationship:  # only if scipy had to copy; keep the result either way
            relationship = out
    mirror_upper(relationship)
    labels = id_labels([genotypes.ids[k] for k in columns])
    if not np.any(np.diagonal(relationship)):  # diag(WW') = 0 only when every centred code is 0
        many = "individuals" if n != 1 else "individual"
        raise ValueError(
            f"No marker varies among the {n} {many} ({preview([genotypes.ids[k] for k in columns])}): every "
            "genotype equals its marker's mean 2p (e.g. all heterozygous, or a single individual with its own "
            "frequencies), so every centred code is 0 and G would be all zero. Use more individuals, or keep "
            "the frequencies of a larger set: grm(genotypes, ids=...) or genotypes.select(ids, keep_centre=True)."
        )
    relationship /= scale
    return pd.DataFrame(
        relationship,
        index=pd.Index(labels, name="individual"),
        columns=pd.Index(labels, name="individual"),
        copy=False,
    )
