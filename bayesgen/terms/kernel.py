"""A random effect with a known covariance matrix: u ~ N(0, sigma2 K) (GBLUP, kernels, IBD)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._deprecation import renamed_arguments
from .._typing import IdsArg, PriorArg
from .._validation import check_duplicates, id_labels, id_sequence, normalize_ids, preview
from .random import Random

#: The precision route is chosen automatically when K's condition number is at most this.
MAX_CONDITION = 1e6
ROUTES = ("auto", "precision", "eigen")


def _kernel_matrix(K, ids) -> tuple[np.ndarray, list]:
    """K as a float64 array and its ids (normalised text), from a labelled DataFrame or an array + ids."""
    if isinstance(K, pd.DataFrame):
        if ids is not None:
            raise ValueError("Kernel: give ids only with an array K; a DataFrame K is labelled by its index.")
        row_ids = normalize_ids(id_sequence(K.index, "K.index"), "K.index")
        col_ids = normalize_ids(id_sequence(K.columns, "K.columns"), "K.columns")
        if K.shape[0] == K.shape[1] and row_ids != col_ids:
            bad = [k for k, (r, c) in enumerate(zip(row_ids, col_ids)) if r != c]
            raise ValueError(
                f"Kernel: K's index and columns must hold the same ids in the same order; they differ "
                f"at positions {preview(bad)} (index {row_ids[bad[0]]!r}, column {col_ids[bad[0]]!r})."
            )
        try:
            matrix = K.to_numpy(dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"Kernel: K must hold numbers, got dtypes {sorted(set(map(str, K.dtypes)))}.") from err
        labels = row_ids
    else:
        try:
            matrix = np.array(K, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"Kernel: K must be a DataFrame or a numeric array, got {type(K).__name__}.") from err
        if ids is None:
            raise ValueError(
                "Kernel: an array K needs ids= (one per row/column); or pass K as a DataFrame "
                "with the ids as index and columns."
            )
        labels = normalize_ids(id_sequence(ids, "ids"), "ids")
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"Kernel: K must be a square matrix, got shape {matrix.shape}.")
    if matrix.shape[0] == 0:
        raise ValueError("Kernel: K is empty (0 x 0).")
    if len(labels) != matrix.shape[0]:
        raise ValueError(f"Kernel: {len(labels)} ids given for a {matrix.shape[0]} x {matrix.shape[1]} K.")
    check_duplicates(labels, "ids of K")
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        i, j = bad[0]
        raise ValueError(
            f"Kernel: K has {len(bad)} non-finite entries, the first at ({labels[i]!r}, {labels[j]!r}): "
            f"{float(matrix[i, j])}."
        )
    return matrix, labels


class Kernel(Random):
    r"""Effects of individuals with a known covariance: :math:`u \sim N(0, \sigma^2 K)`.

    K is a genomic relationship matrix (GBLUP; ``bg.grm``), a pedigree A given densely, an
    IBD matrix or any positive semi-definite kernel.

    Parameters
    ----------
    column : str
        Column of the data holding each record's id (every id must be in K).
    K : DataFrame or array
        The covariance among ids: a DataFrame with the ids as index and columns (same
        order), or an array with ``ids``.
    ids : sequence, optional
        Ids of K's rows and columns when K is an array.
    prior : VariancePrior, float or None
        Prior on :math:`\sigma^2` (a number fixes it; None takes the default prior).
    name : str, optional
        Defaults to ``column``. Recorded as ``<name>`` (dim ``<name>_level``, coords = the
        ids of K: genetic values of every id of K, those without records included) and
        ``sigma2_<name>``.
    tolerance : float
        Relative eigenvalue tolerance: eigenvalues below ``-tolerance * max`` make K not
        positive semi-definite (an error); in the eigen route, eigenvalues above
        ``tolerance * max`` are kept.
    route : {"auto", "precision", "eigen"}
        ``"precision"``: K is positive definite and the effects are drawn with the prior
        precision :math:`K^{-1}` exactly like :class:`Random` / :class:`Animal` (every location
        sampler works). ``"eigen"``: with :math:`K = U D U'` and :math:`U_+, D_+` the kept
        eigenpairs, :math:`u = U_+ D_+^{1/2} v`, :math:`v \sim N(0, \sigma^2 I_r)`: a term on the
        design :math:`Z U_+ D_+^{1/2}` with an iid prior (as BGLR's RKHS); exact for a
        rank-deficient K. ``"auto"`` takes the precision route when the Cholesky factor
        exists and the condition number is at most ``MAX_CONDITION``, else the eigen route.
    genetic : bool
        Whether :math:`\sigma^2` counts as genetic in ``h2`` (default True).
    expand : bool
        The rescaling move of :class:`Random` (one trait, sampled variance).

    Notes
    -----
    The variance's full conditional is
    :math:`\text{Scale-inv-}\chi^2(\nu + q, (\nu S^2 + u'K^{-1}u)/(\nu + q))` with q the
    number of ids (precision route), or with :math:`v'v` and q = r (eigen route): the same
    quantity, since :math:`u'K^{+}u = v'v`.
    """

    @renamed_arguments(variance="prior")
    def __init__(
        self,
        column: str,
        K: pd.DataFrame | np.ndarray,
        ids: IdsArg | None = None,
        prior: PriorArg = None,
        name: str | None = None,
        tolerance: float = 1e-8,
        route: str = "auto",
        genetic: bool = True,
        expand: bool = True,
        slopes: None = None,
    ):
        if slopes is not None:
            raise TypeError(
                "Kernel does not take slopes; use bg.RandomRegression(column, slopes, pedigree=...) for "
                "a random-regression animal model."
            )
        super().__init__(column, prior=prior, name=name, expand=expand)
        if route not in ROUTES:
            raise ValueError(f"Kernel route must be one of {', '.join(map(repr, ROUTES))}, got {route!r}.")
        if not (isinstance(tolerance, (int, float)) and 0.0 < tolerance < 1.0):
            raise ValueError(f"Kernel tolerance must be a number in (0, 1), got {tolerance!r}.")
        matrix, labels = _kernel_matrix(K, ids)
        scale = float(np.max(np.abs(matrix)))
        asym = np.abs(matrix - matrix.T)
        if asym.max() > tolerance * max(scale, 1e-300):
            i, j = np.unravel_index(np.argmax(asym), asym.shape)
            raise ValueError(
                f"Kernel: K is not symmetric: K[{labels[i]!r}, {labels[j]!r}] = {float(matrix[i, j])!r} but "
                f"K[{labels[j]!r}, {labels[i]!r}] = {float(matrix[j, i])!r}."
            )
        matrix = 0.5 * (matrix + matrix.T)
        eigenvalues, eigenvectors = np.linalg.eigh(matrix)
        largest, smallest = float(eigenvalues[-1]), float(eigenvalues[0])
        if largest <= 0.0:
            raise ValueError(f"Kernel: K has no positive eigenvalue (largest {largest!r}): it is not a covariance.")
        if eigenvalues[0] < -tolerance * largest:
            raise ValueError(
                f"Kernel: K is not positive semi-definite: eigenvalue {smallest!r} < "
                f"-tolerance * largest = {-tolerance * largest!r} (tolerance {tolerance!r})."
            )
        condition = largest / eigenvalues[0] if eigenvalues[0] > 0 else np.inf
        cholesky_ok = True
        try:
            np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            cholesky_ok = False
        if route == "precision" and not cholesky_ok:
            raise ValueError(
                f"Kernel route='precision' needs a positive definite K, but its Cholesky factorisation "
                f"fails (smallest eigenvalue {smallest!r}); use route='eigen' or 'auto'."
            )
        if route == "auto":
            route = "precision" if cholesky_ok and condition <= MAX_CONDITION else "eigen"
        self.route = route
        self.tolerance = float(tolerance)
        self.genetic = bool(genetic)
        self.kernel_ids = labels
        self.condition_number = float(condition)
        if route == "precision":
            inverse = np.linalg.solve(matrix, np.eye(matrix.shape[0]))
            self._kernel_precision = sp.csr_matrix(0.5 * (inverse + inverse.T))
        else:
            keep = eigenvalues > tolerance * largest
            # u = B v with B = U_+ D_+^(1/2) (ids x rank).
            self._basis = np.ascontiguousarray(eigenvectors[:, keep] * np.sqrt(eigenvalues[keep]))
        self.rank = int(np.sum(eigenvalues > tolerance * largest))

    # ------------------------------------------------------------------ binding
    def _levels(self, record_levels: list) -> tuple[list, sp.csr_matrix]:
        known = set(self.kernel_ids)
        missing = [v for v in dict.fromkeys(record_levels) if v not in known]
        if missing:
            raise ValueError(
                f"Ids in column {self.column!r} not found in K: {preview(missing)} "
                f"({len(missing)} ids; K has {len(self.kernel_ids)})."
            )
        if self.route == "precision":
            return list(self.kernel_ids), self._kernel_precision
        return list(self.kernel_ids), sp.identity(len(self.kernel_ids), format="csr")

    def bind(self, context) -> None:
        super().bind(context)
        if self.route == "precision":
            return
        # The sampled levels are the r components of v, with the dense design T = Z B
        # (records x r): each record loads on every component.
        self._id_index = self.layout.record_index
        self.levels = list(range(self._basis.shape[1]))
        self.layout.use_dense(self._basis[self._id_index], context.weights)
        self._set_precision(sp.identity(len(self.levels), format="csr"))

    @property
    def one_level_per_record(self) -> bool:
        """False in the eigen route: each record loads on every component of v (dense design)."""
        return self.route == "precision"

    def coords(self) -> list:
        return list(id_labels(self.kernel_ids))

    def genetic_values(self, state) -> np.ndarray:
        """u for every id of K, (ids x traits)."""
        return state["u"] if self.route == "precision" else self._basis @ state["u"]

    def conditional_prior(self, state):
        if self.route != "precision":
            raise NotImplementedError("The eigen route has no per-record levels to integrate out.")
        return super().conditional_prior(state)

    def record(self, state, ctx) -> dict:
        out = super().record(state, ctx)
        if self.route == "eigen":
            values = self._basis @ state["u"]
            out[self.effect_name] = values[:, 0].copy() if self.n_traits == 1 else values
        return out

    def describe(self) -> dict:
        out = super().describe()
        out.update(
            route=self.route,
            ids=len(self.kernel_ids),
            rank=self.rank,
            tolerance=self.tolerance,
            condition_number=self.condition_number,
        )
        return out
