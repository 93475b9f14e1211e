r"""The relationships of single-step evaluations: A⁻¹ blocks, A₂₂⁻¹, the tuned and blended G, H⁻¹.

The pedigree's animals split into the genotyped (g) and the others (n). With the sparse
:math:`A^{-1}` (``Pedigree.ainv``) in those blocks,

.. math:: A_{22}^{-1} = (A^{-1})_{gg} - (A^{-1})_{gn}\,[(A^{-1})_{nn}]^{-1}\,(A^{-1})_{ng}

(the Schur complement: the inverse of a block of A is the Schur complement of the other block
in :math:`A^{-1}`), computed with one sparse Cholesky factor of :math:`(A^{-1})_{nn}` and
solves with the columns of :math:`(A^{-1})_{ng}` in panels; A is never formed and no dense
matrix of the size of the pedigree is inverted. The ungenotyped animals' "imputed genotypes"
of single-step Bayesian regression use the same factor:
:math:`A_{ng}A_{gg}^{-1}M_g = -[(A^{-1})_{nn}]^{-1}(A^{-1})_{ng}M_g`.

ssGBLUP (Aguilar et al. 2010; Christensen & Lund 2010) replaces :math:`A^{-1}` by

.. math:: H^{-1} = A^{-1} + \begin{bmatrix}0 & 0\\ 0 & \tau G_w^{-1} - \omega A_{22}^{-1}\end{bmatrix},

with G VanRaden's (``bayesgen.grm``), first *tuned* to A₂₂ (``tune="mean"``, BLUPF90's
``TunedG=2``, Chen et al. 2011: :math:`G^* = a\,\mathbf{1}\mathbf{1}' + bG` with the mean
diagonal and the mean off-diagonal element of :math:`G^*` equal to those of A₂₂), then
*blended*, :math:`G_w = (1 - w)G^* + wA_{22}` (``blend = w``; BLUPF90's default is 0.05).
A₂₂ itself (needed only to tune or blend) is the inverse of the dense
:math:`n_g \times n_g` matrix :math:`A_{22}^{-1}`.

Cost: the factor of :math:`(A^{-1})_{nn}` (sparse), :math:`n_g` solves with it, and dense
:math:`O(n_g^3)` work (G, its inverse, A₂₂); memory is a few :math:`n_g \times n_g` float64
matrices plus a panel of solves (``PANEL`` columns of :math:`n_n` floats).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from .._validation import preview
from ..kernels.cholesky import SparseCholesky
from .genomic_relationship import grm
from .genotypes import Genotypes
from .pedigree import Pedigree

#: Right-hand sides solved at once with the factor of (A⁻¹)ₙₙ (bounds the temporary memory).
PANEL = 256
#: How G is matched to A₂₂ before blending.
TUNINGS = (None, "mean")


def split_pedigree(pedigree: Pedigree, genotypes: Genotypes) -> tuple[np.ndarray, np.ndarray]:
    """Positions in ``pedigree.ids`` of the genotyped animals (in the genotypes' order) and of the
    others (in pedigree order). An error names genotyped ids absent from the pedigree."""
    if not isinstance(pedigree, Pedigree):
        raise TypeError(f"pedigree must be a bayesgen.Pedigree, got {type(pedigree).__name__}.")
    if not isinstance(genotypes, Genotypes):
        raise TypeError(f"genotypes must be a bayesgen.Genotypes, got {type(genotypes).__name__}.")
    known = pedigree._index
    absent = [a for a in genotypes.ids if a not in known]
    if absent:
        raise ValueError(
            f"Genotyped animals not found in the pedigree: {preview(absent)} ({len(absent)} of "
            f"{genotypes.n_individuals}); single-step needs every genotyped animal in the pedigree "
            "(add them as founders if their parents are unknown)."
        )
    genotyped = np.array([known[a] for a in genotypes.ids], dtype=np.int64)
    mask = np.ones(len(pedigree), dtype=bool)
    mask[genotyped] = False
    return genotyped, np.flatnonzero(mask).astype(np.int64)


def _block(matrix: sp.csr_matrix, rows: np.ndarray, cols: np.ndarray) -> sp.csr_matrix:
    out = sp.csr_matrix(matrix[rows][:, cols])
    out.sort_indices()
    return out


class PedigreeBlocks:
    r"""The blocks of :math:`A^{-1}` between genotyped (g) and ungenotyped (n) animals, and the
    factor of :math:`(A^{-1})_{nn}` (module docstring)."""

    def __init__(self, pedigree: Pedigree, genotypes: Genotypes):
        self.genotyped, self.ungenotyped = split_pedigree(pedigree, genotypes)
        self.ainv = pedigree.ainv()
        self.ainv_nn = _block(self.ainv, self.ungenotyped, self.ungenotyped)
        self.ainv_ng = _block(self.ainv, self.ungenotyped, self.genotyped)
        self.ainv_gg = _block(self.ainv, self.genotyped, self.genotyped)
        self.factor_nn = None
        if self.ungenotyped.size:
            self.factor_nn = SparseCholesky(self.ainv_nn)
            self.factor_nn.factorize(self.ainv_nn)

    def impute(self, values_g: np.ndarray) -> np.ndarray:
        r""":math:`A_{ng}A_{gg}^{-1}X_g = -[(A^{-1})_{nn}]^{-1}(A^{-1})_{ng}X_g` for X_g (n_g x k)."""
        if self.factor_nn is None:
            return np.zeros((0,) + np.shape(values_g)[1:])
        return -self.factor_nn.solve(np.asarray(self.ainv_ng @ values_g))

    def a22_inverse(self) -> np.ndarray:
        r""":math:`A_{22}^{-1}` (n_g x n_g, dense), the Schur complement of :math:`(A^{-1})_{nn}`."""
        out = self.ainv_gg.toarray()
        if self.factor_nn is None:
            return out
        ng = self.genotyped.size
        for start in range(0, ng, PANEL):
            stop = min(start + PANEL, ng)
            columns = self.ainv_ng[:, start:stop].toarray()
            out[:, start:stop] -= np.asarray(self.ainv_ng.T @ self.factor_nn.solve(columns))
        return 0.5 * (out + out.T)


def _inverse_spd(matrix: np.ndarray, what: str, advice: str = "") -> np.ndarray:
    """The inverse of a symmetric positive definite dense matrix by its Cholesky factor."""
    try:
        factor = la.cho_factor(matrix, lower=True)
    except la.LinAlgError as err:
        smallest = float(np.linalg.eigvalsh(matrix)[0])
        raise ValueError(f"{what} is not positive definite (smallest eigenvalue {smallest:.3g}){advice}.") from err
    inverse = la.cho_solve(factor, np.eye(matrix.shape[0]))
    return 0.5 * (inverse + inverse.T)


def tuned_genomic_relationship(G: np.ndarray, A22: np.ndarray) -> tuple[np.ndarray, float, float]:
    r""":math:`G^* = a\mathbf{1}\mathbf{1}' + bG` whose mean diagonal and mean off-diagonal element equal
    those of A₂₂ (Chen et al. 2011; BLUPF90 ``TunedG=2``); returns (G*, a, b)."""
    n = G.shape[0]
    if n < 2:
        return G.copy(), 0.0, 1.0
    off = n * (n - 1)
    diag_g, diag_a = float(np.trace(G)) / n, float(np.trace(A22)) / n
    off_g, off_a = (float(G.sum()) - n * diag_g) / off, (float(A22.sum()) - n * diag_a) / off
    b = (diag_a - off_a) / (diag_g - off_g)
    a = diag_a - b * diag_g
    return a + b * G, a, b


class SingleStepRelationships:
    r"""A₂₂⁻¹, G (tuned and blended) and H⁻¹ of a pedigree and the genotypes of some of its animals.

    Attributes: ``blocks`` (:class:`PedigreeBlocks`), ``a22_inverse``, ``genomic`` (the G_w used),
    ``genomic_inverse``, ``tuning`` (a, b), and :meth:`h_inverse`. See the module docstring.
    """

    def __init__(
        self,
        pedigree: Pedigree,
        genotypes: Genotypes,
        blend: float = 0.05,
        tune: str | None = "mean",
        tau: float = 1.0,
        omega: float = 1.0,
        genomic: np.ndarray | None = None,
    ):
        if not (isinstance(blend, (int, float)) and not isinstance(blend, bool) and 0.0 <= blend <= 1.0):
            raise ValueError(
                f"SingleStep blend must be a number in [0, 1] (the weight w of A22 in "
                f"G_w = (1 - w) G + w A22), got {blend!r}."
            )
        if tune not in TUNINGS:
            raise ValueError(f"SingleStep tune must be one of {TUNINGS}, got {tune!r}.")
        for label, value in (("tau", tau), ("omega", omega)):
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)):
                raise ValueError(f"SingleStep {label} must be a finite number, got {value!r}.")
        if not tau > 0:
            raise ValueError(f"SingleStep tau must be positive (the weight of G^-1 in H^-1), got {tau!r}.")
        self.blend, self.tune, self.tau, self.omega = float(blend), tune, float(tau), float(omega)
        self.blocks = PedigreeBlocks(pedigree, genotypes)
        self.a22_inverse = self.blocks.a22_inverse()
        if genomic is None:
            ids = [pedigree.ids[k] for k in self.blocks.genotyped]
            genomic = grm(genotypes, ids=ids).to_numpy()
        self.tuning = (0.0, 1.0)
        if tune is not None or blend > 0:
            a22 = _inverse_spd(self.a22_inverse, "A22^-1")
            if tune == "mean":
                genomic, a, b = tuned_genomic_relationship(genomic, a22)
                self.tuning = (a, b)
            if blend > 0:
                genomic = (1.0 - blend) * genomic + blend * a22
        self.genomic = genomic
        self.genomic_inverse = _inverse_spd(
            genomic,
            f"G (VanRaden, tune={tune!r}, blend={blend!r})",
            (
                ": with blend=0 G is singular when there are more genotyped animals than markers or when the "
                "allele frequencies come from the genotyped animals themselves (centred genotypes sum to 0): use "
                "blend > 0, or centre on other frequencies (Genotypes.select(..., keep_centre=True))"
                if blend == 0
                else ""
            ),
        )

    def new_genotyped_conditional(
        self, cross: np.ndarray, diagonal_block: np.ndarray, a_cross: np.ndarray | None, a_new: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray]:
        r"""(W, S) of :math:`u_x \mid u_g \sim N(W u_g, \sigma^2 S)` for m new genotyped animals x.

        ``cross`` (m x n_g) and ``diagonal_block`` (m x m) are VanRaden's G between the new animals and
        the genotyped ones and among the new ones (the fit's centring and scaling); they are tuned with
        the fit's (a, b) and blended with ``a_cross`` and ``a_new`` (A between them, from the pedigree
        extended by the new animals; needed when blend > 0) as G_w was. Then
        :math:`W = G_{w,xg} G_{w,gg}^{-1}` and :math:`S = G_{w,xx} - W G_{w,gx}`, the conditional of the
        new animals' rows of :math:`G_w` extended (BLUPF90's indirect prediction, with its variance).
        """
        a, b = self.tuning
        g_xg, g_xx = a + b * cross, a + b * diagonal_block
        if self.blend > 0:
            if a_cross is None or a_new is None:
                raise ValueError("blend > 0 needs the relationships A of the new animals (a_cross, a_new).")
            g_xg = (1.0 - self.blend) * g_xg + self.blend * a_cross
            g_xx = (1.0 - self.blend) * g_xx + self.blend * a_new
        weights = g_xg @ self.genomic_inverse
        conditional = g_xx - weights @ g_xg.T
        return weights, 0.5 * (conditional + conditional.T)

    def h_inverse(self) -> sp.csr_matrix:
        r""":math:`H^{-1}` (pedigree order, sorted CSR): sparse :math:`A^{-1}` plus the dense genotyped block."""
        g = self.blocks.genotyped
        n = self.blocks.ainv.shape[0]
        block = self.tau * self.genomic_inverse - self.omega * self.a22_inverse
        rows = np.repeat(g, g.size)
        cols = np.tile(g, g.size)
        dense = sp.csr_matrix((block.ravel(), (rows, cols)), shape=(n, n))
        out = sp.csr_matrix(self.blocks.ainv + dense)
        out.sum_duplicates()
        out.sort_indices()
        return out

    def describe(self) -> dict:
        return {
            "genotyped": int(self.blocks.genotyped.size),
            "ungenotyped": int(self.blocks.ungenotyped.size),
            "blend": self.blend,
            "tune": self.tune,
            "tuning_a": float(self.tuning[0]),
            "tuning_b": float(self.tuning[1]),
            "tau": self.tau,
            "omega": self.omega,
        }
