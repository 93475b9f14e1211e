"""What REML returns: ``RemlResult`` and how it is assembled from the likelihood at the optimum
(standard errors from the inverse average information, h2 by the delta method, the mixed-model
solutions), shared by every method (``reml.py``, ``eigen.py``)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .problem import Problem

#: Held value of a variance on the boundary, relative to the phenotypic variance.
BOUNDARY = 1e-8


class RemlResult:
    """The estimates of ``reml``: see the attributes set in ``reml``'s docstring."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        lines = [
            f"RemlResult({self.method}, {'REML' if self.reml else 'ML'}: loglik {self.loglik:.4f}, "
            f"{'converged' if self.converged else 'NOT converged'} after {self.iterations} iterations)"
        ]
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


def _phenotypic_variance(model, p) -> float:
    """The scale of a parameter: the phenotypic variance of its trait(s)."""
    y = np.asarray(model.y).reshape(len(model.data), -1)
    t = y.shape[1]
    a, b = p.a % t, p.b % t
    va = np.nanvar(y[:, a], ddof=1)
    vb = np.nanvar(y[:, b], ddof=1)
    return float(np.sqrt(va * vb))


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
        variances=variances,
        se=se,
        covariance=pd.DataFrame(covariance, index=names, columns=names),
        h2=h2,
        h2_se=h2_se,
        loglik=float(final.loglik),
        blue=blue,
        blup=blup,
        history=pd.DataFrame(history, columns=columns),
        converged=bool(converged),
        message=message,
        boundary=sorted(boundary),
        iterations=int(iterations),
        method=method,
        reml=reml_flag,
        model=model,
        n_parameters=len(names),
        n_fixed=problem.n_fixed,
    )


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
