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

from ..kernels.cholesky_errors import NotPositiveDefiniteError
from ..variable import Variable
from .context import StepContext
from .hmc import HamiltonianStep
from .joint import JointLocations
from .parametrisation import CovarianceParametrisation
from .restricted import evaluate as evaluate_restricted
from .variance_step import VarianceMetropolis

#: Metropolis proposals per iteration when some component is a matrix (several parameters per
#: component). On gryphon bwt's direct-maternal model (6 parameters; 4 x 2,000 draws after
#: 1,000) 4 proposals raised the bulk ESS of sigma2_m from 18 to 309 and of sigma2_d from 57 to 680
#: at 2.5x the CPU per iteration (benchmarks/bench_maternal.py).
MATRIX_PROPOSALS = 4
#: More variance parameters than this (six, e.g. two traits and one random term) and the covariances move by Hamiltonian steps
#: (``bayesgen.sampler.hmc``) instead of Metropolis ones: in high dimension a random walk
#: or an independence proposal mixes slowly.
HMC_MIN_DIMENSION = 5
#: The engine above that dimension: "hmc" (``bayesgen.sampler.hmc``: four leapfrog steps, each a
#: factorisation and a selected inverse, the Laplace metric) or "metropolis" (``VarianceMetropolis``
#: with HIGH_DIMENSION_PROPOSALS proposals per iteration, its first fit the Laplace approximation;
#: one factorisation per candidate). "metropolis" is 3-5x faster per effective draw on gryphon's
#: bivariate model and agrees with the joint sampler there, but its successive-conditional Geweke
#: chains under-visit large covariances (several traits, HuangWand prior: max |z| 5.25, 4.67, 4.60
#: on seeds 11-13, variances' second moments low), so it is not the default until that is understood.
HIGH_DIMENSION_ENGINE = "hmc"
HIGH_DIMENSION_PROPOSALS = 4


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
        self.components, start = [], 0
        for j, (k, term) in enumerate(zip(self.indices, self.terms)):
            if term.samples_covariance:
                component = _Component(
                    term,
                    k,
                    j,
                    CovarianceParametrisation(term.prior, term.covariance_dim),
                    start,
                    term.effect_covariance,
                )
                self.components.append(component)
                start += component.parametrisation.size
        self.likelihood_component = None
        if self.likelihood.samples_covariance:
            self.likelihood_component = _Component(
                self.likelihood,
                self.likelihood_index,
                None,
                CovarianceParametrisation(self.likelihood.prior, model.n_traits),
                start,
                self.likelihood.covariance,
            )
            start += self.likelihood_component.parametrisation.size
        self.dim = start
        self.owns_residual_covariance = self.likelihood_component is not None
        every_scalar = all(c.parametrisation.size == 1 for c in self._all_components())
        high_dimension = self.dim > HMC_MIN_DIMENSION
        self.uses_gradient = high_dimension and HIGH_DIMENSION_ENGINE == "hmc"
        self._model = model
        # A Metropolis candidate whose C does not factor has density 0: the engine rejects and counts
        # it (``rejected_factorisations``). The Hamiltonian path sees -inf (a divergence).
        if self.uses_gradient:
            self.engine = HamiltonianStep(self.dim)
        elif high_dimension:
            # Adaptation stops at the end of burn-in: a fixed kernel for the kept draws. Adapting on
            # failed the several-trait Geweke test with 64 chains (max |z| 5.83 against 3.73: the
            # successive-conditional chains, whose target moves with each new y, under-visited large
            # covariances); frozen, the same test passes (3.05) (tests/test_core_routes.py).
            self.engine = VarianceMetropolis(
                self.dim,
                HIGH_DIMENSION_PROPOSALS,
                failures=(NotPositiveDefiniteError,),
                laplace_start=True,
                adapt_after_tuning=False,
            )
        else:
            self.engine = VarianceMetropolis(
                self.dim, 1 if every_scalar else MATRIX_PROPOSALS, failures=(NotPositiveDefiniteError,)
            )
        # True when the block and the residual are the whole model: the partial response is then
        # the working response itself, unchanged between iterations unless it is augmented.
        self.only_locations = len(self.indices) == len(model.terms) - 1

    #: Two factor workspaces (C at the current covariances and at a candidate). The cache entries
    #: (``cache_*``: the accepted phi, its log density and the statistics it was computed from) are
    #: state: a step that hits the cache reuses phi and its value as they were, not their
    #: repacking (which can differ in the last bit), so they are saved with the chain.
    workspace = ("factor", "proposal")

    def rebuild_workspace(self, block_state: dict, states: list) -> None:
        """Refactorise C at the cached phi: a step that hits the cache draws the locations from
        ``factor`` without refactorising (``step``). Same values, same factor, bit for bit."""
        if block_state["cache_cross"] is not None:
            self._evaluate(block_state["cache_phi"], states, block_state["factor"], block_state["cache_cross"], False)

    def partial_response(self, states, ctx: StepContext) -> np.ndarray:
        """The working response minus every term outside the block (records x t). With every
        term in the block it is the working response itself, read as it is: rebuilding it as
        residual + fit differs from it in the last bit at every iteration, which would defeat the
        factor's cache (``step``) for a response that did not change."""
        if self.only_locations:
            return np.array(self.likelihood.working_response(states[self.likelihood_index]))
        return super().partial_response(states, ctx)

    def _all_components(self) -> list:
        return self.components + ([self.likelihood_component] if self.likelihood_component is not None else [])

    def init_state(self, rng) -> dict:
        if self.engine.needs_laplace:
            # the HMC metric or the Metropolis engine's first fit from the posterior's mode and
            # curvature there: once per model, shared by the chains
            self.engine.set_laplace(*self.laplace())
        # Two factor workspaces: C at the current covariances and C at a candidate (swapped on acceptance).
        return {
            "factor": self.symbolic.copy(),
            "proposal": self.symbolic.copy(),
            "cache_key": None,
            "cache_phi": np.full(self.dim, np.nan),
            "cache_value": np.nan,
            "cache_cross": None,
            "engine": self.engine.init_state(rng),
        }

    def laplace(self) -> tuple[np.ndarray, np.ndarray]:
        r"""The mode of :math:`\log p(\phi \mid y)` and the inverse of :math:`-\nabla^2\log p(\phi \mid y)`
        there (a Laplace approximation of the posterior): the reference of the Crank–Nicolson
        steps, and the metric of the Hamiltonian ones.

        Found once per model from a deterministic start (every chain shares it, whatever the
        seeds): the working response with every effect at zero and the covariances at the
        priors' starting values; the mode by BFGS with the analytic gradient, the Hessian by
        central differences of the gradient. Where the Hessian is not negative definite (a
        mode on the boundary), the diagonal of its absolute curvatures is used.
        """
        import scipy.optimize

        model = self._model
        rng = np.random.default_rng(0)
        states = [t.init_state(rng) for t in model.terms]
        response = model.likelihood.working_response(states[-1])
        cross = self.mme.cross_products(response)  # missing traits: ignored by each pattern's Q_p
        factor = self.symbolic.copy()
        phi0 = self.current_phi(states)

        def negative(phi):
            value, gradient = self.value_and_gradient(phi, states, factor, cross)
            if not np.isfinite(value):
                return 1e300, np.zeros_like(phi)
            return -value, -gradient

        result = scipy.optimize.minimize(negative, phi0, jac=True, method="BFGS", options={"maxiter": 200})
        mode = result.x if np.isfinite(result.fun) and result.fun < 1e299 else phi0
        h = 1e-4
        hessian = np.empty((self.dim, self.dim))
        for i in range(self.dim):
            step = np.zeros(self.dim)
            step[i] = h
            hessian[i] = (negative(mode + step)[1] - negative(mode - step)[1]) / (2.0 * h)
        hessian = 0.5 * (hessian + hessian.T)
        if np.all(np.isfinite(hessian)) and np.linalg.eigvalsh(hessian).min() > 0:
            return mode, np.linalg.inv(hessian)
        curvature = np.abs(np.diag(hessian))
        return mode, np.diag(1.0 / np.where(np.isfinite(curvature) & (curvature > 1e-8), curvature, 1.0))

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

    def stored_values(self, states) -> np.ndarray:
        """The sampled covariances as the chain's states hold them (the key of the factor's cache)."""
        parts = [np.ravel(c.current(states[c.state_index])) for c in self._all_components()]
        return np.concatenate(parts) if parts else np.zeros(0)

    def log_target(self, phi, states, factor, cross) -> float:
        r"""log p(phi | y) up to a constant (module docstring); -inf beyond floating point.

        Raises :class:`NotPositiveDefiniteError` where C does not factor (an extreme candidate),
        which the Metropolis engine rejects and counts.
        """
        return self._evaluate(phi, states, factor, cross, False)[0]

    def value_and_gradient(self, phi, states, factor, cross):
        r"""(log p(phi | y), its gradient in phi).

        With :math:`D = -2\log p(y \mid R, \Sigma)` (``bayesgen.sampler.mme``) and the derivatives of D in
        the entries of :math:`Q_p` and :math:`\Sigma_k^{-1}` (``coefficient_gradients``, which needs
        :math:`C^{-1}` on C's pattern only): for a term, with :math:`W = \Sigma_k^{-1}` and G those
        derivatives, :math:`dD = \mathrm{tr}((-WGW + L_kW)\,d\Sigma_k)`; for R,
        :math:`dD = \sum_p \mathrm{tr}((-Q_pG_pQ_p + n_pQ_p)\,dR)`. Then the priors' gradients and
        the parametrisations' chain rule and Jacobians.
        """
        try:
            return self._evaluate(phi, states, factor, cross, True)
        except NotPositiveDefiniteError:  # density 0 for the Hamiltonian step: a divergence
            return -np.inf, np.zeros_like(phi)

    def _evaluate(self, phi, states, factor, cross, with_gradient: bool):
        covariances, residual = self.unpack(phi, states)
        matrices = list(covariances.values()) + [residual]
        failed = (-np.inf, np.zeros_like(phi))
        if not all(np.all(np.isfinite(m)) for m in matrices):
            return failed
        log_prior = sum(c.owner.prior.log_density(covariances[c.block_index]) for c in self.components)
        if self.likelihood_component is not None:
            log_prior += self.likelihood.prior.log_density(residual)
        if not np.isfinite(log_prior):
            return failed
        mme = self.mme
        all_covariances = {
            k: covariances[k] if k in covariances else self.terms[k].effect_covariance(states[self.indices[k]])
            for k in mme.with_prior
        }
        # NotPositiveDefiniteError for an extreme candidate (see log_target)
        restricted = evaluate_restricted(mme, factor, cross, all_covariances, residual, with_gradient)
        if restricted is None:
            return failed
        value = (
            -0.5 * restricted.minus_two_loglik
            + log_prior
            + sum(c.parametrisation.log_jacobian(phi[c.slice]) for c in self._all_components())
        )
        if not with_gradient:
            return value, None
        gradient = np.zeros_like(phi)
        for c in self.components:
            k = c.block_index
            g = -0.5 * restricted.d_sigma[k] + c.owner.prior.log_density_gradient(covariances[k])
            gradient[c.slice] = c.parametrisation.gradient(phi[c.slice], g)
        lc = self.likelihood_component
        if lc is not None:
            g = -0.5 * restricted.d_residual + self.likelihood.prior.log_density_gradient(residual)
            gradient[lc.slice] = lc.parametrisation.gradient(phi[lc.slice], g)
        for c in self._all_components():
            gradient[c.slice] += c.parametrisation.log_jacobian_gradient(phi[c.slice])
        return value, gradient

    # ------------------------------------------------------------------ the step
    def step(self, rng, states, block_state, ctx: StepContext) -> dict:
        mme = self.mme
        partial = self.partial_response(states, ctx)
        cross = mme.cross_products(partial)
        phi = self.current_phi(states)
        work = {"factor": block_state["factor"], "proposal": block_state["proposal"]}
        cached = block_state["cache_cross"]
        key = self.stored_values(states)
        failure = None
        # `factor` still holds C at the last step's phi when nothing it depends on changed since
        # (the same stored covariances and the same response statistics): skip refactorising. The
        # key is the covariances as stored, not phi: unpack(pack(x)) differs from x in the last bit
        # for some coordinates, which made half the iterations refactorise C for nothing.
        evaluate = self.value_and_gradient if self.uses_gradient else self.log_target
        if (
            cached is not None
            and np.array_equal(key, block_state["cache_key"])
            and all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(cross, cached))
        ):
            phi, current = block_state["cache_phi"].copy(), block_state["cache_value"]
        else:
            try:
                current = evaluate(phi, states, work["factor"], cross)
            except NotPositiveDefiniteError as err:
                # C does not factor at the current covariances (set by another step, or the start):
                # density 0 there, so the first candidate that factors is accepted.
                current, failure = -np.inf, err

        def on_accept():
            work["factor"], work["proposal"] = work["proposal"], work["factor"]

        phi, current, info = self.engine.step(
            rng,
            phi,
            current,
            lambda candidate: evaluate(candidate, states, work["proposal"], cross),
            on_accept,
            block_state["engine"],
            ctx.tuning,
        )
        value = current[0] if isinstance(current, tuple) else current
        if not np.isfinite(value):
            # No candidate tried factors: the locations cannot be drawn, so the chain stops here
            # (the driver keeps its draws and the other chains').
            if failure is not None:
                raise failure
            raise FloatingPointError(
                f"the covariances of the collapsed block {[t.name for t in self.terms]} have "
                f"zero density at every value tried (last: phi = {phi})."
            )
        block_state["factor"], block_state["proposal"] = work["factor"], work["proposal"]
        # The Metropolis step targeted the covariances with the priors' auxiliary variables
        # integrated out; set them, then draw those variables given them.
        covariances, residual = self.unpack(phi, states)
        for c in self.components:
            c.owner.set_covariance(rng, states[c.state_index], covariances[c.block_index])
        if self.likelihood_component is not None:
            self.likelihood.set_covariance(rng, states[self.likelihood_index], residual)
        block_state["cache_key"], block_state["cache_phi"] = self.stored_values(states), phi.copy()
        block_state["cache_value"], block_state["cache_cross"] = current, cross
        # `factor` holds C at the accepted covariances.
        precisions = mme.pattern_precisions(residual)
        self.draw_locations(rng, states, block_state["factor"], partial, precisions, ctx)
        return info
