r"""Starting values for MCMC chains from REML (``Model.sample(init="reml")``).

Each chain starts with the locations at their BLUE/BLUP and each estimated covariance
over-dispersed around its REML estimate :math:`\hat\Sigma`: :math:`\Sigma_0 = D\hat\Sigma D` with
:math:`D = \mathrm{diag}(\exp(\kappa z_a c_a / 2))` (so each log-variance moves by :math:`\kappa z_a c_a`),
:math:`z_a \sim N(0, 1)` from the chain's
generator, :math:`c_a` the relative standard error of the a-th variance (the square root of the
inverse average information over the estimate, kept within [0.05, 1]) and :math:`\kappa` =
``DISPERSION``: chains start apart, as R-hat needs (Gelman & Rubin 1992), but within the
likelihood's bulk (``benchmarks/bench_reml_init.py`` measures the burn-in for several values). D keeps :math:`\Sigma_0` positive definite. A variance REML puts on the
boundary keeps the sampler's own start (a start at 0 would sit where the posterior is thin).
"""

from __future__ import annotations

import numpy as np

#: Over-dispersion: starting log-variances spread over this many REML standard errors.
DISPERSION = 2.0


class ChainStart:
    """Point estimates (covariances by term position, the residual, the mixed-model solution) and their spread."""

    def __init__(self, covariances: dict, residual, spreads: dict, residual_spread, solution: dict, boundary: set):
        self.covariances, self.residual, self.spreads = covariances, residual, spreads
        self.residual_spread, self.solution, self.boundary = residual_spread, solution, boundary

    @staticmethod
    def _dispersed(rng, value, spread):
        factors = np.exp(0.5 * DISPERSION * rng.standard_normal(value.shape[0]) * spread)
        moved = factors[:, None] * value * factors[None, :]
        return 0.5 * (moved + moved.T)

    def apply(self, rng, model, states) -> None:
        """Set the chain's states (``Gibbs.init``): effects at the solution, covariances dispersed."""
        for k, values in self.solution.items():
            model.terms[k].effects_by_column(states[k])[:] = values
        for k, value in self.covariances.items():
            if k in self.boundary:
                continue
            model.terms[k].set_covariance(rng, states[k], self._dispersed(rng, value, self.spreads[k]))
        if self.residual is not None:
            model.likelihood.set_covariance(rng, states[-1], self._dispersed(rng, self.residual, self.residual_spread))


def reml_start(model, result=None) -> ChainStart:
    """A ``ChainStart`` from ``bg.reml(model)`` (or the ``result`` given)."""
    from .problem import Problem
    from .reml import reml

    if result is None:
        result = reml(model)
    problem = Problem(model)
    theta = result.variances.to_numpy()
    covariances, residual = problem.unpack(theta)
    relative = {}
    for j, p in enumerate(problem.parameters):
        if p.a == p.b:
            se = result.se.iloc[j]
            relative[(p.owner, p.a)] = float(np.clip(se / theta[j], 0.05, 1.0)) if np.isfinite(se) else 0.05
    boundary_terms = {p.owner for p in problem.parameters if p.name in result.boundary and p.owner != "residual"}
    estimated = {p.owner for p in problem.parameters}
    spreads = {k: np.array([relative.get((k, a), 0.05) for a in range(v.shape[0])])
               for k, v in covariances.items() if k in estimated}
    solution = {}
    b = np.concatenate([result.blue["estimate"].to_numpy(), result.blup["estimate"].to_numpy()])
    # blue then blup: reorder into the MME's column order
    flat = [k for k in range(len(problem.terms)) if k not in problem.mme.with_prior]
    order = flat + list(problem.mme.with_prior)
    position = 0
    for k in order:
        size = (problem.mme.column_offsets[k + 1] - problem.mme.column_offsets[k]) * problem.t
        solution[k] = b[position:position + size].reshape(-1, problem.t)
        position += size
    residual_spread = (np.array([relative.get(("residual", a), 0.05) for a in range(problem.t)])
                       if "residual" in estimated else None)
    return ChainStart({k: covariances[k] for k in spreads}, residual if "residual" in estimated else None, spreads,
                      residual_spread, solution, boundary_terms)
