r"""Solutions of the mixed-model equations Cb = r at given covariances, four ways.

C and r are the locations' mixed-model equations (``bayesgen.sampler.mme``, every term and
trait, missing traits per pattern) at the covariances given (e.g. ``reml(...).variances``):

* ``"cholesky"``: the sparse Cholesky factor (``bayesgen.kernels.cholesky``), exact;
* ``"gauss-seidel"``: sweeps :math:`b_i \leftarrow (r_i - \sum_{j\ne i}C_{ij}b_j)/C_{ii}` over C;
* ``"gsru"``: Gauss-Seidel with residual update (one trait): C's data part M'M/σ²ₑ is never
  formed, the residual y - Mb is kept instead (``bayesgen.kernels.mme_iterative``);
* ``"pcg"``: conjugate gradients preconditioned by the diagonal of C (``preconditioner="diagonal"``)
  or by its t x t blocks of one level's traits (``"block"``), as BLUPF90 does.

Iterative methods stop when the relative residual :math:`\lVert r - Cb\rVert/\lVert r\rVert` falls below
``tol``; ``history`` holds it per iteration.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .problem import Problem

if TYPE_CHECKING:
    from ..model.model import Model

METHODS = ("cholesky", "gauss-seidel", "gsru", "pcg")


class MmeSolution:
    """``solution`` (Series: BLUE and BLUP), ``iterations``, ``history``, ``converged``, ``seconds``, ``method``."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return (
            f"MmeSolution({self.method}: {len(self.solution)} equations, {self.iterations} iterations, "
            f"{'converged' if self.converged else 'NOT converged'}, {self.seconds:.3g} s)"
        )


def solve_mme(
    model: Model,
    variances: dict[str, float],
    method: str = "cholesky",
    tol: float = 1e-12,
    max_iter: int = 100_000,
    preconditioner: str = "diagonal",
) -> MmeSolution:
    """Solve the model's mixed-model equations at ``variances`` (a Series or dict named as ``reml``'s).

    Returns an ``MmeSolution`` whose ``solution`` is one Series of BLUE and BLUP, named as in the
    InferenceData (``beta[sex[2]]``, ``u[1001]``, ...).
    """
    from .result import effect_labels

    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}.")
    if preconditioner not in ("diagonal", "block"):
        raise ValueError(f"preconditioner must be 'diagonal' or 'block', got {preconditioner!r}.")
    problem = Problem(model)
    given = pd.Series(variances, dtype=float) if not isinstance(variances, pd.Series) else variances.astype(float)
    missing = [name for name in problem.names if name not in given.index]
    if missing:
        raise ValueError(f"variances lacks {missing}; the model's covariance parameters are {problem.names}.")
    theta = np.array([given[name] for name in problem.names])
    covariances, residual = problem.unpack(theta)
    from ..sampler.mme import precision_of

    try:
        inverses = {k: precision_of(covariances[k]) for k in problem.with_prior}
        inverse_residual = precision_of(residual)
    except np.linalg.LinAlgError as err:
        raise ValueError(
            f"variances {dict(zip(problem.names, theta))} give a covariance that is not positive definite."
        ) from err
    labels = [label for term in problem.terms for label in effect_labels(term, problem.t)]
    if method == "gsru":
        # never builds the mixed-model equations (so never forms M'M)
        start = time.perf_counter()
        b, iterations, history = _gsru(problem, inverses, inverse_residual, tol, max_iter)
        seconds = time.perf_counter() - start
        return MmeSolution(
            solution=pd.Series(b, index=labels, name="solution"),
            iterations=int(iterations),
            history=np.array(history),
            converged=bool(history[-1] < tol),
            seconds=seconds,
            method=method,
            n_equations=b.size,
        )
    mme = problem.mme
    precisions = mme.pattern_precisions(residual)
    values = mme.values(precisions, inverses)
    rhs = mme.rhs(problem.cross, precisions)
    c = sp.csr_matrix((values, mme.pattern.indices, mme.pattern.indptr), shape=mme.pattern.shape)
    start = time.perf_counter()
    history, converged = [], True
    norm_r = float(np.linalg.norm(rhs)) or 1.0
    if method == "cholesky":
        problem.factor.factorize(values)
        b = problem.factor.solve(rhs)
        iterations = 1
        history.append(float(np.linalg.norm(rhs - c @ b)) / norm_r)
    elif method == "gauss-seidel":
        from ..kernels.mme_iterative import gauss_seidel_sweep

        b = np.zeros(mme.n_equations)
        iterations = 0
        indptr, indices = c.indptr.astype(np.int64), c.indices.astype(np.int64)
        while iterations < max_iter:
            gauss_seidel_sweep(indptr, indices, c.data, rhs, b)
            iterations += 1
            history.append(float(np.linalg.norm(rhs - c @ b)) / norm_r)
            if history[-1] < tol:
                break
        converged = history[-1] < tol
    else:
        b, iterations, history = _pcg(problem, c, rhs, norm_r, tol, max_iter, preconditioner)
        converged = history[-1] < tol
    seconds = time.perf_counter() - start
    return MmeSolution(
        solution=pd.Series(b, index=labels, name="solution"),
        iterations=int(iterations),
        history=np.array(history),
        converged=bool(converged),
        seconds=seconds,
        method=method,
        n_equations=mme.n_equations,
    )


def _gsru(problem, inverses, inverse_residual, tol, max_iter):
    r"""Gauss-Seidel with residual update from the terms' designs and prior precisions only.

    The relative residual of the equations, :math:`\lVert r - Cb\rVert/\lVert r\rVert`, is computed as
    :math:`\lVert M'e/\sigma^2_e - Pb\rVert / \lVert M'y/\sigma^2_e\rVert` (e = y - Mb, P the prior part of C).
    """
    from ..kernels.mme_iterative import gsru_sweep

    if problem.t != 1:
        raise ValueError("method='gsru' is for one trait; use 'pcg' or 'gauss-seidel' with several traits.")
    pattern = problem.patterns[0]
    design = sp.hstack([sp.csr_matrix(term.design()) for term in problem.terms], format="csr")[pattern.rows].tocsc()
    design.sort_indices()
    n_eq = design.shape[1]
    column_ss = np.asarray(design.multiply(design).sum(axis=0)).ravel()
    blocks = []
    for k in problem.with_prior:
        lo = int(problem.column_offsets[k])
        block = sp.kron(sp.csr_matrix(problem.terms[k].level_precision()), inverses[k], format="coo")
        blocks.append(sp.csr_matrix((block.data, (block.row + lo, block.col + lo)), shape=(n_eq, n_eq)))
    prior = sum(blocks[1:], blocks[0]).tocsr() if blocks else sp.csr_matrix((n_eq, n_eq))
    prior.sort_indices()
    inverse_s2e = float(inverse_residual[0, 0])
    b = np.zeros(n_eq)
    y = np.ascontiguousarray(problem.response[pattern.rows, 0], dtype=np.float64)
    e = y.copy()
    design_t = design.T.tocsr()
    norm_r = float(np.linalg.norm(design_t @ y)) * inverse_s2e or 1.0
    arrays = (
        design.indptr.astype(np.int64),
        design.indices.astype(np.int64),
        design.data.astype(np.float64),
        column_ss,
        prior.indptr.astype(np.int64),
        prior.indices.astype(np.int64),
        prior.data.astype(np.float64),
    )
    history, iterations = [], 0
    while iterations < max_iter:
        gsru_sweep(*arrays[:4], *arrays[4:], e, inverse_s2e, b)
        iterations += 1
        history.append(float(np.linalg.norm(design_t @ e * inverse_s2e - prior @ b)) / norm_r)
        if history[-1] < tol:
            break
    return b, iterations, history


def _pcg(problem, c, rhs, norm_r, tol, max_iter, preconditioner):
    """Conjugate gradients from zero (``bayesgen.kernels.pcg``: the kernel the perturbation sampler uses too)."""
    from ..kernels.pcg import diagonal_block_inverses, pcg_solve

    c = sp.csr_matrix(c)
    c.sort_indices()
    block_inverses = diagonal_block_inverses(c, problem.t if preconditioner == "block" else 1)
    b = np.zeros(c.shape[0])
    history = np.zeros(max(int(max_iter), 1))
    iterations = pcg_solve(
        c.indptr.astype(np.int64),
        c.indices.astype(np.int64),
        c.data.astype(np.float64),
        block_inverses,
        rhs,
        b,
        float(tol),
        int(max_iter),
        history,
    )
    if iterations == 0:  # a zero right-hand side: b = 0 solves it
        return b, 0, [0.0]
    return b, int(iterations), list(history[:iterations])
