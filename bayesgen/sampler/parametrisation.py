r"""Covariance matrices as unconstrained vectors, for Metropolis steps on variance components.

A d x d covariance :math:`\Sigma` under a sampled prior becomes a vector :math:`\phi`:

* d = 1: :math:`\phi = \log\sigma^2`, Jacobian :math:`|d\sigma^2/d\phi| = \sigma^2`;
* a diagonal prior: the logs of its sampled diagonal elements (fixed ones keep their value),
  Jacobian the product of those elements;
* otherwise the log-Cholesky parameters: :math:`\Sigma = LL'`, L lower triangular with
  :math:`L_{ii} = e^{a_i}` and free :math:`L_{ij}` below, packed row by row. The Jacobian of
  :math:`(a, L_{ij}) \mapsto \Sigma` is :math:`2^d \prod_{i=1}^d e^{(d - i + 2) a_i}` (for
  d = 2: :math:`4e^{3a_1 + 2a_2}`).
"""

from __future__ import annotations

import numpy as np


class CovarianceParametrisation:
    """Pack, unpack and the log-Jacobian of one covariance component (module docstring)."""

    def __init__(self, prior, dim: int):
        self.dim = dim
        if dim == 1:
            self.kind = "log"
            self.size = 1
        elif prior.diagonal:
            self.kind = "diagonal"
            self.sampled = np.flatnonzero(prior.sampled_elements)
            self.size = self.sampled.size
        else:
            self.kind = "log-cholesky"
            self.size = dim * (dim + 1) // 2
            self._rows, self._cols = np.tril_indices(dim)
            self._diagonal = np.flatnonzero(self._rows == self._cols)
            # exponent of e^{a_i} in the Jacobian, i = 1..d
            self._powers = dim - np.arange(1, dim + 1) + 2.0

    def pack(self, value: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            return np.log(value.reshape(-1)[:1])
        if self.kind == "diagonal":
            return np.log(np.diag(value)[self.sampled])
        chol = np.linalg.cholesky(value)
        out = chol[self._rows, self._cols].copy()
        out[self._diagonal] = np.log(out[self._diagonal])
        return out

    def unpack(self, phi: np.ndarray, current: np.ndarray) -> np.ndarray:
        """The covariance for ``phi``; ``current`` supplies the fixed elements of a diagonal one."""
        if self.kind == "log":
            with np.errstate(over="ignore"):
                return np.exp(phi).reshape(1, 1)
        if self.kind == "diagonal":
            diag = np.diag(current).copy()
            with np.errstate(over="ignore"):
                diag[self.sampled] = np.exp(phi)
            return np.diag(diag)
        chol = np.zeros((self.dim, self.dim))
        chol[self._rows, self._cols] = phi
        with np.errstate(over="ignore", invalid="ignore"):  # beyond floating point: the caller rejects it
            chol[self._diagonal_index()] = np.exp(phi[self._diagonal])
            return chol @ chol.T

    def _diagonal_index(self):
        return np.arange(self.dim), np.arange(self.dim)

    def log_jacobian(self, phi: np.ndarray) -> float:
        if self.kind in ("log", "diagonal"):
            return float(np.sum(phi))
        return float(self.dim * np.log(2.0) + self._powers @ phi[self._diagonal])

    def log_jacobian_gradient(self, phi: np.ndarray) -> np.ndarray:
        if self.kind in ("log", "diagonal"):
            return np.ones(phi.size)
        out = np.zeros(phi.size)
        out[self._diagonal] = self._powers
        return out

    def gradient(self, phi: np.ndarray, matrix_gradient: np.ndarray) -> np.ndarray:
        r"""d f / d phi from G with :math:`df = \mathrm{tr}(G\,d\Sigma)` (G symmetric) at ``phi``.

        log and diagonal: :math:`G_{kk}\Sigma_{kk}`; log-Cholesky, :math:`\Sigma = LL'`:
        :math:`df = 2\,\mathrm{tr}(GL\,dL')`, so :math:`2(GL)_{ij}` times :math:`L_{ii}` for a
        diagonal parameter (:math:`L_{ii} = e^{a_i}`) and times 1 below the diagonal.
        """
        if self.kind == "log":
            return np.array([matrix_gradient.reshape(-1)[0] * np.exp(phi[0])])
        if self.kind == "diagonal":
            return np.diag(matrix_gradient)[self.sampled] * np.exp(phi)
        chol = np.zeros((self.dim, self.dim))
        chol[self._rows, self._cols] = phi
        chol[self._diagonal_index()] = np.exp(phi[self._diagonal])
        out = 2.0 * (matrix_gradient @ chol)[self._rows, self._cols]
        out[self._diagonal] *= np.exp(phi[self._diagonal])
        return out
