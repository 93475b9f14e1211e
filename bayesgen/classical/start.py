r"""Starting values for MCMC chains from REML (``Model.sample(init="reml")``).

Each chain starts with the locations at their BLUE/BLUP and the covariance parameters
:math:`\theta` (the free entries of every estimated covariance, as ``bg.reml`` names them) drawn
jointly from the REML estimate's approximate sampling distribution, over-dispersed:

.. math:: \theta_0 = \hat\theta + \kappa\,Lz,\qquad LL' = AI^{-1},\quad z \sim N(0, I),

with the chain's own generator and :math:`\kappa` = ``DISPERSION`` (1: chains start spread as
REML's sampling distribution, not beyond it); a draw that leaves a
covariance not positive definite is redrawn (up to ``MAX_DRAWS`` times, then
:math:`\hat\theta`). Drawing jointly keeps the start on the likelihood's ridges (e.g. the strong
negative correlation of an animal and a residual variance); dispersing each variance on its own
put chains off the ridge, where the first random-walk proposals were mostly rejected (gryphon's
four components: burn-in to R-hat <= 1.01 of 75-450 iterations against 50-250 from the default
start, ``benchmarks/bench_reml_init.py``). Parameters REML holds on the boundary keep the
sampler's own start (a start at 0 would sit where the posterior is thin).

``init="auto"`` (the default of ``Model.sample``) takes this start where REML is cheap
(``auto_start``): a Gaussian model of location terms (no marker terms) with an estimated covariance,
whose mixed-model equations factor within the same bounds as the collapsed sampler's "auto"
(``bayesgen.sampler.auto``: a factor of at most ``AUTO_MAX_FACTOR_NONZEROS`` nonzeros and
``REML_AUTO_MAX_FLOPS`` flops); REML then costs a few dozen factorisations, well under a second on
gryphon's models. Elsewhere, or when REML fails or does not converge, the chains start at the
terms' own values, and ``idata.attrs["init"]`` says which start was used.
"""

from __future__ import annotations

import numpy as np

#: The start is drawn from N(theta_hat, DISPERSION^2 AI^-1). 1: REML's approximate sampling
#: distribution, about as wide as the posterior's bulk (burn-in to R-hat <= 1.01 on gryphon's four
#: components: 75-125 iterations over 5 seeds, mean 85, against the default start's 50-250, mean
#: 145; with 2: 125-225, mean 180; benchmarks/bench_reml_init.py).
DISPERSION = 1.0
#: Draws tried for a positive definite start before falling back to the estimate.
MAX_DRAWS = 100
#: init="auto" runs REML only when one factorisation of the mixed-model equations costs at most this
#: many flops (100x the collapsed sampler's bound: REML factors a few dozen times, once per run; gryphon's
#: bivariate four-component model, 2.8e6 flops, takes 0.25-0.5 s).
REML_AUTO_MAX_FLOPS = 2e9


class ChainStart:
    """The REML estimate, its covariance factor and the mixed-model solution, for ``Gibbs.init``."""

    def __init__(self, problem, theta, factor, free, solution: dict, boundary_owners: set):
        self.problem, self.theta, self.factor, self.free = problem, theta, factor, free
        self.solution, self.boundary_owners = solution, boundary_owners

    def draw(self, rng) -> tuple[dict, np.ndarray]:
        """({term position: Sigma}, R) for one chain (module docstring)."""
        for _ in range(MAX_DRAWS):
            theta = self.theta.copy()
            theta[self.free] += DISPERSION * (self.factor @ rng.standard_normal(int(self.free.sum())))
            covariances, residual = self.problem.unpack(theta)
            try:
                for value in list(covariances.values()) + [residual]:
                    np.linalg.cholesky(value)
            except np.linalg.LinAlgError:
                continue
            return covariances, residual
        return self.problem.unpack(self.theta)

    def apply(self, rng, model, states) -> None:
        """Set the chain's states (``Gibbs.init``): effects at the solution, covariances drawn."""
        for k, values in self.solution.items():
            model.terms[k].effects_by_column(states[k])[:] = values
        covariances, residual = self.draw(rng)
        estimated = {p.owner for p in self.problem.parameters}
        for k, value in covariances.items():
            if k in estimated and k not in self.boundary_owners:
                model.terms[k].set_covariance(rng, states[k], value)
        if "residual" in estimated and "residual" not in self.boundary_owners:
            model.likelihood.set_covariance(rng, states[-1], residual)


def reml_start(model, result=None, problem=None) -> ChainStart:
    """A ``ChainStart`` from ``bg.reml(model)`` (or the ``result`` given, of the ``problem`` given)."""
    from .problem import Problem
    from .reml import reml

    if result is None:
        result = reml(model)
    problem = Problem(model) if problem is None else problem
    theta = result.variances.to_numpy().copy()
    covariance = result.covariance.to_numpy()
    free = np.isfinite(np.diag(covariance))
    sub = covariance[np.ix_(free, free)]
    try:
        factor = np.linalg.cholesky(0.5 * (sub + sub.T))
    except np.linalg.LinAlgError:  # not positive definite: the standard errors alone
        factor = np.diag(np.sqrt(np.clip(np.diag(sub), 0, None)))
    boundary_owners = {p.owner for p in problem.parameters if p.name in result.boundary}
    solution = {}
    b = np.concatenate([result.blue["estimate"].to_numpy(), result.blup["estimate"].to_numpy()])
    # blue (flat terms) then blup (terms with a prior), each in model order: back to term positions
    order = [k for k in range(len(problem.terms)) if k not in problem.with_prior] + list(problem.with_prior)
    position = 0
    for k in order:
        size = int(problem.column_offsets[k + 1] - problem.column_offsets[k]) * problem.t
        solution[k] = b[position : position + size].reshape(-1, problem.t)
        position += size
    return ChainStart(problem, theta, factor, free, solution, boundary_owners)


def auto_start(model) -> ChainStart | None:
    """``init="auto"``: the REML start where REML is cheap and succeeds, else None (module docstring)."""
    import warnings

    from ..kernels.cholesky import FactorTooLargeError, SparseCholesky
    from ..sampler.auto import AUTO_MAX_EQUATIONS, AUTO_MAX_FACTOR_NONZEROS
    from .problem import Problem
    from .reml import reml_of_problem

    try:
        problem = Problem(model)
    except ValueError:  # not a Gaussian model of location terms
        return None
    if not problem.parameters or int(problem.column_offsets[-1]) * problem.t > AUTO_MAX_EQUATIONS:
        return None
    try:
        factor = SparseCholesky(problem.mme.pattern, max_factor_nonzeros=AUTO_MAX_FACTOR_NONZEROS)
    except FactorTooLargeError:
        return None
    if factor.flops > REML_AUTO_MAX_FLOPS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = reml_of_problem(model, problem)
        if not result.converged:
            return None
        return reml_start(model, result, problem)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):  # REML failed: the default start
        return None
