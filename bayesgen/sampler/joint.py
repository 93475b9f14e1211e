r"""The joint location block: every location term's effects in one draw from the mixed-model equations.

:class:`JointLocations` draws the effects b of its terms (all traits at once) from
:math:`N(C^{-1}r, C^{-1})` (``bayesgen.sampler.mme``: per missingness pattern, the missing
traits integrated out) by a sparse Cholesky factor of C, updates the residual, then each
term's covariance from its conjugate full conditional given its effects. Everything it knows of
the terms comes from the location protocol (``bayesgen.terms.location``), and of the residual
from the likelihood protocol (its patterns and covariance).

``bayesgen.sampler.auto.auto_block`` chooses between single-site updates, this block and the
collapsed one (``bayesgen.sampler.collapsed``).
"""

from __future__ import annotations

import numpy as np

from ..kernels.cholesky_errors import NotPositiveDefiniteError
from .context import StepContext
from .mme import MixedModelEquations, precision_of
from .update_block import UpdateBlock


class JointLocations(UpdateBlock):
    """Draw the effects of several location terms jointly, then each covariance given its effects."""

    kind = "joint"
    #: The numeric factor is refilled by every step: a fresh copy of the symbolic analysis is all
    #: a restored chain needs.
    workspace = ("factor",)
    #: Whether the block draws the residual covariance (then the likelihood's own step does not).
    owns_residual_covariance = False

    def __init__(self, model, indices, max_factor_nonzeros: int = 200_000_000):
        from ..kernels.cholesky import SparseCholesky  # compiled kernels: loaded only when used

        self.indices = list(indices)
        self.terms = [model.terms[k] for k in self.indices]
        self.likelihood = model.likelihood
        self.likelihood_index = len(model.terms) - 1
        self.mme = MixedModelEquations(self.terms, self.likelihood.patterns(), model.n_traits)
        self.symbolic = SparseCholesky(self.mme.pattern, max_factor_nonzeros=max_factor_nonzeros)

    def init_state(self, rng) -> dict:
        return {"factor": self.symbolic.copy()}

    def info_variables(self) -> list:
        return []

    def describe(self) -> dict:
        return {
            "block": self.kind,
            "terms": [t.name for t in self.terms],
            "equations": self.mme.n_equations,
            "factor_nonzeros": int(self.symbolic.nnz_factor),
        }

    # ------------------------------------------------------------------ helpers
    def covariance_inverses(self, states, covariances=None) -> dict:
        """{term position k in the block: Sigma_k^-1} for the terms with a prior on their effects."""
        out = {}
        for k in self.mme.with_prior:
            value = (
                covariances[k]
                if covariances is not None and k in covariances
                else self.terms[k].effect_covariance(states[self.indices[k]])
            )
            out[k] = precision_of(value)
        return out

    def partial_response(self, states, ctx: StepContext) -> np.ndarray:
        """The working response minus every term outside the block (records x t)."""
        return ctx.resid + self.mme.design @ self.mme.effects(states, self.indices)

    def draw_locations(self, rng, states, factor, partial, precisions, ctx: StepContext) -> None:
        """b ~ N(C^-1 r, C^-1) with C factorised in ``factor``; updates the residual; then the
        augmented part of the working response given the new b.

        b is drawn with the augmented traits integrated out, so they must be redrawn given b
        at once (the pair is then a draw from its joint conditional): a later update that
        conditioned on the old augmented values together with the new b would not keep the
        posterior (a partially collapsed Gibbs sampler, van Dyk & Park 2008).
        """
        mme = self.mme
        b = factor.draw(rng, mme.rhs(mme.cross_products(partial), precisions))
        mme.set_effects(states, self.indices, b)
        ctx.resid[:] = partial - mme.design @ b.reshape(mme.n_columns, mme.n_traits)
        self.likelihood.augment(rng, states[self.likelihood_index], ctx)

    def _describe_covariances(self, states) -> str:
        parts = [
            f"{term.name}: {np.array2string(term.effect_covariance(states[k]), precision=6)}"
            for term, k in zip(self.terms, self.indices)
            if term.effect_covariance(states[k]) is not None
        ]
        covariance = self.likelihood.covariance(states[self.likelihood_index])
        parts.append(f"residual: {np.array2string(covariance, precision=6)}")
        return "{" + ", ".join(parts) + "}"

    # ------------------------------------------------------------------ the step
    def step(self, rng, states, block_state, ctx: StepContext) -> dict:
        partial = self.partial_response(states, ctx)
        precisions = self.mme.pattern_precisions(ctx.residual_covariance)
        factor = block_state["factor"]
        try:
            factor.factorize(self.mme.values(precisions, self.covariance_inverses(states)))
        except NotPositiveDefiniteError as err:
            # A Gibbs draw cannot be rejected: the chain stops here, before changing its state (the
            # driver keeps its draws and the other chains'). C is positive definite for positive
            # definite covariances, so only extreme ratios (rounding) get here.
            raise NotPositiveDefiniteError(
                f"the joint location block {[t.name for t in self.terms]} cannot draw its effects: C is not "
                f"numerically positive definite at {self._describe_covariances(states)} ({err})",
                pivot=err.pivot,
                row=err.row,
                remainder=err.remainder,
            ) from err
        self.draw_locations(rng, states, factor, partial, precisions, ctx)
        for term, k in zip(self.terms, self.indices):
            term.draw_covariance(rng, states[k])
        return {}
