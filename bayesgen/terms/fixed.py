"""Fixed effects (flat or normal prior), drawn jointly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from .._deprecation import renamed_arguments
from .._validation import check_positive_finite
from ..data.design import check_estimable, factor_levels, fixed_design
from ..priors.scaled_inv_chi2 import FixedVariance
from .base import BindContext, Variable
from .location import LocationTerm


class Fixed(LocationTerm):
    r"""Fixed effects :math:`X\beta`, flat prior on :math:`\beta` by default.

    Parameters
    ----------
    columns : list of str
        Columns of the data: numeric ones are covariates, others factors with treatment
        coding (see :func:`bayesgen.data.design.fixed_design`).
    intercept : bool, default True
        Include an intercept.
    matrix, names : array (records x k) and list of str, optional
        A ready design matrix instead of columns.
    prior : float or None
        None (default): flat prior. A number :math:`\tau^2` gives the proper prior
        :math:`\beta \sim N(0, \tau^2 I)` (MCMCglmm's ``B`` prior; needed, e.g., for
        joint-distribution tests, which draw every parameter from its prior).
    name : str, default "beta"
        Recorded as ``<name>`` with dim ``coef``.

    Notes
    -----
    Full conditional, drawn as one block: with :math:`\tilde e = e + X\beta` (the
    residual without the fixed effects), W the 0/1 weights of observed records and
    :math:`\lambda = \sigma^2_e/\tau^2` (0 for the flat prior),
    :math:`\beta \mid \cdot \sim N\big((X'WX + \lambda I)^{-1}X'W\tilde e,\; \sigma^2_e (X'WX + \lambda I)^{-1}\big)`.
    With t traits (complete records, flat prior) the rows of B (k x t) follow the matrix normal
    :math:`B \mid \cdot \sim MN((X'WX)^{-1}X'W\tilde E,\; (X'WX)^{-1},\; R)`.
    """

    has_variance = False
    expand = False

    @renamed_arguments(prior_variance="prior")
    def __init__(
        self,
        columns: str | Sequence[str] = (),
        intercept: bool = True,
        matrix: np.ndarray | None = None,
        names: Sequence[str] | None = None,
        name: str = "beta",
        prior: float | None = None,
    ):
        if isinstance(columns, str):
            columns = [columns]
        if not isinstance(columns, (list, tuple)) or not all(isinstance(c, str) for c in columns):
            raise TypeError(f"Fixed columns must be a list of column names, got {columns!r}.")
        if not isinstance(intercept, (bool, np.bool_)):
            raise TypeError(f"Fixed intercept must be True or False, got {intercept!r}.")
        self.columns = list(columns)
        self.intercept = bool(intercept)
        self.matrix = matrix
        self.names = names
        self.name = name
        # tau^2 of beta ~ N(0, tau^2 I); None: flat
        self.prior_variance = None if prior is None else check_positive_finite(prior, "Fixed prior")

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
            response = [c for c in self.columns if c in context.traits]
            if response:
                raise ValueError(f"The response {response[0]!r} cannot also be a fixed-effect column.")
            x, names = fixed_design(context.frame, self.columns, self.intercept)
        if x.shape[1] == 0:
            raise ValueError("The fixed-effect term has no columns (no intercept and no covariates).")
        if context.n_traits > 1 and self.prior_variance is not None:
            raise ValueError("A proper prior on fixed effects is available for one trait only.")
        observed = context.observed.any(axis=1)
        xw = x[observed]
        xtx = xw.T @ xw
        if self.prior_variance is None:
            check_estimable(xw, names, factor_levels(context.frame, self.columns))
        self.n_traits = context.n_traits
        self.traits = list(context.traits)
        self.prior = None if self.prior_variance is None else FixedVariance(self.prior_variance * np.eye(self.n_traits))
        self.x = np.ascontiguousarray(x)
        self.coef_names = names
        self._x_observed = np.ascontiguousarray(xw)
        self._observed = observed
        self._set_precision(xtx)

    def _set_precision(self, xtx: np.ndarray) -> None:
        """Precompute (X'WX + lambda I)^-1 per unit residual variance and its factor L^-T."""
        k = xtx.shape[0]
        # With a proper prior lambda = sigma2_e / tau2 changes with sigma2_e; the factor is then
        # recomputed each step (k is small). With the flat prior it is fixed.
        self._xtx = xtx
        if self.prior_variance is None:
            chol = scipy.linalg.cholesky(xtx, lower=True)
            self._noise_factor = scipy.linalg.solve_triangular(chol, np.eye(k), lower=True).T
            self._xtx_inv = self._noise_factor @ self._noise_factor.T

    def _factors(self, sigma2_e: float):
        if self.prior_variance is None:
            return self._xtx_inv, self._noise_factor
        k = self._xtx.shape[0]
        lhs = self._xtx + (sigma2_e / self.prior_variance) * np.eye(k)
        chol = scipy.linalg.cholesky(lhs, lower=True)
        noise = scipy.linalg.solve_triangular(chol, np.eye(k), lower=True).T
        return noise @ noise.T, noise

    # ------------------------------------------------------------------ the location protocol
    @property
    def n_levels(self) -> int:
        return self.x.shape[1]

    def design(self) -> sp.csr_matrix:
        return sp.csr_matrix(self.x)

    def level_precision(self):
        """I for the normal prior N(0, tau2 I), None for the flat one."""
        return None if self.prior_variance is None else sp.identity(self.n_levels, format="csr")

    def effects(self, state) -> np.ndarray:
        return state["beta"]

    def fit_of(self, effects: np.ndarray) -> np.ndarray:
        return self.x @ effects

    def effect_covariance(self, state):
        return None if self.prior is None else self.prior.value

    def coords(self) -> list:
        return list(self.coef_names)

    @property
    def coef_dim(self) -> str:
        """``coef`` for the default name, ``<name>_coef`` otherwise (so a model can hold two fixed terms)."""
        return "coef" if self.name == "beta" else f"{self.name}_coef"

    def variables(self) -> list[Variable]:
        dim = self.coef_dim
        if self.n_traits == 1:
            return [Variable(self.name, (dim,), {dim: self.coef_names})]
        return [Variable(self.name, (dim, "trait"), {dim: self.coef_names, "trait": self.traits})]

    def init_state(self, rng) -> dict:
        return {"beta": np.zeros((self.x.shape[1], self.n_traits))}

    def draw_prior(self, rng, state) -> None:
        if self.prior_variance is None:
            raise ValueError(f"Fixed term {self.name!r} has a flat prior: give prior_variance to draw from it.")
        state["beta"][:] = np.sqrt(self.prior_variance) * rng.standard_normal(state["beta"].shape)

    def step(self, rng, state, ctx) -> dict:
        beta = state["beta"]
        resid = ctx.resid
        partial = resid + self.x @ beta
        rhs = self._x_observed.T @ partial[self._observed]
        cov = ctx.residual_covariance
        inverse, noise_factor = self._factors(float(cov[0, 0]))
        noise = noise_factor @ rng.standard_normal(beta.shape)
        if self.n_traits == 1:
            noise *= np.sqrt(cov[0, 0])
        else:
            noise = noise @ np.linalg.cholesky(cov).T
        beta[:] = inverse @ rhs + noise
        resid[:] = partial - self.x @ beta
        return {}

    def record(self, state, ctx) -> dict:
        beta = state["beta"]
        return {self.name: beta[:, 0].copy() if self.n_traits == 1 else beta.copy()}

    def priors(self) -> dict:
        return {
            self.name: "flat" if self.prior_variance is None else {"family": "Normal", "variance": self.prior_variance}
        }

    def describe(self) -> dict:
        return {"term": "Fixed", "name": self.name, "coef": self.coef_names, "prior": self.priors()[self.name]}
