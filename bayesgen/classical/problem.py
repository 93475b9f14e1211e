r"""A model's restricted (or full) likelihood as a function of its covariance parameters.

The parameters :math:`\theta` are the free entries of each estimated covariance: the upper
triangle (diagonal included) of every location term's :math:`\Sigma_k` whose prior is sampled
(the diagonal only for a diagonal one) and of the residual R. With the model's mixed-model
equations (``bayesgen.sampler.mme``; the locations' protocol, every missingness pattern) and D
of ``bayesgen.sampler.restricted``, N the observed values, p the flat (fixed) equations and
:math:`d_k` = the size of :math:`\Sigma_k`:

.. math:: -2\ell_{REML} = (N - p)\log 2\pi + D - \sum_k d_k\log|P_k|,
          \qquad -2\ell_{ML} = N\log 2\pi + D + \log|H| - \sum_k d_k\log|P_k|

(:math:`\log|V| + \log|X'V^{-1}X| = \log|R| + \log|G| + \log|C|`, and
:math:`H = (C^{-1})_{ff} = (X'V^{-1}X)^{-1}`, the fixed block of :math:`C^{-1}`).

Gradient: :math:`\partial\ell/\partial\theta_j = -\tfrac12\mathrm{tr}(\partial D/\partial\Sigma\;E_j)` with
:math:`E_j = \partial\Sigma/\partial\theta_j`. For ML, :math:`\log|C| + \log|H| = \log|C_{zz}|` (the
random block), whose derivatives need :math:`C^{-1} - FH^{-1}F' = \mathrm{blockdiag}(0, C_{zz}^{-1})`
with :math:`F = C^{-1}E_f` (``_ml_inverse_entries``).

Average information (Gilmour, Thompson & Cullis 1995): with the working variates
:math:`w_j = (\partial V/\partial\theta_j)Py`, which for a term are the fit of
:math:`\hat\Theta_kW_kE_j` (since :math:`Z_k'Py = G_k^{-1}\hat u_k`) and for R the residuals
:math:`\hat e_rQ_pE_j` (observed traits only), :math:`AI_{ij} = \tfrac12 w_i'Pw_j` with
:math:`Pw = R^{-1}(w - M C^{-1}M'R^{-1}w)` (one solve with the factor per parameter); for ML
:math:`V^{-1}` replaces P (the same with :math:`C^{-1} - FH^{-1}F'`).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.sparse as sp

from ..kernels.cholesky_errors import NotPositiveDefiniteError
from ..sampler.mme import MixedModelEquations, symmetric
from ..sampler.restricted import evaluate as evaluate_restricted
from ..terms.location import LocationTerm

LOG_2PI = float(np.log(2.0 * np.pi))


class Parameter:
    """One free entry (a, b), a <= b, of one covariance (``owner``: a term's position in the MME, or "residual")."""

    __slots__ = ("owner", "a", "b", "name")

    def __init__(self, owner, a, b, name):
        self.owner, self.a, self.b, self.name = owner, a, b, name

    def direction(self, d: int) -> np.ndarray:
        """E = dSigma/dtheta (d x d)."""
        e = np.zeros((d, d))
        e[self.a, self.b] = e[self.b, self.a] = 1.0
        return e


def _flat_labels(name: str, variable, d: int, diagonal: bool):
    """Labels of the free entries of a d x d covariance, as the InferenceData names them."""
    if d == 1:
        return {(0, 0): name}
    coords = [list(map(str, variable.coords[dim])) for dim in variable.dims] if variable is not None else []
    labels = coords[0] if coords else [str(k) for k in range(d)]
    out = {}
    for a in range(d):
        for b in range(a, d):
            if diagonal and a != b:
                continue
            out[(a, b)] = f"{name}[{labels[a]}]" if diagonal else f"{name}[{labels[a]},{labels[b]}]"
    return out


class Problem:
    """The likelihood pieces of a bound Gaussian model whose terms are all location terms."""

    def __init__(self, model):
        self.model = model
        likelihood = model.likelihood
        if getattr(likelihood, "family", "gaussian") != "gaussian":
            raise ValueError(f"REML needs a Gaussian model, got family {likelihood.family!r}.")
        terms = model.terms[:-1]
        for term in terms:
            if not isinstance(term, LocationTerm):
                raise ValueError(
                    f"REML works on location terms (Fixed, Random, Animal, Kernel, ...); term {term.name!r} is a "
                    f"{type(term).__name__}. For markers use a GBLUP kernel: Kernel(column, bg.grm(genotypes))."
                )
        self.terms = terms
        self.likelihood = likelihood
        self.t = model.n_traits
        # What the parameters and constants need, without the mixed-model equations (built on first
        # use: GSRU never builds them, so never forms M'M).
        self.patterns = list(likelihood.patterns())
        self.with_prior = [k for k, term in enumerate(terms) if term.level_precision() is not None]
        self.column_offsets = np.concatenate([[0], np.cumsum([term.n_columns for term in terms])]).astype(np.int64)
        rng = np.random.default_rng(0)
        self.states = [term.init_state(rng) for term in model.terms]
        self.response = np.asarray(likelihood.working_response(self.states[-1]), dtype=np.float64).copy()
        self.n_values = int(sum(p.rows.size * len(p.observed) for p in self.patterns))
        flat = [k for k in range(len(terms)) if k not in self.with_prior]
        self.fixed_equations = (
            np.concatenate(
                [np.arange(self.column_offsets[k] * self.t, self.column_offsets[k + 1] * self.t) for k in flat]
            ).astype(np.int64)
            if flat
            else np.zeros(0, dtype=np.int64)
        )
        self.n_fixed = int(self.fixed_equations.size)
        # sum_k d_k log|P_k|: a constant of each model, needed when two models are compared (LRT).
        self.log_det_precisions = 0.0
        for k in self.with_prior:
            precision = sp.csr_matrix(self.terms[k].level_precision())
            self.log_det_precisions += self.terms[k].covariance_dim * _log_det(precision)
        # The parameters: free entries of the estimated covariances.
        self.parameters: list[Parameter] = []
        self.fixed_covariances = {}
        variables = {}
        for term in terms:
            for v in term.variables():
                variables[v.name] = v
        for k in self.with_prior:
            term = self.terms[k]
            d = term.covariance_dim
            if not term.samples_covariance:
                self.fixed_covariances[k] = np.array(term.effect_covariance(self.states[k]), dtype=np.float64)
                continue
            diagonal = bool(getattr(term.prior, "diagonal", False)) and d > 1
            labels = _flat_labels(term.variance_name, variables.get(term.variance_name), d, diagonal)
            for (a, b), name in labels.items():
                self.parameters.append(Parameter(k, a, b, name))
        self.residual_fixed = None
        if likelihood.samples_covariance:
            d = self.t
            labels = (
                {(0, 0): "sigma2_e"}
                if d == 1
                else {
                    (a, b): f"sigma2_e[{likelihood.traits[a]},{likelihood.traits[b]}]"
                    for a in range(d)
                    for b in range(a, d)
                }
            )
            for (a, b), name in labels.items():
                self.parameters.append(Parameter("residual", a, b, name))
        else:
            self.residual_fixed = np.array(likelihood.covariance(self.states[-1]), dtype=np.float64)
        self.names = [p.name for p in self.parameters]
        self.complete = len(self.patterns) == 1 and len(self.patterns[0].observed) == self.t

    @functools.cached_property
    def mme(self) -> MixedModelEquations:
        return MixedModelEquations(self.terms, self.patterns, self.t)

    @functools.cached_property
    def factor(self):
        from ..kernels.cholesky import SparseCholesky

        return SparseCholesky(self.mme.pattern)

    @functools.cached_property
    def cross(self) -> list:
        return self.mme.cross_products(self.response)

    # ------------------------------------------------------------------ theta <-> covariances
    def start(self) -> np.ndarray:
        """The samplers' starting covariances (the priors' starting values, chain 0 of seed 0)."""
        covariances, residual = self._defaults()
        return self.pack(covariances, residual)

    def _defaults(self):
        covariances = {
            k: np.array(self.terms[k].effect_covariance(self.states[k]), dtype=np.float64) for k in self.with_prior
        }
        residual = np.array(self.likelihood.covariance(self.states[-1]), dtype=np.float64)
        return covariances, residual

    def pack(self, covariances: dict, residual: np.ndarray) -> np.ndarray:
        return np.array(
            [(residual if p.owner == "residual" else covariances[p.owner])[p.a, p.b] for p in self.parameters]
        )

    def unpack(self, theta: np.ndarray):
        """({k: Sigma_k}, R) at theta (fixed covariances at their value; diagonal ones zero off the diagonal)."""
        covariances = {}
        for k in self.with_prior:
            d = self.terms[k].covariance_dim
            covariances[k] = self.fixed_covariances[k].copy() if k in self.fixed_covariances else np.zeros((d, d))
        residual = self.residual_fixed.copy() if self.residual_fixed is not None else np.zeros((self.t, self.t))
        for p, value in zip(self.parameters, theta):
            target = residual if p.owner == "residual" else covariances[p.owner]
            target[p.a, p.b] = target[p.b, p.a] = value
        return covariances, residual

    def dimension(self, p: Parameter) -> int:
        return self.t if p.owner == "residual" else self.terms[p.owner].covariance_dim

    def is_variance(self, p: Parameter) -> bool:
        return p.a == p.b

    # ------------------------------------------------------------------ the likelihood
    def evaluate(self, theta, reml: bool = True, gradient: bool = False, information: bool = False):
        """An ``Evaluation`` at theta, or None where a covariance is not positive definite or C does not factor."""
        covariances, residual = self.unpack(theta)
        mme, factor = self.mme, self.factor
        try:
            restricted = evaluate_restricted(mme, factor, self.cross, covariances, residual, False)
        except NotPositiveDefiniteError:
            return None
        if restricted is None:
            return None
        out = Evaluation()
        out.theta = np.array(theta, dtype=np.float64)
        out.covariances, out.residual, out.restricted = covariances, residual, restricted
        minus_two = restricted.minus_two_loglik - self.log_det_precisions
        ml_pieces = None
        if not reml and self.n_fixed:
            ml_pieces = self._ml_pieces()
            minus_two += ml_pieces[2]
        n_terms = self.n_values - (self.n_fixed if reml else 0)
        out.loglik = -0.5 * (n_terms * LOG_2PI + minus_two)
        if not (gradient or information):
            return out
        inverse_entries = None if ml_pieces is None else (lambda _f: self._ml_inverse_entries(ml_pieces))
        full = evaluate_restricted(mme, factor, self.cross, covariances, residual, True, inverse_entries)
        out.restricted = full
        out.gradient = np.array(
            [
                -0.5 * _entry_derivative(full.d_residual if p.owner == "residual" else full.d_sigma[p.owner], p)
                for p in self.parameters
            ]
        )
        if information:
            out.information = self._average_information(full, ml_pieces)
        return out

    def _ml_pieces(self):
        """(F = C^-1 E_f, H^-1, log|H|) with H the fixed block of C^-1 (the factor holds C)."""
        n_eq = self.mme.n_equations
        unit = np.zeros((n_eq, self.n_fixed))
        unit[self.fixed_equations, np.arange(self.n_fixed)] = 1.0
        f = self.factor.solve(unit)
        h = symmetric(f[self.fixed_equations])
        chol = np.linalg.cholesky(h)
        inverse = np.linalg.inv(chol)
        return f, symmetric(inverse.T @ inverse), 2.0 * float(np.log(np.diag(chol)).sum())

    def _ml_inverse_entries(self, pieces) -> np.ndarray:
        """(C^-1 - F H^-1 F') on C's pattern: blockdiag(0, C_zz^-1)."""
        f, h_inverse, _ = pieces
        rows, cols = self.mme._pattern_rows, self.mme._pattern_cols
        fh = f @ h_inverse
        return self.factor.selected_inverse() - np.einsum("ij,ij->i", fh[rows], f[cols])

    def _solve_random(self, rhs, ml_pieces):
        """C^-1 rhs (REML) or blockdiag(0, C_zz^-1) rhs (ML)."""
        s = self.factor.solve(rhs)
        if ml_pieces is not None:
            f, h_inverse, _ = ml_pieces
            s = s - f @ (h_inverse @ (f.T @ rhs))
        return s

    def fitted(self, solution: np.ndarray) -> np.ndarray:
        return np.asarray(self.mme.design @ solution.reshape(self.mme.n_columns, self.t))

    def _average_information(self, full, ml_pieces) -> np.ndarray:
        mme = self.mme
        b = full.solution.reshape(mme.n_columns, self.t)
        residuals = self.response - self.fitted(full.solution)
        mask = np.zeros_like(self.response)
        for pattern in mme.patterns:
            mask[np.ix_(pattern.rows, pattern.observed)] = 1.0
        variates = []
        for p in self.parameters:
            e = p.direction(self.dimension(p))
            if p.owner == "residual":
                w = np.zeros_like(self.response)
                for pattern, (q, _) in zip(mme.patterns, full.precisions):
                    w[pattern.rows] = residuals[pattern.rows] @ q @ e
            else:
                k = p.owner
                term = self.terms[k]
                theta = b[mme.column_offsets[k] : mme.column_offsets[k + 1]].reshape(term.n_levels, -1)
                w = term.fit_of(theta @ full.inverses[k] @ e)
            variates.append(w * mask)
        projected = []
        for w in variates:
            rhs = mme.rhs(mme.cross_products(w), full.precisions)
            s = self._solve_random(rhs, ml_pieces)
            pw = np.zeros_like(w)
            rest = w - self.fitted(s)
            for pattern, (q, _) in zip(mme.patterns, full.precisions):
                pw[pattern.rows] = rest[pattern.rows] @ q
            projected.append(pw * mask)
        n = len(variates)
        info = np.empty((n, n))
        for i in range(n):
            for j in range(i, n):
                info[i, j] = info[j, i] = 0.5 * float(np.sum(variates[i] * projected[j]))
        return info


class Evaluation:
    """loglik (and gradient, AI matrix) at theta, with the restricted-likelihood pieces."""

    theta = loglik = gradient = information = covariances = residual = restricted = None


def _entry_derivative(matrix_derivative: np.ndarray, p: Parameter) -> float:
    """dD/dtheta from dD/dSigma: both symmetric entries for an off-diagonal one."""
    if p.a == p.b:
        return float(matrix_derivative[p.a, p.a])
    return float(matrix_derivative[p.a, p.b] + matrix_derivative[p.b, p.a])


def _log_det(precision: sp.csr_matrix) -> float:
    """log|P| of a level precision (identity: 0; otherwise one sparse Cholesky)."""
    n = precision.shape[0]
    diff = precision - sp.identity(n, format="csr")
    if diff.nnz == 0 or np.all(diff.data == 0):
        return 0.0
    from ..kernels.cholesky import SparseCholesky

    pattern = sp.csr_matrix(precision, copy=True)
    pattern.sort_indices()
    factor = SparseCholesky(pattern)
    factor.factorize(pattern.data.astype(np.float64))
    return float(factor.logdet())
