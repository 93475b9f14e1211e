"""Pedigrees: validation, sorting, inbreeding and the sparse inverse relationship matrix."""

from __future__ import annotations

import warnings
from collections import deque

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._typing import IdsArg
from .._validation import (
    UNKNOWN_PARENT_CODES,
    check_duplicates,
    id_labels,
    id_sequence,
    normalize_ids,
    normalize_parent,
    positions,
    preview,
    require_columns,
)
from ._pedigree_kernels import inbreeding_meuwissen_luo, relationship_tabular


class Pedigree:
    """A pedigree of animals with (possibly unknown) sire and dam.

    Parameters
    ----------
    ids, sires, dams : one-dimensional sequences of equal length
        One row per animal (a list, tuple, numpy array or pandas Series; a str is one id,
        not a sequence). Unknown parents may be written NaN, None, "", 0, "0", -9, "-9" or
        "NA" (-9 is also the missing code of genotypes). Parents without a row of their own
        are added as founders. Rows may come in any order. Selfing (sire == dam) is allowed.

    Notes
    -----
    Ids are compared as text (``12``, ``12.0`` and ``"12"`` are the same animal; ``"007"``
    is not ``7``). ``Pedigree.ids`` lists the animals, as text, in the internal order used
    by every matrix this class returns: parents precede their offspring, added founders
    first, and otherwise the order of the input rows. ``Pedigree.labels`` gives the same
    ids as integers when every id is an integer, otherwise as text. An animal whose own id
    is an unknown-parent code (e.g. 0) is kept, with a warning: as a parent, that code
    still means "unknown".
    """

    def __init__(self, ids: IdsArg, sires: IdsArg, dams: IdsArg):
        ids = normalize_ids(id_sequence(ids, "Pedigree ids"), "Pedigree")
        sires = [normalize_parent(s) for s in id_sequence(sires, "Pedigree sires")]
        dams = [normalize_parent(d) for d in id_sequence(dams, "Pedigree dams")]
        if not (len(ids) == len(sires) == len(dams)):
            raise ValueError(f"ids, sires and dams must have equal length, got {len(ids)}, {len(sires)}, {len(dams)}.")
        if len(ids) == 0:
            raise ValueError("Pedigree is empty: no animals were given.")
        check_duplicates(ids, "animal ids in the pedigree")
        ambiguous = [i for i in ids if i in UNKNOWN_PARENT_CODES]
        if ambiguous:
            warnings.warn(
                f"Animal id(s) {preview(ambiguous)} are also unknown-parent code(s): where they appear "
                "as sire or dam they are read as an unknown parent, not as this animal "
                "(renumber the animal to link its offspring to it).",
                UserWarning,
                stacklevel=2,
            )
        own_parent = [i for i, s, d in zip(ids, sires, dams) if i == s or i == d]
        if own_parent:
            raise ValueError(f"Animals listed as their own parent: {preview(own_parent)}.")

        known = set(ids)
        extra = []
        for p in sires + dams:
            if p is not None and p not in known:
                known.add(p)
                extra.append(p)
        all_ids = extra + ids
        all_sires = [None] * len(extra) + sires
        all_dams = [None] * len(extra) + dams
        order = _topological_order(all_ids, all_sires, all_dams)

        self.ids = [all_ids[k] for k in order]
        self._index = {a: k for k, a in enumerate(self.ids)}
        self.sire = np.array(
            [self._index[all_sires[k]] if all_sires[k] is not None else -1 for k in order], dtype=np.int64
        )
        self.dam = np.array(
            [self._index[all_dams[k]] if all_dams[k] is not None else -1 for k in order], dtype=np.int64
        )
        self._inbreeding = None
        self._mendelian = None

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_dataframe(cls, frame: pd.DataFrame, id: str = "id", sire: str = "sire", dam: str = "dam"):
        """Build a pedigree from three columns of a DataFrame."""
        require_columns(frame, [id, sire, dam], "the pedigree table")
        return cls(frame[id].tolist(), frame[sire].tolist(), frame[dam].tolist())

    @classmethod
    def from_csv(cls, path, id: str = "id", sire: str = "sire", dam: str = "dam", **read_csv_kwargs):
        """Read a pedigree from a CSV file with columns ``id``, ``sire`` and ``dam``."""
        frame = pd.read_csv(path, dtype=str, keep_default_na=True, **read_csv_kwargs)
        return cls.from_dataframe(frame, id=id, sire=sire, dam=dam)

    # ----------------------------------------------------------------- queries
    def __len__(self) -> int:
        return len(self.ids)

    @property
    def labels(self) -> np.ndarray:
        """``ids`` as int64 if every id is an integer, otherwise as str (same order)."""
        return id_labels(self.ids)

    def __repr__(self) -> str:
        founders = int(np.sum((self.sire < 0) & (self.dam < 0)))
        return f"Pedigree({len(self)} animals, {founders} founders)"

    def index(self, ids) -> np.ndarray:
        """Positions of ``ids`` in ``Pedigree.ids``; unknown ids raise a ValueError naming them."""
        return positions(ids, self._index, "Ids not found in the pedigree")

    def to_dataframe(self) -> pd.DataFrame:
        """The sorted pedigree as a DataFrame with columns id, sire, dam (None = unknown)."""
        return pd.DataFrame(
            {
                "id": self.ids,
                "sire": [self.ids[s] if s >= 0 else None for s in self.sire],
                "dam": [self.ids[d] if d >= 0 else None for d in self.dam],
            }
        )

    # ----------------------------------------------------------------- genetics
    def _compute_inbreeding(self):
        if self._inbreeding is None:
            self._inbreeding, self._mendelian = inbreeding_meuwissen_luo(self.sire, self.dam)
        return self._inbreeding, self._mendelian

    def inbreeding(self) -> pd.Series:
        """Inbreeding coefficients F (Meuwissen & Luo 1992), indexed by animal id."""
        f, _ = self._compute_inbreeding()
        return pd.Series(f.copy(), index=pd.Index(self.ids, name="id"), name="F")

    def mendelian_variances(self) -> pd.Series:
        """Mendelian sampling factors D (variance of an animal's Mendelian sampling term over the
        additive genetic variance): 1/2 - (F_s + F_d)/4 with both parents known, 3/4 - F_p/4 with
        one, 1 with none; indexed by animal id."""
        _, d = self._compute_inbreeding()
        return pd.Series(d.copy(), index=pd.Index(self.ids, name="id"), name="D")

    def ainv(self) -> sp.csr_matrix:
        """Sparse inverse of the numerator relationship matrix, built directly.

        Henderson's (1976) rules with Quaas' (1976) extension for inbreeding: with
        b_i = 1 / D_i (D_i the Mendelian sampling variance factor of animal i, see
        ``inbreeding_meuwissen_luo``), each animal adds b_i to (i, i), -b_i/2 to (i, p)
        and (p, i) for each known parent p, and b_i/4 to (p, q) for each pair of known
        parents (p, q), including p == q. Duplicates are summed, which handles selfing.
        Rows and columns follow ``Pedigree.ids``.
        """
        _, d = self._compute_inbreeding()
        n = len(self)
        b = 1.0 / d
        animal = np.arange(n)
        # Each animal contributes to up to three "positions": itself (+1), sire (-1/2), dam (-1/2).
        pos = np.stack([animal, self.sire, self.dam])  # (3, n)
        coef = np.stack([np.ones(n), np.full(n, -0.5), np.full(n, -0.5)])
        coef[pos < 0] = 0.0
        pos = np.where(pos < 0, animal, pos)  # placeholders carry zero coefficients
        rows = np.repeat(pos[:, None, :], 3, axis=1)  # (3, 3, n): rows[a, b] = pos[a]
        cols = np.repeat(pos[None, :, :], 3, axis=0)  # cols[a, b] = pos[b]
        vals = coef[:, None, :] * coef[None, :, :] * b[None, None, :]
        mat = sp.coo_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(n, n)).tocsr()
        mat.eliminate_zeros()
        mat.sort_indices()
        return mat

    def ainv_factor(self) -> sp.csc_matrix:
        r"""A square root F of :math:`A^{-1}` (n x n, sparse): :math:`FF' = A^{-1}` (``ainv``).

        :math:`A^{-1} = (I - S/2)'D^{-1}(I - S/2)` (S: row i holds 1 at animal i's known sire and
        dam, D the Mendelian sampling variance factors), so :math:`F = (I - S/2)'D^{-1/2}`: column i
        holds :math:`D_i^{-1/2}` at i and :math:`-D_i^{-1/2}/2` at each known parent (summed under
        selfing), at most 3n nonzeros, built in O(n). The perturbation sampler
        (``bayesgen.sampler.perturbation``) draws :math:`Fz \sim N(0, A^{-1})` with it.
        """
        _, d = self._compute_inbreeding()
        n = len(self)
        root_b = 1.0 / np.sqrt(d)
        animal = np.arange(n)
        pos = np.stack([animal, self.sire, self.dam])  # (3, n): the rows of column i's entries
        coef = np.stack([np.ones(n), np.full(n, -0.5), np.full(n, -0.5)]) * root_b[None, :]
        known = pos >= 0
        cols = np.broadcast_to(animal[None, :], pos.shape)
        factor = sp.coo_matrix((coef[known], (pos[known], cols[known])), shape=(n, n)).tocsc()
        factor.sum_duplicates()
        factor.sort_indices()
        return factor

    def relationship(self, ids=None) -> pd.DataFrame:
        """Dense numerator relationship matrix A among ``ids`` (default: all animals).

        Computed by the tabular method over ``ids`` and their ancestors only; meant for
        small subsets (memory is quadratic in the number of ancestors).
        """
        targets = np.arange(len(self)) if ids is None else self.index(ids)
        keep = np.zeros(len(self), dtype=bool)
        stack = list(targets)
        while stack:
            k = stack.pop()
            if keep[k]:
                continue
            keep[k] = True
            for p in (self.sire[k], self.dam[k]):
                if p >= 0 and not keep[p]:
                    stack.append(p)
        sub = np.flatnonzero(keep)  # still parents-first
        remap = np.full(len(self), -1, dtype=np.int64)
        remap[sub] = np.arange(sub.size)
        s = np.where(self.sire[sub] >= 0, remap[self.sire[sub]], -1)
        d = np.where(self.dam[sub] >= 0, remap[self.dam[sub]], -1)
        a = relationship_tabular(s, d)
        pick = remap[targets]
        labels = [self.ids[k] for k in targets]
        return pd.DataFrame(a[np.ix_(pick, pick)], index=labels, columns=labels)


def _topological_order(ids, sires, dams) -> list[int]:
    """Order rows so that parents precede offspring (Kahn's algorithm, stable).

    Raises a ValueError naming the animals of a cycle if some animal is its own ancestor.
    """
    n = len(ids)
    index = {a: k for k, a in enumerate(ids)}
    children = [[] for _ in range(n)]
    n_parents = np.zeros(n, dtype=np.int64)
    for k in range(n):
        for p in {sires[k], dams[k]} - {None}:
            children[index[p]].append(k)
            n_parents[k] += 1
    ready = deque(k for k in range(n) if n_parents[k] == 0)
    order = []
    while ready:
        k = ready.popleft()
        order.append(k)
        for c in children[k]:
            n_parents[c] -= 1
            if n_parents[c] == 0:
                ready.append(c)
    if len(order) < n:
        raise ValueError(
            "The pedigree has a loop: these animals are their own ancestors: "
            f"{preview(_find_cycle(ids, sires, dams, index, n_parents))}."
        )
    return order


def _find_cycle(ids, sires, dams, index, n_parents) -> list[str]:
    """Walk up from an unsorted animal through unsorted parents until an animal repeats."""
    k = int(np.flatnonzero(n_parents > 0)[0])
    path, seen = [], {}
    while k not in seen:
        seen[k] = len(path)
        path.append(k)
        k = next(index[p] for p in (sires[k], dams[k]) if p is not None and n_parents[index[p]] > 0)
    return [ids[j] for j in path[seen[k] :]]
