r"""REML (and ML) estimates of a model's covariances: average information, EM, or eigen + Brent.

``reml(model, method="ai")`` maximises the restricted log-likelihood of the model's covariance
parameters :math:`\theta` (``bayesgen.classical.problem``) on the sparse mixed-model equations:

* ``"ai"`` (Gilmour, Thompson & Cullis 1995): Newton-type steps
  :math:`\theta \leftarrow \theta + AI^{-1}\nabla\ell`, halved until the log-likelihood rises
  and every covariance stays positive definite; log|C| from the sparse Cholesky factor and
  the traces of the gradient from Takahashi's selected inverse (C's inverse on C's pattern),
  never a dense inverse. A few EM steps first when the records are complete (EM is robust far
  from the optimum, AI fast near it).
* ``"em"``: EM-REML. With :math:`C^{kk}` term k's block of :math:`C^{-1}` and
  :math:`\hat\Theta_k` its BLUP, :math:`\Sigma_k \leftarrow (\hat\Theta_k'P_k\hat\Theta_k +
  \mathrm{tr}(P_kC^{kk}))/L_k` (traces of blocks: the selected inverse again) and
  :math:`R \leftarrow (\hat E'\hat E + \mathrm{tr}(MC^{-1}M'))/n` (complete records). The
  log-likelihood is recorded each iteration and never decreases (an EM algorithm).
* ``"eigen"``: one kernel (or pedigree) term plus iid residual, one trait: the rotation by the
  eigendecomposition of ZKZ' and Brent's method over :math:`h^2` (``bayesgen.classical.eigen``).

A variance that reaches zero (the boundary) is held at a tiny positive value (1e-8 of the
phenotypic variance) and reported in ``boundary`` and ``message``; its standard error is NaN.
Standard errors come from the inverse average-information matrix; ``h2`` is the model's own
heritability (``Model.heritability``, as recorded in the InferenceData) with a delta-method se.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..sampler.blas_threads import single_threaded_blas
from .problem import Problem
from .result import BOUNDARY, RemlResult, _phenotypic_variance, _result

if TYPE_CHECKING:
    from ..model.model import Model

METHODS = ("ai", "em", "eigen")
#: EM steps before AI (complete records only).
EM_WARMUP = 3


def reml(
    model: Model,
    method: str = "ai",
    reml: bool = True,
    start: dict[str, float] | None = None,
    max_iter: int | None = None,
    tol: float = 1e-12,
    verbose: bool = False,
) -> RemlResult:
    r"""REML (``reml=True``) or ML estimates of the covariances of a Gaussian model of location terms.

    Parameters
    ----------
    model : bayesgen.Model
        Fixed, Random (random regressions included), Animal (maternal too), Kernel terms, one
        trait or several (missing traits per pattern). Marker terms: use a GBLUP kernel.
        Covariances fixed by the model (a number as prior) stay fixed.
    method : {"ai", "em", "eigen"}
        See the module docstring.
    reml : bool
        False: maximum likelihood (for likelihood-ratio tests of fixed effects).
    start : dict or pandas.Series, optional
        Starting values by name (``variances``' index); default: the samplers' starting values.
    max_iter, tol
        Iteration limit (None: 200 for AI, 5,000 for EM, which converges linearly); convergence when the AI step's predicted increase
        :math:`\nabla\ell'AI^{-1}\nabla\ell` (EM: the log-likelihood's change) is below ``tol``.

    Returns
    -------
    RemlResult with ``variances`` (Series named as in the InferenceData: ``sigma2_a``,
    ``sigma2_<term>``, ``sigma2_e``, matrices as ``sigma2_a[bwt,tarsus]``), ``se``,
    ``covariance`` (inverse AI), ``h2`` and ``h2_se`` (Series, or None without a genetic term),
    ``loglik``, ``blue`` and ``blup`` (DataFrames of ``estimate`` and ``pev``, the prediction
    error variance), ``history`` (DataFrame per iteration: loglik and the parameters),
    ``converged``, ``message``, ``boundary`` (names held at 0), ``iterations``, ``method``, ``reml``.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, got {method!r}.")
    if not isinstance(reml, (bool, np.bool_)):
        raise TypeError(f"reml must be True or False, got {reml!r}.")
    if max_iter is None:
        max_iter = {"ai": 200, "em": 5000, "eigen": 500}[method]
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter!r}.")
    if method == "eigen":
        from .eigen import reml_eigen

        return reml_eigen(model, reml=bool(reml), max_iter=max_iter)
    # The kernels (sparse Cholesky, selected inverse) make many small BLAS calls, which a
    # multithreaded BLAS slows down many times over on a busy machine (gryphon bivariate: 2.3 s
    # against 0.4 s at load 6): one thread, as the samplers use.
    with single_threaded_blas():
        return _reml(model, method, reml, start, max_iter, tol, verbose)


def reml_of_problem(model, problem: Problem) -> RemlResult:
    """``reml(model)`` at its defaults (AI) for a model whose ``Problem`` is built already
    (``bayesgen.classical.start`` builds it once to decide whether REML is cheap)."""
    with single_threaded_blas():
        return _reml(model, "ai", True, None, 200, 1e-12, False, problem=problem)


def _reml(model, method, reml, start, max_iter, tol, verbose, problem: Problem | None = None) -> RemlResult:
    """``reml`` for methods "ai" and "em", with the arguments checked."""
    problem = Problem(model) if problem is None else problem
    theta = problem.start()
    if start is not None:
        start = pd.Series(start, dtype=float)
        unknown = [k for k in start.index if k not in problem.names]
        if unknown:
            raise ValueError(f"start names {unknown} are not parameters of the model; they are {problem.names}.")
        for k, name in enumerate(problem.names):
            if name in start.index:
                theta[k] = float(start[name])
    if method == "em" and not problem.complete:
        raise ValueError(
            "method='em' needs complete records (every trait observed on every record with data); "
            "use method='ai', which integrates missing traits out per pattern."
        )
    scale = np.array([_phenotypic_variance(model, p) for p in problem.parameters])
    floor = BOUNDARY * scale
    history, boundary = [], set()
    converged, message = False, ""
    current = problem.evaluate(theta, reml=reml, gradient=True, information=(method == "ai"))
    if current is None:
        raise ValueError(
            f"The starting values {dict(zip(problem.names, theta))} give a covariance that is not "
            "positive definite; pass start=."
        )
    iteration = 0
    warmup = EM_WARMUP if (method == "ai" and problem.complete) else 0
    while iteration < max_iter:
        history.append([iteration, current.loglik, *current.theta])
        iteration += 1
        if method == "em" or iteration <= warmup:
            proposal = _em_update(problem, current, floor)
            following = problem.evaluate(
                proposal, reml=reml, gradient=True, information=(method == "ai" and iteration >= warmup)
            )
            if following is None:
                message = "EM step gave a covariance that is not positive definite"
                break
            change = following.loglik - current.loglik
            current = following
            if method == "em" and abs(change) < tol:
                converged = True
                break
            continue
        if current.information is None:
            current = problem.evaluate(current.theta, reml=reml, gradient=True, information=True)
        current, step_info = _ai_step(problem, current, reml, floor, boundary, tol)
        if step_info == "converged":
            converged = True
            break
        if step_info:
            message = step_info
            break
    if converged:
        history.append([iteration, current.loglik, *current.theta])
    if not converged and not message:
        message = f"no convergence after {max_iter} iterations"
    # At the optimum: the information (for the se) and the mixed-model solution.
    final = problem.evaluate(current.theta, reml=reml, gradient=True, information=True)
    return _result(problem, final, method, bool(reml), converged, message, boundary, history, iteration, floor)


def _em_update(problem: Problem, current, floor) -> np.ndarray:
    """theta after one EM-REML step from ``current`` (module docstring)."""
    restricted = current.restricted
    n = problem.mme.patterns[0].rows.size if problem.mme.patterns else 0
    new_cov = {k: restricted.per_term[k] / problem.terms[k].n_levels for k in restricted.per_term}
    new_r = restricted.per_pattern[0] / n
    theta = problem.pack({k: new_cov.get(k, v) for k, v in current.covariances.items()}, new_r)
    for j, p in enumerate(problem.parameters):
        if p.a == p.b:
            theta[j] = max(theta[j], floor[j])
    return theta


def _ai_step(problem: Problem, current, reml, floor, boundary, tol):
    """One AI step with step halving; (new evaluation, None | "converged" | a failure message)."""
    free = np.array([p.name not in boundary for p in problem.parameters])
    g, info = current.gradient, current.information
    # a variance held at the boundary is released when the likelihood rises away from it
    for j, p in enumerate(problem.parameters):
        if p.name in boundary and g[j] > 0 and info[j, j] > 0 and g[j] / info[j, j] > 10 * floor[j]:
            boundary.discard(p.name)
            free[j] = True
    step = np.zeros_like(g)
    try:
        sub = info[np.ix_(free, free)]
        step[free] = np.linalg.solve(sub, g[free])
    except np.linalg.LinAlgError:
        return current, "the average-information matrix is singular"
    if not np.all(np.isfinite(step)):
        return current, "the average-information matrix is singular"
    decrement = float(g[free] @ step[free])
    if decrement < 0:  # AI not positive definite here: a gradient step instead
        step = np.where(free, g / np.maximum(np.abs(np.diag(info)), 1e-300), 0.0)
        decrement = float(g @ step)
    if abs(decrement) < tol:
        return current, "converged"
    size = 1.0
    for _ in range(30):
        theta = current.theta + size * step
        hit = [j for j, p in enumerate(problem.parameters) if p.a == p.b and theta[j] < floor[j]]
        for j in hit:
            theta[j] = floor[j]
        candidate = problem.evaluate(theta, reml=reml, gradient=True, information=True)
        if candidate is not None and candidate.loglik >= current.loglik - 1e-10 * abs(current.loglik):
            for j in hit:
                boundary.add(problem.parameters[j].name)
            if candidate.loglik - current.loglik < 1e-10 and not hit and size < 1:
                return candidate, "converged"
            return candidate, None
        size *= 0.5
    return current, "converged" if decrement < 1e-6 else "no step increases the log-likelihood"
