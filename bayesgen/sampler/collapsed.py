r"""The collapsed location block: covariances with the locations integrated out, then the locations.

Every sampled covariance of the block's location terms (:math:`\Sigma_k`) and of the residual
(R) is moved by Metropolis steps (``bayesgen.sampler.variance_step``) on an unconstrained
vector :math:`\phi` (``bayesgen.sampler.parametrisation``: log variances, log-Cholesky
parameters) whose target is

.. math:: \log p(\phi \mid y) = \log p(y \mid R, \Sigma) + \sum \log p(\Sigma_k) + \log p(R)
          + \log|J(\phi)| + \text{const},

:math:`p(y \mid R, \Sigma)` the restricted likelihood of ``bayesgen.sampler.mme`` (one
factorisation of C per evaluation) and the priors' marginal densities (their auxiliary
variables integrated out). Then the auxiliary variables are drawn given the accepted
covariances, and the locations given everything (``JointLocations.draw_locations``). Both
parts keep the joint posterior: this is a blocked Gibbs step, the covariances drawn from their
marginal posterior and the locations from their conditional. With several traits the
missing traits are integrated out in both (per missingness pattern).
"""

from __future__ import annotations

import numpy as np

from ..variable import Variable
from .context import StepContext
from .joint import JointLocations
from .parametrisation import CovarianceParametrisation
from .variance_step import VarianceMetropolis

#: Metropolis proposals per iteration when some component is a matrix (several parameters per
#: component). On gryphon bwt's direct-maternal model (6 parameters; 4 x 2,000 draws after
#: 1,000) 4 proposals raised the bulk ESS of sigma2_m from 18 to 309 and of sigma2_d from 57 to 680
#: at 2.5x the CPU per iteration (benchmarks/bench_maternal.py).
MATRIX_PROPOSALS = 4


class _Component:
    """One sampled covariance: a location term's (``owner`` = the term) or the likelihood's."""

    __slots__ = ("owner", "state_index", "block_index", "parametrisation", "slice", "current")

    def __init__(self, owner, state_index, block_index, parametrisation, start, current):
        self.owner, self.state_index, self.block_index = owner, state_index, block_index
        self.parametrisation = parametrisation
        self.slice = slice(start, start + parametrisation.size)
        self.current = current  # state -> the covariance now


class CollapsedLocations(JointLocations):
    """Covariances from their marginal posterior (locations integrated out), then locations."""

    kind = "collapsed"

    def __init__(self, model, indices, max_factor_nonzeros: int = 200_000_000):
        super().__init__(model, indices, max_factor_nonzeros)
        self.likelihood_index = len(model.terms) - 1
        self.components, start = [], 0
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            if term.samples_covariance:
                component = _Component(term, k, j, CovarianceParametrisation(term.prior, term.covariance_dim), start,
                                       term.effect_covariance)
                self.components.append(component)
                start += component.parametrisation.size
        self.likelihood_component = None
        if self.likelihood.samples_covariance:
            self.likelihood_component = _Component(
                self.likelihood, self.likelihood_index, None,
                CovarianceParametrisation(self.likelihood.prior, model.n_traits), start, self.likelihood.covariance)
            start += self.likelihood_component.parametrisation.size
        self.dim = start
        self.owns_residual_covariance = self.likelihood_component is not None
        every_scalar = all(c.parametrisation.size == 1 for c in self._all_components())
        self.engine = VarianceMetropolis(self.dim, 1 if every_scalar else MATRIX_PROPOSALS)
        # True when the block and the residual are the whole model: the partial response is then
        # the working response itself, unchanged between iterations unless it is augmented.
        self.only_locations = len(self.indices) == len(model.terms) - 1

    def _all_components(self) -> list:
        return self.components + ([self.likelihood_component] if self.likelihood_component is not None else [])

    def init_state(self, rng) -> dict:
        return {"factor": self.symbolic.copy(), "proposal": self.symbolic.copy(), "cache_phi": np.full(self.dim, np.nan),
                "cache_value": np.nan, "cache_cross": None, "engine": self.engine.init_state(rng)}

    def info_variables(self) -> list[Variable]:
        return self.engine.info_variables()

    # ------------------------------------------------------------------ the marginal posterior
    def current_phi(self, states) -> np.ndarray:
        phi = np.empty(self.dim)
        for c in self._all_components():
            phi[c.slice] = c.parametrisation.pack(c.current(states[c.state_index]))
        return phi

    def unpack(self, phi, states) -> tuple[dict, np.ndarray]:
        """({block position of a term: Sigma}, R) for ``phi`` (unsampled ones at their current value)."""
        covariances = {}
        for c in self.components:
            covariances[c.block_index] = c.parametrisation.unpack(phi[c.slice], c.current(states[c.state_index]))
        lc = self.likelihood_component
        current_r = self.likelihood.covariance(states[self.likelihood_index])
        residual = lc.parametrisation.unpack(phi[lc.slice], current_r) if lc is not None else current_r
        return covariances, residual

    def log_target(self, phi, states, factor, cross) -> float:
        r"""log p(phi | y) up to a constant (module docstring); -inf beyond floating point or where
        the factorisation fails."""
        covariances, residual = self.unpack(phi, states)
        matrices = list(covariances.values()) + [residual]
        if not all(np.all(np.isfinite(m)) for m in matrices):
            return -np.inf
        log_prior = sum(c.owner.prior.log_density(covariances[c.block_index]) for c in self.components)
        if self.likelihood_component is not None:
            log_prior += self.likelihood.prior.log_density(residual)
        if not np.isfinite(log_prior):
            return -np.inf
        mme = self.mme
        try:
            precisions = mme.pattern_precisions(residual)
            all_covariances = {k: covariances[k] if k in covariances else
                               self.terms[k].effect_covariance(states[self.indices[k]]) for k in mme.with_prior}
            log_dets, inverses = 0.0, {}
            for k, value in all_covariances.items():
                chol = np.linalg.cholesky(value)
                log_dets += self.terms[k].n_levels * 2.0 * float(np.log(np.diag(chol)).sum())
                inverses[k] = np.linalg.inv(value)
        except np.linalg.LinAlgError:
            return -np.inf
        values = mme.values(precisions, inverses)
        if not np.all(np.isfinite(values)):
            return -np.inf
        factor.factorize(values)
        half = factor.solve_l(mme.rhs(cross, precisions))
        minus_two_loglik = (mme.residual_log_determinant(precisions) + log_dets + factor.logdet()
                            + mme.response_quadratic(cross, precisions) - half @ half)
        return -0.5 * minus_two_loglik + log_prior + sum(
            c.parametrisation.log_jacobian(phi[c.slice]) for c in self._all_components())

    # ------------------------------------------------------------------ the step
    def step(self, rng, states, block_state, ctx: StepContext) -> dict:
        mme = self.mme
        partial = self.partial_response(states, ctx)
        cross = mme.cross_products(partial)
        phi = self.current_phi(states)
        work = {"factor": block_state["factor"], "proposal": block_state["proposal"]}
        cached = block_state["cache_cross"]
        # `factor` still holds C at phi when nothing it depends on changed since the last step
        # (the same covariances and the same response statistics): skip refactorising.
        if (cached is not None and np.array_equal(phi, block_state["cache_phi"])
                and all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(cross, cached))):
            current = block_state["cache_value"]
        else:
            current = self.log_target(phi, states, work["factor"], cross)

        def on_accept():
            work["factor"], work["proposal"] = work["proposal"], work["factor"]

        phi, current, info = self.engine.step(
            rng, phi, current, lambda candidate: self.log_target(candidate, states, work["proposal"], cross),
            on_accept, block_state["engine"], ctx.tuning)
        block_state["factor"], block_state["proposal"] = work["factor"], work["proposal"]
        block_state["cache_phi"], block_state["cache_value"], block_state["cache_cross"] = phi.copy(), current, cross
        # The Metropolis step targeted the covariances with the priors' auxiliary variables
        # integrated out; set them, then draw those variables given them.
        covariances, residual = self.unpack(phi, states)
        for c in self.components:
            c.owner.set_covariance(rng, states[c.state_index], covariances[c.block_index])
        if self.likelihood_component is not None:
            self.likelihood.set_covariance(rng, states[self.likelihood_index], residual)
        # `factor` holds C at the accepted covariances.
        precisions = mme.pattern_precisions(residual)
        self.draw_locations(rng, states, block_state["factor"], partial, precisions, ctx)
        return info
