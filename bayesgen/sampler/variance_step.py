r"""Adaptive Metropolis steps on an unconstrained vector of variance parameters.

Knows nothing of mixed-model equations: it moves :math:`\phi \in \mathbb{R}^d` given a
``log_target(candidate)`` (which may return -inf: density 0) and tells the caller, through
``on_accept()``, when a candidate was accepted (the caller keeps the work of evaluating it,
e.g. a factorisation). Proposals: a random walk whose covariance is adapted during burn-in
(:math:`2.38^2/d` times the covariance of the later half of the burn-in draws), and after
burn-in, with probability ``INDEPENDENCE_PROBABILITY`` per proposal, an independence
multivariate t fitted to the same draws and then frozen, so the kept draws come from a fixed
kernel. The choice between the two does not depend on the state, so the mixture keeps the
target. Per-chain state holds arrays and numbers only.
"""

from __future__ import annotations

import numpy as np

from ..variable import Variable

#: Burn-in draws needed before the random walk adapts.
ADAPT_AFTER = 20
#: Degrees of freedom of the independence proposal (heavier tails than the posterior).
INDEPENDENCE_DF = 5.0
#: Its covariance over the burn-in draws' covariance.
INDEPENDENCE_INFLATION = 1.2
#: Probability, per proposal after burn-in, of an independence rather than a random-walk proposal.
INDEPENDENCE_PROBABILITY = 0.8


class VarianceMetropolis:
    """Metropolis steps on phi (module docstring); ``proposals`` per iteration."""

    def __init__(self, dim: int, proposals: int = 1):
        self.dim = int(dim)
        self.proposals = int(proposals)

    def init_state(self, rng) -> dict:
        d = self.dim
        return {"rw_chol": np.eye(d) * (0.5 / np.sqrt(max(d, 1))), "history": np.zeros((64, d)), "n_history": 0,
                "independent_mean": np.zeros(d), "independent_chol": np.zeros((d, d)), "has_independent": False}

    def info_variables(self) -> list[Variable]:
        return [Variable("accept_variances_rw", group="sample_stats"),
                Variable("accept_variances_independent", group="sample_stats")]

    def step(self, rng, phi, current, log_target, on_accept, state, tuning):
        """``proposals`` Metropolis steps from ``phi`` (whose log target is ``current``).

        Returns (phi, its log target, info).
        """
        counts = {"accept_variances_rw": [0, 0], "accept_variances_independent": [0, 0]}
        for _ in range(self.proposals if self.dim else 0):
            if state["has_independent"] and rng.random() < INDEPENDENCE_PROBABILITY:
                mean, chol = state["independent_mean"], state["independent_chol"]
                candidate = mean + chol @ _student_t(rng, self.dim)
                log_correction = _student_t_logpdf(phi, mean, chol) - _student_t_logpdf(candidate, mean, chol)
                name = "accept_variances_independent"
            else:
                candidate = phi + state["rw_chol"] @ rng.standard_normal(self.dim)
                log_correction = 0.0
                name = "accept_variances_rw"
            log_u = np.log(rng.random())
            value = log_target(candidate)
            accepted = bool(log_u < value - current + log_correction)
            if accepted:
                phi, current = candidate, value
                on_accept()
            counts[name][0] += int(accepted)
            counts[name][1] += 1
            self._adapt(state, phi, tuning)
        info = {name: (a / n if n else np.nan) for name, (a, n) in counts.items()}
        return phi, current, info

    def _adapt(self, state, phi, tuning: bool) -> None:
        d = self.dim
        if tuning:
            n = state["n_history"]
            if n == state["history"].shape[0]:
                state["history"] = np.vstack([state["history"], np.zeros_like(state["history"])])
            state["history"][n] = phi
            state["n_history"] = n = n + 1
            if n >= 2 * ADAPT_AFTER and n % ADAPT_AFTER == 0:
                state["rw_chol"] = np.linalg.cholesky(_later_half_cov(state) * 2.38**2 / d)
        elif not state["has_independent"] and state["n_history"] >= 2 * ADAPT_AFTER:
            n = state["n_history"]
            state["independent_mean"] = state["history"][n // 2:n].mean(axis=0)
            state["independent_chol"] = np.linalg.cholesky(_later_half_cov(state) * INDEPENDENCE_INFLATION)
            state["has_independent"] = True
            state["n_history"] = 0


def _later_half_cov(state) -> np.ndarray:
    n = state["n_history"]
    later = state["history"][n // 2:n]
    return np.atleast_2d(np.cov(later, rowvar=False)) + 1e-8 * np.eye(later.shape[1])


def _student_t(rng, d: int) -> np.ndarray:
    """A standard multivariate t draw with INDEPENDENCE_DF degrees of freedom."""
    return rng.standard_normal(d) / np.sqrt(rng.chisquare(INDEPENDENCE_DF) / INDEPENDENCE_DF)


def _student_t_logpdf(x, mean, chol) -> float:
    """log density (up to a constant) of mean + chol @ t_df(0, I) at x."""
    z = np.linalg.solve(chol, x - mean)
    return -0.5 * (INDEPENDENCE_DF + mean.size) * np.log1p(z @ z / INDEPENDENCE_DF)
