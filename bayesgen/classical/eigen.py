r"""REML/ML by the eigendecomposition of the kernel and Brent's method over h² (lmmlite, FaST-LMM).

For y = Xβ + g + e with :math:`g \sim N(0, \sigma^2_g K)` on the records (K = ZGZ', G the term's
covariance among levels: :math:`P^{-1}`) and :math:`e \sim N(0, \sigma^2_e I)`, write
:math:`\sigma^2 = \sigma^2_g + \sigma^2_e`, :math:`h^2 = \sigma^2_g/\sigma^2` and
K = USU'. Rotated, :math:`y^* = U'y` has independent entries with variances
:math:`\sigma^2 d_i`, :math:`d_i = h^2s_i + 1 - h^2`. With :math:`X^* = U'X`, weights
:math:`1/d_i`, the GLS fit :math:`\hat\beta` and its weighted residual sum of squares
:math:`\mathrm{rss}(h^2)`, :math:`\sigma^2` profiled out (n records, p fixed effects):

.. math:: -2\ell_{ML}(h^2) = n\log 2\pi + \sum_i\log d_i + n\log\frac{\mathrm{rss}}{n} + n,

.. math:: -2\ell_{REML}(h^2) = (n-p)\log 2\pi + \sum_i\log d_i + \log|X^{*\prime}D^{-1}X^*|
          + (n-p)\log\frac{\mathrm{rss}}{n-p} + (n-p),

the same constants as ``bayesgen.classical.problem`` (:math:`\log|V| + \log|X'V^{-1}X| + y'Py`).
One decomposition (O(n³)), then every evaluation is O(np²): Brent's method over
:math:`h^2 \in [0, 1]`, the end points compared too (the boundary).
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from .problem import LOG_2PI, Problem

#: Brent's tolerance on h² (absolute).
H2_TOLERANCE = 1e-10


class Rotated:
    """y, X and the eigenvalues of K in the eigenbasis of K (``U``, n x n)."""

    def __init__(self, kernel: np.ndarray, y: np.ndarray, x: np.ndarray):
        s, u = np.linalg.eigh(0.5 * (kernel + kernel.T))
        self.eigenvalues = np.clip(s, 0.0, None)
        self.basis = u
        self.y = u.T @ y
        self.x = u.T @ x
        self.n, self.p = x.shape

    def weights(self, h2: float) -> np.ndarray:
        return 1.0 / (h2 * self.eigenvalues + (1.0 - h2))

    def fit(self, h2: float):
        """(beta, rss, log|X*'D^-1X*|, sum log d, (X*'D^-1X*)^-1)."""
        w = self.weights(h2)
        xw = self.x * w[:, None]
        xtx = self.x.T @ xw
        chol = np.linalg.cholesky(xtx)
        beta = np.linalg.solve(xtx, xw.T @ self.y)
        r = self.y - self.x @ beta
        rss = float(r @ (w * r))
        return beta, rss, 2.0 * float(np.log(np.diag(chol)).sum()), -float(np.log(w).sum()), np.linalg.inv(xtx)

    def minus_two_loglik(self, h2: float, reml: bool) -> float:
        _, rss, log_det_xtx, log_det_d, _ = self.fit(h2)
        n, p = self.n, self.p
        if rss <= 0:
            return np.inf
        if reml:
            m = n - p
            return m * LOG_2PI + log_det_d + log_det_xtx + m * np.log(rss / m) + m
        return n * LOG_2PI + log_det_d + n * np.log(rss / n) + n

    def maximise(self, reml: bool, max_iter: int = 500):
        """(h2, -2 loglik, Brent's evaluations [(h2, loglik)])."""
        history = []

        def objective(h2):
            value = self.minus_two_loglik(h2, reml)
            history.append((float(h2), -0.5 * value))
            return value

        result = scipy.optimize.minimize_scalar(
            objective, bounds=(0.0, 1.0), method="bounded", options={"xatol": H2_TOLERANCE, "maxiter": max_iter}
        )
        best_h2, best = float(result.x), float(result.fun)
        for end in (0.0, 1.0 - 1e-12):
            value = objective(end)
            if value < best:
                best_h2, best = end, value
        return best_h2, best, history, bool(result.success)

    def variance(self, h2: float, reml: bool) -> float:
        """sigma^2 = sigma2_g + sigma2_e at h2 (profiled)."""
        _, rss, _, _, _ = self.fit(h2)
        return rss / (self.n - self.p if reml else self.n)


def eigen_problem(model):
    """(Problem, index of the kernel term, Rotated) for a model with one kernel term and iid residual."""
    problem = Problem(model)
    random = [k for k in problem.mme.with_prior]
    estimated = {p.owner for p in problem.parameters}
    if (
        problem.t != 1
        or len(random) != 1
        or problem.terms[random[0]].covariance_dim != 1
        or estimated != {random[0], "residual"}
        or len(problem.mme.patterns) != 1
    ):
        raise ValueError(
            "method='eigen' needs one trait, one random term with one coefficient (a kernel, pedigree or "
            "iid term) whose variance is estimated, fixed effects and an estimated residual variance; "
            "use method='ai' for other models."
        )
    k = random[0]
    term = problem.terms[k]
    rows = problem.mme.patterns[0].rows
    z = problem.mme.design[rows][:, problem.mme.column_offsets[k] : problem.mme.column_offsets[k + 1]].toarray()
    covariance_of_levels = np.linalg.inv(term.level_precision().toarray())
    kernel = z @ covariance_of_levels @ z.T
    flat = [j for j in range(len(problem.terms)) if j != k]
    x = (
        np.hstack(
            [
                problem.mme.design[rows][:, problem.mme.column_offsets[j] : problem.mme.column_offsets[j + 1]].toarray()
                for j in flat
            ]
        )
        if flat
        else np.zeros((rows.size, 0))
    )
    return problem, k, Rotated(kernel, problem.response[rows, 0], x)


def reml_eigen(model, reml: bool = True, max_iter: int = 500):
    """``reml(model, method="eigen")``: see the module docstring; se and BLUP from the MME at the estimate."""
    from .result import BOUNDARY, _phenotypic_variance, _result

    problem, k, rotated = eigen_problem(model)
    h2, _, evaluations, success = rotated.maximise(reml, max_iter)
    total = rotated.variance(h2, reml)
    theta = np.empty(len(problem.parameters))
    floor = np.array([BOUNDARY * _phenotypic_variance(model, p) for p in problem.parameters])
    boundary = set()
    for j, p in enumerate(problem.parameters):
        theta[j] = h2 * total if p.owner == k else (1.0 - h2) * total
        if theta[j] < floor[j]:
            theta[j] = floor[j]
            boundary.add(p.name)
    final = problem.evaluate(theta, reml=reml, gradient=True, information=True)
    history = [
        [i, loglik, *(hh * total if p.owner == k else (1 - hh) * total for p in problem.parameters)]
        for i, (hh, loglik) in enumerate(evaluations)
    ]
    result = _result(
        problem,
        final,
        "eigen",
        reml,
        success,
        "" if success else "Brent's method did not converge",
        boundary,
        history,
        len(evaluations),
        floor,
    )
    result.h2_eigen = h2
    return result
