r"""Preconditioned conjugate gradients for Cx = r, C symmetric positive definite in CSR.

The preconditioner is block-Jacobi: the inverses of C's t x t diagonal blocks (t = 1: Jacobi,
the inverse diagonal). From the start x (a warm start: any vector), the iteration stops when
the relative residual :math:`\lVert r - Cx\rVert/\lVert r\rVert` is at most ``tol`` or after
``max_iter`` iterations. Used by ``bg.solve_mme(method="pcg")`` and by the perturbation sampler
(``bayesgen.sampler.perturbation``).
"""

from __future__ import annotations

import numpy as np

from .._numba import kernel


@kernel
def _apply_block_inverses(block_inverses, v, out):
    t = block_inverses.shape[1]
    for k in range(block_inverses.shape[0]):
        base = k * t
        for a in range(t):
            total = 0.0
            for b in range(t):
                total += block_inverses[k, a, b] * v[base + b]
            out[base + a] = total


@kernel
def _csr_times(indptr, indices, data, v, out):
    for i in range(out.size):
        total = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * v[indices[k]]
        out[i] = total


@kernel
def pcg_solve(indptr, indices, data, block_inverses, rhs, x, tol, max_iter, history):
    """Solve Cx = rhs in place from the given x; ``history[k]``: the relative residual after
    iteration k + 1. Returns the number of iterations (0 when x already meets ``tol``)."""
    n = rhs.size
    norm_rhs = np.sqrt(np.dot(rhs, rhs))
    if norm_rhs == 0.0:
        norm_rhs = 1.0
    q = np.empty(n)
    _csr_times(indptr, indices, data, x, q)
    r = rhs - q
    if np.sqrt(np.dot(r, r)) / norm_rhs <= tol:
        return 0
    z = np.empty(n)
    _apply_block_inverses(block_inverses, r, z)
    p = z.copy()
    rz = np.dot(r, z)
    iterations = 0
    while iterations < max_iter:
        _csr_times(indptr, indices, data, p, q)
        alpha = rz / np.dot(p, q)
        for i in range(n):
            x[i] += alpha * p[i]
            r[i] -= alpha * q[i]
        relative = np.sqrt(np.dot(r, r)) / norm_rhs
        history[iterations] = relative
        iterations += 1
        if relative <= tol:
            break
        _apply_block_inverses(block_inverses, r, z)
        rz_new = np.dot(r, z)
        beta = rz_new / rz
        for i in range(n):
            p[i] = z[i] + beta * p[i]
        rz = rz_new
    return iterations


def diagonal_block_inverses(matrix, t: int) -> np.ndarray:
    """(n/t, t, t): the inverses of the t x t diagonal blocks of a sparse ``matrix`` (the preconditioner)."""
    n = matrix.shape[0]
    if t == 1:
        return (1.0 / matrix.diagonal()).reshape(n, 1, 1)
    blocks = np.empty((n // t, t, t))
    for a in range(t):
        for b in range(t):
            # entries (k t + a, k t + b) lie on the diagonal at offset b - a, at position k t + min(a, b)
            blocks[:, a, b] = matrix.diagonal(b - a)[min(a, b) :: t]
    return np.linalg.inv(blocks)
