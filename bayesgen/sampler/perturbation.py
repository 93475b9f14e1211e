r"""The perturbation-optimisation location block: exact joint draws of the locations without a factorisation.

:class:`PerturbedLocations` draws the effects b of its terms from their full conditional
:math:`N(C^{-1}r, C^{-1})` (``bayesgen.sampler.mme``) by perturbation-optimisation
(Papandreou & Yuille 2010; Orieux, Féron & Giovannelli 2012): with C = M'R⁻¹M + Π, Π the
prior part :math:`\mathrm{blockdiag}_k(P_k \otimes \Sigma_k^{-1})`, it draws

.. math:: \xi = \underbrace{\textstyle\sum_p \mathrm{vec}(G_pZ_p'M_p)}_{\sim N(0,\,M'R^{-1}M)}
          + \underbrace{\big(\mathrm{vec}((F_kW_kH_k')')\big)_k}_{\sim N(0,\,\Pi)} \;\sim N(0, C),

(:math:`G_pG_p' = Q_p` per missingness pattern, :math:`F_kF_k' = P_k` from the term's
``level_precision_factor``, :math:`H_kH_k' = \Sigma_k^{-1}`, Z and W standard normal), then
solves :math:`Cx = r + \xi`. Since r + ξ ~ N(r, C), x = C⁻¹(r + ξ) ~ N(C⁻¹r, C⁻¹): an exact
draw, up to the solver's error. The solve is by conjugate gradients preconditioned by C's
t x t diagonal blocks (``bayesgen.kernels.pcg``; Jacobi for one trait), started from the current
effects (the last draw), to a relative residual ``tol``; C is assembled sparse (its values
refilled each step by the mixed-model equations' linear map), never factorised, so the cost per
draw is O(nnz(C)) per iteration and memory O(nnz(C)), where a Cholesky factor of a large
random-mating pedigree's C would fill in (1.1·10⁹ nonzeros at 200,000 animals).

The residual, the augmented part of the working response and each term's covariance given its
effects follow as in :class:`bayesgen.sampler.joint.JointLocations` (and its group moves).
``sampler="pcg"`` forces it; ``bayesgen.sampler.auto.auto_block`` picks it when a factorisation
is too costly (see there).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..variable import Variable
from .context import StepContext
from .joint import JointLocations
from .mme import MixedModelEquations

#: Relative residual ‖r + ξ - Cx‖/‖r + ξ‖ at which the solve stops: the draw's error is then
#: below 10⁻⁴ posterior standard deviations on the models measured (tests/test_perturbation.py),
#: far below Monte Carlo error.
DEFAULT_TOL = 1e-8
#: Iterations after which a solve that has not met ``tol`` stops the chain (an error, never a
#: silently inexact draw).
DEFAULT_MAX_ITER = 20_000


class PerturbedLocations(JointLocations):
    """Draw the effects of several location terms jointly by perturbation-optimisation (module
    docstring), then each covariance given its effects."""

    kind = "pcg"
    #: Nothing to rebuild: the warm start is the current effects, held in the terms' states.
    workspace: tuple = ()

    def __init__(self, model, indices, tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER):
        if not isinstance(tol, (float, int)) or isinstance(tol, bool) or not 0.0 < tol < 1.0:
            raise ValueError(f"tol must be a number in (0, 1), got {tol!r}.")
        if not isinstance(max_iter, (int, np.integer)) or isinstance(max_iter, bool) or max_iter < 1:
            raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}.")
        self.indices = list(indices)
        self.terms = [model.terms[k] for k in self.indices]
        self.likelihood = model.likelihood
        self.likelihood_index = len(model.terms) - 1
        self.mme = MixedModelEquations(self.terms, self.likelihood.patterns(), model.n_traits)
        self.tol, self.max_iter = float(tol), int(max_iter)
        self.prior_factors = {}
        for k in self.mme.with_prior:
            term = self.terms[k]
            factor = term.level_precision_factor()
            if factor is None:
                raise ValueError(
                    f"sampler='pcg' needs a square root of the level precision of term {term.name!r} "
                    f"({term.n_levels} levels; its level_precision_factor() gives None): use sampler='joint' "
                    "or 'single-site'."
                )
            factor = sp.csr_matrix(factor)
            if factor.shape[0] != term.n_levels:
                raise ValueError(
                    f"term {term.name!r}: level_precision_factor() has {factor.shape[0]} rows, "
                    f"its level precision {term.n_levels}."
                )
            self.prior_factors[k] = factor
        pattern = self.mme.pattern
        self._indptr = pattern.indptr.astype(np.int64)
        self._indices = pattern.indices.astype(np.int64)

    def init_state(self, rng) -> dict:
        return {}

    def info_variables(self) -> list:
        return [Variable("pcg_iterations", group="sample_stats")]

    def describe(self) -> dict:
        return {
            "block": self.kind,
            "terms": [t.name for t in self.terms],
            "equations": self.mme.n_equations,
            "nonzeros": int(self.mme.pattern.nnz),
            "tol": self.tol,
        }

    # ------------------------------------------------------------------ the draw
    def perturbation(self, rng, precisions, inverses) -> np.ndarray:
        r""":math:`\xi \sim N(0, C)` (module docstring): the likelihood part, then each prior term's."""
        mme = self.mme
        xi = mme.likelihood_perturbation(rng, precisions)
        t = mme.n_traits
        for k, factor in self.prior_factors.items():
            d = self.terms[k].covariance_dim
            root = np.linalg.cholesky(inverses[k])  # H H' = Sigma_k^-1
            w = rng.standard_normal((factor.shape[1], d))
            start = int(mme.column_offsets[k]) * t
            # (F W H') row l, column alpha = coef * t + trait: element offset + l ct + alpha of b
            xi[start : start + factor.shape[0] * d] += np.asarray(factor @ (w @ root.T)).ravel()
        return xi

    def solve(self, values: np.ndarray, rhs: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, int, float]:
        """x with ‖rhs - Cx‖ ≤ tol ‖rhs‖ (C's ``values`` in the pattern's order), by PCG from ``start``:
        (x, iterations, relative residual)."""
        from ..kernels.pcg import diagonal_block_inverses, pcg_solve

        c = sp.csr_matrix((values, self.mme.pattern.indices, self.mme.pattern.indptr), shape=self.mme.pattern.shape)
        x = np.array(start, dtype=np.float64)
        history = np.empty(self.max_iter)  # per call: chains run in threads and share the block
        iterations = pcg_solve(
            self._indptr,
            self._indices,
            values,
            diagonal_block_inverses(c, self.mme.n_traits),
            rhs,
            x,
            self.tol,
            self.max_iter,
            history,
        )
        relative = float(history[iterations - 1]) if iterations else 0.0
        return x, int(iterations), relative

    def step(self, rng, states, block_state, ctx: StepContext) -> dict:
        mme = self.mme
        partial = self.partial_response(states, ctx)
        precisions = mme.pattern_precisions(ctx.residual_covariance)
        inverses = self.covariance_inverses(states)
        values = mme.values(precisions, inverses)
        rhs = mme.rhs(mme.cross_products(partial), precisions) + self.perturbation(rng, precisions, inverses)
        start = mme.effects(states, self.indices).ravel()
        b, iterations, relative = self.solve(values, rhs, start)
        if relative > self.tol:
            # An unconverged solve is not a draw from the full conditional: stop the chain here,
            # before changing its state (the driver keeps the draws so far).
            raise RuntimeError(
                f"the perturbation (PCG) location block {[t.name for t in self.terms]} did not reach a relative "
                f"residual of {self.tol:g} in {self.max_iter} iterations ({relative:.3g}) at "
                f"{self._describe_covariances(states)}: raise max_iter or use sampler='single-site'."
            )
        mme.set_effects(states, self.indices, b)
        ctx.resid[:] = partial - mme.design @ b.reshape(mme.n_columns, mme.n_traits)
        self.likelihood.augment(rng, states[self.likelihood_index], ctx)
        for term, k in zip(self.terms, self.indices):
            term.draw_covariance(rng, states[k])
        return {"pcg_iterations": float(iterations)}
