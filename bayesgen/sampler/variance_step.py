r"""An adaptive Metropolis step for a vector of unconstrained variance parameters.

The engine knows nothing of mixed-model equations. It updates a vector :math:`\phi \in
\mathbb{R}^d` (log variances, log-Cholesky parameters of covariance matrices: whatever the
caller packs) whose target density it reaches only through a callable
``log_target(candidate) -> float`` (log density up to a constant, ``-inf`` outside the
support). A caller whose target needs a factorisation that can fail for an extreme candidate
lists the exception classes in ``failures``: such a candidate has density 0, is rejected and
is counted (``rejected_factorisations``). The caller is told of each acceptance through
``on_accept()`` (e.g. to swap the workspace that holds the factor at the candidate with the
one at the current value).

Each proposal is, with probability ``independence_probability`` (default 1) once a first fit
of the chain's moments exists, an **independence** proposal

.. math:: \phi^* = m + \sqrt{c}\,L\,t,\quad t \sim t_\nu(0, I_d),

(m, LL' the adapted mean and covariance of the chain's draws, c = ``inflation``), accepted
with probability :math:`\min\{1, \pi(\phi^*)q(\phi) / (\pi(\phi)q(\phi^*))\}`; otherwise a
**random walk** :math:`\phi^* = \phi + e^{s} L z`, :math:`z \sim N(0, I_d)`, accepted with
:math:`\min\{1, \pi(\phi^*)/\pi(\phi)\}`. With ``delayed_rejection`` a rejected independence
proposal :math:`y_1` is followed, in the same proposal, by a random walk :math:`y_2` accepted
with (Tierney & Mira 1999; the independence densities of :math:`y_1` and the symmetric
random-walk densities cancel)

.. math:: \alpha_2 = \min\Big\{1, \frac{\pi(y_2)\,[1 - \alpha_1(y_2, y_1)]}{\pi(\phi)\,[1 - \alpha_1(\phi, y_1)]}\Big\},
          \quad \alpha_1(x, y) = \min\Big\{1, \frac{\pi(y) q(x)}{\pi(x) q(y)}\Big\},

so one more target evaluation only when the independence proposal is rejected. Each kernel,
and the mixture (its choice does not depend on :math:`\phi`), leaves :math:`\pi` invariant for
fixed adaptive parameters. By default every proposal starts with the independence t once it is
fitted (the random walk alone before): where the fit is good the draws are nearly independent,
and where it is not (a transient, a tail the t covers poorly) each rejected proposal still gets a
local random-walk move, which is what keeps a chain from freezing.

**Adaptation** (Andrieu & Thoms 2008, Algorithm 4; all of it deterministic given the draws,
so the same seed gives the same draws). After each proposal n (counted over the chain):

* mean and covariance by stochastic approximation with gain :math:`\gamma_n = \min(1, k/n)`,
  :math:`m \leftarrow m + \gamma_n(\phi - m)`,
  :math:`\Sigma \leftarrow \Sigma + \gamma_n[(\phi - m)(\phi - m)' - \Sigma]`; with k = ``forgetting``
  > 1 this is a weighted average of all draws with weights growing as :math:`j^{k-1}`, so the
  transient from the starting values is forgotten (weight of the first half of the draws:
  :math:`2^{-k}`) while the estimate keeps about :math:`(2k-1)/k^2` of the draws' information;
* the random-walk log scale s by Robbins-Monro towards the acceptance rate ``target_acceptance``,
  :math:`s \leftarrow s + g_r(\alpha - \alpha^*)`, :math:`g_r = r^{-0.6}` after the r-th random
  walk (:math:`\alpha` the acceptance probability, not the 0/1 outcome), s kept within
  ``SCALE_BOUNDS`` of its start :math:`\log(2.38/\sqrt d)`;
* L is refreshed from :math:`\Sigma + \epsilon I` every ``refresh`` proposals.

The changes shrink to 0 (gains k/n and :math:`r^{-0.6}`: diminishing adaptation, Roberts &
Rosenthal 2007, Theorem 1) and are deterministic given the chain's past, so the same seed gives
the same draws. For containment (their other condition) the random-walk scale is bounded and
:math:`\Sigma` regularised by :math:`\epsilon I`; the independence t has heavier tails than the
Gaussian-like posteriors of log variances. With ``adapt_after_tuning=False`` adaptation stops at
the end of burn-in instead (a fixed kernel for the kept draws): on gryphon's four-component model
that left the worst of 20 seeds at R-hat 1.05 and bulk ESS 75, against 1.006 and 942 with
adaptation continuing (``benchmarks/bench_collapsed_robustness.py``; README, "Location samplers",
has the other variants measured).

Per-chain state (``init_state``): numpy arrays and Python scalars only, so it can be saved
to disk as is.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from ..variable import Variable

#: Proposals before the first fit of mean and covariance (the random walk alone until then).
FIRST_FIT = 40
#: Bounds of the random-walk log scale around its start log(2.38 / sqrt(d)).
SCALE_BOUNDS = (-7.0, 3.0)
#: Added to the diagonal of the adapted covariance (containment; log-variance units squared).
REGULARISATION = 1e-6
#: A Laplace start counts as this many proposals in the moment estimates (gain forgetting / n):
#: the chain's own draws take over gradually.
LAPLACE_WEIGHT = 100


class VarianceMetropolis:
    """Adaptive mixture of an independence multivariate-t and a random-walk Metropolis proposal.

    Parameters
    ----------
    dim : int
        Length d of the parameter vector.
    proposals : int
        Metropolis proposals per ``step`` (each one target evaluation, two with delayed rejection).
    name : str
        Stem of the ``sample_stats`` names: ``accept_<name>_rw``, ``accept_<name>_independent``,
        ``rejected_factorisations`` (see ``stat_names``).
    failures : tuple of exception classes
        Raised by ``log_target`` for a candidate whose density cannot be computed (a failed
        factorisation): the candidate is rejected and counted.
    independence_probability, df, inflation : float
        Share of independence proposals once fitted, degrees of freedom of their t and
        their covariance over the adapted covariance.
    delayed_rejection : bool
        After a rejected independence proposal, try a random walk (see the module docstring).
    forgetting : float
        k in the gain k/n of the moment estimates (>= 1; 1 is the plain running average).
    target_acceptance : float
        Acceptance rate the random-walk scale is adapted to.
    refresh : int
        Proposals between refreshes of the Cholesky factor of the adapted covariance.
    initial_sd : float
        Random-walk step sd (per coordinate, before the scale) until the first fit.
    adapt_after_tuning : bool
        Keep adapting after burn-in (diminishing adaptation) or freeze at its end.

    Use (as ``CollapsedLocations.step`` does; a several-trait block packs its covariance
    matrices' log-Cholesky parameters into phi the same way)::

        engine = VarianceMetropolis(d, proposals, failures=(NotPositiveDefiniteError,))
        state = engine.init_state(rng)          # once per chain, kept in the chain's block state
        workspaces = [factor_at_phi, factor_for_candidates]

        def log_target(candidate):              # may raise NotPositiveDefiniteError
            return log_restricted_likelihood(candidate, workspaces[1]) + log_prior(candidate) + log_jacobian(candidate)

        phi, current, info = engine.step(rng, phi, current, log_target, workspaces.reverse, state, tuning)
        # workspaces[0] now holds the factor at the returned phi; info goes to sample_stats
    """

    def __init__(
        self,
        dim: int,
        proposals: int = 1,
        *,
        name: str = "variances",
        failures: tuple = (),
        independence_probability: float = 1.0,
        df: float = 5.0,
        inflation: float = 1.2,
        delayed_rejection: bool = True,
        forgetting: float = 3.0,
        target_acceptance: float = 0.3,
        refresh: int = 10,
        initial_sd: float = 0.2,
        adapt_after_tuning: bool = True,
        laplace_start: bool = False,
    ):
        self.dim = int(dim)
        self.proposals = int(proposals)
        self.name = name
        self.failures = tuple(failures)
        self.independence_probability = float(independence_probability)
        self.df = float(df)
        self.inflation = float(inflation)
        self.delayed_rejection = bool(delayed_rejection)
        self.forgetting = float(forgetting)
        self.target_acceptance = float(target_acceptance)
        self.refresh = int(refresh)
        self.initial_sd = float(initial_sd)
        self.adapt_after_tuning = bool(adapt_after_tuning)
        self.start_log_scale = float(np.log(2.38 / np.sqrt(max(self.dim, 1))))
        #: With ``laplace_start``, the owner's Laplace approximation (``set_laplace``): every chain's
        #: first fit, worth ``LAPLACE_WEIGHT`` proposals, so independence proposals start at once.
        self.laplace_start = bool(laplace_start)
        self.laplace = None

    @property
    def needs_laplace(self) -> bool:
        """True while a Laplace start was asked for and not yet given (``set_laplace``)."""
        return self.laplace_start and self.laplace is None

    def set_laplace(self, mode, covariance) -> None:
        """The posterior's mode and the inverse Hessian there: the chains' first fit (once per model)."""
        covariance = 0.5 * (covariance + covariance.T) + REGULARISATION * np.eye(self.dim)
        self.laplace = (np.array(mode, dtype=np.float64), covariance, np.linalg.cholesky(covariance))

    # ------------------------------------------------------------------ declarations
    @property
    def stat_names(self) -> tuple:
        """(random-walk acceptance, independence acceptance, rejected factorisations) names; the
        last is ``rejected_factorisations`` for the default ``name`` and gets ``_<name>`` otherwise,
        so that several engines in one model do not share it."""
        failed = "rejected_factorisations" if self.name == "variances" else f"rejected_factorisations_{self.name}"
        return f"accept_{self.name}_rw", f"accept_{self.name}_independent", failed

    def info_variables(self) -> list:
        """Per-iteration ``sample_stats``: the acceptance rate of each kind of proposal among
        this iteration's proposals (NaN when none of that kind was made) and the number of
        candidates rejected because ``log_target`` raised one of ``failures``."""
        return [Variable(name, group="sample_stats") for name in self.stat_names]

    def init_state(self, rng=None) -> dict:
        """The per-chain adaptive state: arrays and scalars only."""
        d = self.dim
        if self.laplace is not None:
            mode, covariance, chol = self.laplace
            return {
                "count": LAPLACE_WEIGHT,
                "rw_count": 0,
                "mean": mode.copy(),
                "covariance": covariance.copy(),
                "chol": chol.copy(),
                "chol_inverse": solve_triangular(chol, np.eye(d), lower=True),
                "fitted": True,
                "log_scale": self.start_log_scale,
            }
        return {
            "count": 0,  # proposals so far (the n of the gains)
            "rw_count": 0,  # random-walk proposals so far (the r of the scale's gain)
            "mean": np.zeros(d),
            "covariance": np.zeros((d, d)),
            "chol": np.eye(d) * self.initial_sd,  # Cholesky factor of the fitted covariance
            "chol_inverse": np.eye(d) / self.initial_sd,
            "fitted": False,  # whether ``chol`` and ``mean`` come from the draws yet
            "log_scale": self.start_log_scale,
        }

    # ------------------------------------------------------------------ proposals
    def _log_q(self, x, state) -> float:
        """log density (up to a constant) of the independence proposal at x."""
        z = state["chol_inverse"] @ (x - state["mean"])
        return -0.5 * (self.df + self.dim) * np.log1p(z @ z / (self.df * self.inflation))

    def _draw_independent(self, rng, state) -> np.ndarray:
        t = rng.standard_normal(self.dim) / np.sqrt(rng.chisquare(self.df) / self.df)
        return state["mean"] + np.sqrt(self.inflation) * (state["chol"] @ t)

    def _draw_random_walk(self, rng, phi, state) -> np.ndarray:
        return phi + np.exp(state["log_scale"]) * (state["chol"] @ rng.standard_normal(self.dim))

    def _evaluate(self, log_target, candidate, counts) -> float:
        try:
            value = float(log_target(candidate))
        except self.failures:
            counts["failed"] += 1
            return -np.inf
        return value if not np.isnan(value) else -np.inf

    # ------------------------------------------------------------------ the step
    def step(self, rng, phi, current, log_target, on_accept, state, tuning: bool):
        """``self.proposals`` Metropolis proposals from ``phi`` (log density ``current``, may be -inf).

        Returns (phi, current, info): the new value, its log density and the ``sample_stats``
        of this call. ``phi`` is not modified in place. ``on_accept()`` is called after each
        accepted candidate, before the next evaluation.
        """
        phi = np.array(phi, dtype=np.float64)
        counts = {"rw": [0, 0], "independent": [0, 0], "failed": 0}
        adapt = tuning or self.adapt_after_tuning
        for _ in range(self.proposals if self.dim else 0):
            if state["fitted"] and rng.random() < self.independence_probability:
                phi, current = self._independence(rng, phi, current, log_target, on_accept, state, counts, adapt)
            else:
                phi, current = self._random_walk(rng, phi, current, log_target, on_accept, state, counts, adapt)
            if adapt:
                self._adapt_moments(state, phi)
        rw_name, independent_name, failed_name = self.stat_names
        info = {rw_name: np.nan, independent_name: np.nan, failed_name: float(counts["failed"])}
        for kind, key in (("rw", rw_name), ("independent", independent_name)):
            accepted, tried = counts[kind]
            if tried:
                info[key] = accepted / tried
        return phi, current, info

    def _random_walk(self, rng, phi, current, log_target, on_accept, state, counts, adapt):
        candidate = self._draw_random_walk(rng, phi, state)
        log_u = np.log(rng.random())
        value = self._evaluate(log_target, candidate, counts)
        log_ratio = value - current if np.isfinite(value) else -np.inf
        accepted = log_u < log_ratio
        counts["rw"][0] += int(accepted)
        counts["rw"][1] += 1
        if adapt:
            self._adapt_scale(state, log_ratio)
        if accepted:
            on_accept()
            return candidate, value
        return phi, current

    def _independence(self, rng, phi, current, log_target, on_accept, state, counts, adapt):
        candidate = self._draw_independent(rng, state)
        log_u = np.log(rng.random())
        value = self._evaluate(log_target, candidate, counts)
        log_q_phi, log_q_candidate = self._log_q(phi, state), self._log_q(candidate, state)
        # log of pi(y) q(x) / (pi(x) q(y)); +inf when the current value has density 0
        log_ratio = (value - current) + (log_q_phi - log_q_candidate) if np.isfinite(value) else -np.inf
        accepted = log_u < log_ratio
        counts["independent"][0] += int(accepted)
        counts["independent"][1] += 1
        if accepted:
            on_accept()
            return candidate, value
        if not self.delayed_rejection:
            return phi, current
        # Second stage: a random walk from phi, accepted with the delayed-rejection ratio.
        second = self._draw_random_walk(rng, phi, state)
        log_u = np.log(rng.random())
        value2 = self._evaluate(log_target, second, counts)
        if np.isfinite(value2):
            first_back = (
                min(0.0, (value - value2) + (self._log_q(second, state) - log_q_candidate))
                if np.isfinite(value)
                else -np.inf
            )
            first_forward = min(0.0, log_ratio)
            log_ratio2 = (value2 - current) + _log1m_exp(first_back) - _log1m_exp(first_forward)
        else:
            log_ratio2 = -np.inf
        accepted = log_u < log_ratio2
        counts["rw"][0] += int(accepted)
        counts["rw"][1] += 1
        if adapt:
            self._adapt_scale(state, log_ratio2)
        if accepted:
            on_accept()
            return second, value2
        return phi, current

    # ------------------------------------------------------------------ adaptation
    def _adapt_scale(self, state, log_ratio: float) -> None:
        state["rw_count"] += 1
        alpha = float(np.exp(min(0.0, log_ratio))) if not np.isnan(log_ratio) else 0.0
        low, high = SCALE_BOUNDS
        scale = state["log_scale"] + state["rw_count"] ** -0.6 * (alpha - self.target_acceptance)
        state["log_scale"] = float(np.clip(scale, self.start_log_scale + low, self.start_log_scale + high))

    def _adapt_moments(self, state, phi) -> None:
        state["count"] += 1
        n = state["count"]
        if n == 1:
            state["mean"][:] = phi
            return
        gain = min(1.0, self.forgetting / n)
        deviation = phi - state["mean"]
        state["mean"] += gain * deviation
        state["covariance"] += gain * (deviation[:, None] * deviation[None, :] - state["covariance"])
        if n >= FIRST_FIT and (n % self.refresh == 0 or not state["fitted"]):
            covariance = 0.5 * (state["covariance"] + state["covariance"].T) + REGULARISATION * np.eye(self.dim)
            try:
                chol = np.linalg.cholesky(covariance)
            except np.linalg.LinAlgError:
                return  # keep the previous factor
            state["chol"] = chol
            state["chol_inverse"] = solve_triangular(chol, np.eye(self.dim), lower=True)
            if not state["fitted"]:
                # the scale was tuned for steps of initial_sd; restart it for the fitted shape
                state["fitted"] = True
                state["log_scale"] = self.start_log_scale


def _log1m_exp(x: float) -> float:
    """log(1 - e^x) for x <= 0 (-inf at x = 0)."""
    if x == 0.0:
        return -np.inf
    if x < -0.693:
        return float(np.log1p(-np.exp(x)))
    return float(np.log(-np.expm1(x)))
