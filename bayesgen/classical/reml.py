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

import itertools

import numpy as np
import pandas as pd

from .problem import Problem

METHODS = ("ai", "em", "eigen")
#: Held value of a variance on the boundary, relative to the phenotypic variance.
BOUNDARY = 1e-8
#: EM steps before AI (complete records only).
EM_WARMUP = 3


class RemlResult:
    """The estimates of ``reml``: see the attributes set in ``reml``'s docstring."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        lines = [f"RemlResult({self.method}, {'REML' if self.reml else 'ML'}: loglik {self.loglik:.4f}, "
                 f"{'converged' if self.converged else 'NOT converged'} after {self.iterations} iterations)"]
        table = pd.DataFrame({"estimate": self.variances, "se": self.se})
        lines.append(table.to_string())
        if self.h2 is not None:
            lines.append(f"h2 = {np.round(self.h2, 4).to_dict()} (se {np.round(self.h2_se, 4).to_dict()})")
        if self.boundary:
            lines.append(f"on the boundary: {', '.join(self.boundary)}")
        return "\n".join(lines)

    def summary(self) -> pd.DataFrame:
        """Variances and h2 with their standard errors, one table."""
        out = pd.DataFrame({"estimate": self.variances, "se": self.se})
        if self.h2 is not None:
            out = pd.concat([out, pd.DataFrame({"estimate": self.h2, "se": self.h2_se})])
        return out


def reml(model, method: str = "ai", reml: bool = True, start=None, max_iter: int | None = None, tol: float = 1e-12,
         verbose: bool = False) -> RemlResult:
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
    problem = Problem(model)
    theta = problem.start()
    if start is not None:
        start = pd.Series(start, dtype=float)
        unknown = [k for k in start.index if k not in problem.names]
        if unknown:
            raise KeyError(f"start names {unknown} are not parameters of the model; they are {problem.names}.")
        for k, name in enumerate(problem.names):
            if name in start.index:
                theta[k] = float(start[name])
    if method == "em" and not problem.complete:
        raise ValueError("method='em' needs complete records (every trait observed on every record with data); "
                         "use method='ai', which integrates missing traits out per pattern.")
    scale = np.array([_phenotypic_variance(model, p) for p in problem.parameters])
    floor = BOUNDARY * scale
    history, boundary = [], set()
    converged, message = False, ""
    current = problem.evaluate(theta, reml=reml, gradient=True, information=(method == "ai"))
    if current is None:
        raise ValueError(f"The starting values {dict(zip(problem.names, theta))} give a covariance that is not "
                         "positive definite; pass start=.")
    iteration = 0
    warmup = EM_WARMUP if (method == "ai" and problem.complete) else 0
    while iteration < max_iter:
        history.append([iteration, current.loglik, *current.theta])
        iteration += 1
        if method == "em" or iteration <= warmup:
            proposal = _em_update(problem, current, floor)
            following = problem.evaluate(proposal, reml=reml, gradient=True,
                                         information=(method == "ai" and iteration >= warmup))
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


def _phenotypic_variance(model, p) -> float:
    """The scale of a parameter: the phenotypic variance of its trait(s)."""
    y = np.asarray(model.y).reshape(len(model.data), -1)
    t = y.shape[1]
    a, b = p.a % t, p.b % t
    va = np.nanvar(y[:, a], ddof=1)
    vb = np.nanvar(y[:, b], ddof=1)
    return float(np.sqrt(va * vb))


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


def _result(problem, final, method, reml_flag, converged, message, boundary, history, iterations, floor):
    model = problem.model
    names = problem.names
    variances = pd.Series(final.theta, index=names, name="estimate")
    covariance = np.full((len(names), len(names)), np.nan)
    free = np.array([n not in boundary for n in names])
    if final.information is not None and free.any():
        try:
            covariance[np.ix_(free, free)] = np.linalg.inv(final.information[np.ix_(free, free)])
        except np.linalg.LinAlgError:
            pass
    se = pd.Series(np.sqrt(np.clip(np.diag(covariance), 0, None)), index=names, name="se")
    se[~free] = np.nan
    h2, h2_se = _heritability(problem, final.theta, covariance)
    if boundary and converged:
        message = f"converged; on the boundary (held at 0): {', '.join(sorted(boundary))}"
    elif converged:
        message = "converged"
    blue, blup = _solutions(problem, final)
    columns = ["iteration", "loglik", *names]
    return RemlResult(
        variances=variances, se=se, covariance=pd.DataFrame(covariance, index=names, columns=names), h2=h2,
        h2_se=h2_se, loglik=float(final.loglik), blue=blue, blup=blup,
        history=pd.DataFrame(history, columns=columns), converged=bool(converged), message=message,
        boundary=sorted(boundary), iterations=int(iterations), method=method, reml=reml_flag,
        model=model, n_parameters=len(names), n_fixed=problem.n_fixed)


def heritability_at(problem: Problem, theta) -> np.ndarray | None:
    """The model's h2 (per trait) at theta, as ``Model.heritability`` computes it for a draw."""
    model = problem.model
    if not model._genetic:
        return None
    covariances, residual = problem.unpack(theta)
    states = [dict(s) for s in problem.states]
    for k in problem.mme.with_prior:
        states[k] = dict(states[k])
        states[k]["sigma2"] = covariances[k].copy()
    states[-1] = dict(states[-1])
    states[-1]["sigma2_e"] = residual.copy()
    return np.atleast_1d(model.heritability(states)).astype(float)


def _heritability(problem: Problem, theta, covariance):
    value = heritability_at(problem, theta)
    if value is None:
        return None, None
    # delta method: the gradient by central differences
    jac = np.zeros((value.size, theta.size))
    for j in range(theta.size):
        h = 1e-6 * max(abs(theta[j]), 1e-8)
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        hi, lo = heritability_at(problem, up), heritability_at(problem, down)
        jac[:, j] = (hi - lo) / (2 * h)
    cov = np.where(np.isfinite(covariance), covariance, 0.0)
    se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, cov, jac), 0, None))
    traits = problem.model.traits
    index = ["h2"] if len(traits) == 1 else [f"h2[{t}]" for t in traits]
    return pd.Series(value, index=index, name="estimate"), pd.Series(se, index=index, name="se")


def effect_labels(term, n_traits: int) -> list:
    """Labels of a location term's effects (level, coefficient, trait order), as the InferenceData names them."""
    name = getattr(term, "effect_name", term.name)
    coords = None
    for v in term.variables():
        if v.name == name and v.dims:
            coords = [list(map(str, v.coords[d])) for d in v.dims]
            break
    n = term.n_levels * term.n_coefficients * n_traits
    if coords is not None and int(np.prod([len(c) for c in coords])) == n:
        return [f"{name}[{','.join(parts)}]" for parts in itertools.product(*coords)]
    return [f"{name}[{i}]" for i in range(n)]


def _solutions(problem: Problem, final):
    """(blue, blup): DataFrames of the mixed-model solution and its prediction error variance diag(C^-1)."""
    mme = problem.mme
    solution = final.restricted.solution
    diagonal = _inverse_diagonal(problem)
    blue, blup = [], []
    for k, term in enumerate(problem.terms):
        lo, hi = mme.column_offsets[k] * problem.t, mme.column_offsets[k + 1] * problem.t
        # equations are ordered column * t + trait; effects (level, coef, trait): the same order
        labels = effect_labels(term, problem.t)
        frame = pd.DataFrame({"estimate": solution[lo:hi], "pev": diagonal[lo:hi]}, index=labels)
        (blup if k in mme.with_prior else blue).append(frame)
    empty = pd.DataFrame({"estimate": [], "pev": []})
    return (pd.concat(blue) if blue else empty), (pd.concat(blup) if blup else empty)


def _inverse_diagonal(problem: Problem) -> np.ndarray:
    entries = problem.factor.selected_inverse()
    rows, cols = problem.mme._pattern_rows, problem.mme._pattern_cols
    out = np.empty(problem.mme.n_equations)
    on = rows == cols
    out[rows[on]] = entries[on]
    return out
