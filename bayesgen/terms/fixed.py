"""Fixed effects under a flat prior, drawn jointly."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..data.design import check_estimable, factor_levels, fixed_design
from .base import BindContext, Term, Variable


class Fixed(Term):
    r"""Fixed effects :math:`X\beta` with a flat prior on :math:`\beta`.

    Parameters
    ----------
    columns : list of str
        Columns of the data: numeric ones are covariates, others factors with treatment
        coding (see :func:`bayesgen.data.design.fixed_design`).
    intercept : bool, default True
        Include an intercept.
    matrix, names : array (records x k) and list of str, optional
        A ready design matrix instead of columns.

    Full conditional, drawn as one block: with :math:`\tilde e = e + X\beta` (the
    residual without the fixed effects) and W the 0/1 weights of observed records,
    :math:`\beta \mid \cdot \sim N\big((X'WX)^{-1}X'W\tilde e,\; \sigma^2_e (X'WX)^{-1}\big)`.
    Recorded as ``beta`` with dim ``coef``.
    """

    has_variance = False

    def __init__(self, columns=(), intercept: bool = True, matrix=None, names=None, name: str = "beta"):
        self.columns = [columns] if isinstance(columns, str) else list(columns)
        self.intercept = intercept
        self.matrix = matrix
        self.names = names
        self.name = name

    def bind(self, context: BindContext) -> None:
        if self.matrix is not None:
            x = np.asarray(self.matrix, dtype=np.float64)
            if x.ndim != 2 or x.shape[0] != len(context.frame):
                raise ValueError(
                    f"Fixed-effect matrix must have shape (n_records={len(context.frame)}, k), got {x.shape}."
                )
            names = list(self.names) if self.names is not None else [f"x{k}" for k in range(x.shape[1])]
            if len(names) != x.shape[1]:
                raise ValueError(f"Got {len(names)} names for a fixed-effect matrix with {x.shape[1]} columns.")
            if not np.isfinite(x).all():
                raise ValueError("Fixed-effect matrix has non-finite values.")
        else:
            x, names = fixed_design(context.frame, self.columns, self.intercept)
        if x.shape[1] == 0:
            raise ValueError("The fixed-effect term has no columns (no intercept and no covariates).")
        xw = x[context.observed]
        xtx = xw.T @ xw
        check_estimable(xw, names, factor_levels(context.frame, self.columns))
        self.x = np.ascontiguousarray(x)
        self.coef_names = names
        self._x_observed = np.ascontiguousarray(xw)
        # X'WX is small (k x k) and fixed: precompute its inverse and the factor L^-T
        # (X'WX = L L') that turns standard normals into draws with covariance (X'WX)^-1.
        chol = scipy.linalg.cholesky(xtx, lower=True)
        self._noise_factor = scipy.linalg.solve_triangular(chol, np.eye(xtx.shape[0]), lower=True).T
        self._xtx_inv = self._noise_factor @ self._noise_factor.T
        self._observed = context.observed

    def variables(self) -> list[Variable]:
        return [Variable(self.name, ("coef",), {"coef": self.coef_names})]

    def init_state(self, rng) -> dict:
        return {"beta": np.zeros(self.x.shape[1])}

    def step(self, rng, state, resid, sigma2_e) -> dict:
        beta = state["beta"]
        partial = resid + self.x @ beta
        rhs = self._x_observed.T @ partial[self._observed]
        noise = self._noise_factor @ rng.standard_normal(beta.size)
        beta[:] = self._xtx_inv @ rhs + np.sqrt(sigma2_e) * noise
        resid[:] = partial - self.x @ beta
        return state

    def fitted(self, state) -> np.ndarray:
        return self.x @ state["beta"]

    def record(self, state, resid) -> dict:
        return {self.name: state["beta"].copy()}

    def priors(self) -> dict:
        return {self.name: "flat"}

    def describe(self) -> dict:
        return {"term": "Fixed", "name": self.name, "coef": self.coef_names, "prior": "flat"}

