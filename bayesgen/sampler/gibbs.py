"""The public step interface: one Gibbs iteration as a function of a chain's state.

After blackjax's ``step(rng_key, state) -> (state, info)``: :class:`Gibbs` holds only the
model (immutable once built); everything that changes lives in a :class:`ChainState`, so a
chain can be started from any state, stopped, and continued exactly. The driver
(``bayesgen.sampler.driver``) and the joint-distribution tests use nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .context import StepContext

#: Iterations between recomputations of the residual from scratch (stops rounding drift).
RESIDUAL_REFRESH = 100


@dataclass
class ChainState:
    """Everything that changes along one chain.

    ``states``: one dict of arrays per model term (the likelihood's last; it holds the working
    response ``y`` and the residual covariance). ``blocks``: per update block, its own adaptive state (proposal scales).
    ``ctx``: the residual and weights shared by the terms (it reads the residual covariance
    from the likelihood's state).
    """

    states: list
    blocks: list
    ctx: StepContext
    rng_state: dict = field(default_factory=dict)


class Gibbs:
    """One iteration of the model's Gibbs sampler: every update block in turn.

    ``init(rng)`` gives a starting :class:`ChainState`; ``step(rng, chain)`` updates it in
    place and returns ``info`` (per-iteration statistics for ``sample_stats``);
    ``record(chain)`` the values of the model's declared variables. For joint-distribution
    tests: ``draw_prior(rng, chain)`` replaces every parameter by a prior draw and
    ``simulate_response(rng, chain)`` the observed phenotypes by a draw given the parameters.
    """

    def __init__(self, model):
        self.model = model

    # ------------------------------------------------------------------ chain states
    def init(self, rng: np.random.Generator, start=None) -> ChainState:
        """A starting state: the terms' own (``start`` None), or around point estimates.

        ``start`` (``bayesgen.classical.start.ChainStart``, from REML): the locations at their
        BLUE/BLUP and each covariance over-dispersed around its estimate, drawn with this chain's
        generator after the default start (so chains start apart, reproducibly).
        """
        model = self.model
        states = [t.init_state(rng) for t in model.terms]
        weights = np.asfortranarray(model._observed_matrix.astype(np.float64))
        ctx = StepContext(
            resid=np.zeros_like(weights, order="F"),
            weights=weights,
            likelihood=model.likelihood,
            likelihood_state=states[-1],
        )
        chain = ChainState(states, [b.init_state(rng) for b in model.blocks], ctx)
        if start is not None:
            start.apply(rng, model, states)
        self.refresh_residual(chain)
        return chain

    def refresh_residual(self, chain: ChainState) -> None:
        """e = y - sum of every term's fitted values (resets accumulated rounding)."""
        resid = self.model.likelihood.working_response(chain.states[-1]).copy(order="F")
        for term, state in zip(self.model.terms, chain.states):
            resid -= term.fitted(state)
        chain.ctx.resid[:] = resid

    # ------------------------------------------------------------------ one iteration
    def step(self, rng: np.random.Generator, chain: ChainState, tuning: bool = False) -> dict:
        ctx = chain.ctx
        ctx.tuning = tuning
        info = {}
        for block, block_state in zip(self.model.blocks, chain.blocks):
            info.update(block.step(rng, chain.states, block_state, ctx))
        ctx.iteration += 1
        if ctx.iteration % RESIDUAL_REFRESH == 0:
            self.refresh_residual(chain)
        return info

    def record(self, chain: ChainState, wanted=None) -> dict:
        """Values of all variables, keyed by (group, name).

        ``wanted``: the keys the caller keeps (``ChainStorage.wanted``), or None for all. The
        pointwise log-likelihood (a pass over the records; with random effects integrated
        out, a closed form per record for one term, a small Cholesky solve for several) is computed only if its key is wanted; it is not
        kept with ``store="summary"``.
        """
        model = self.model
        out = {}
        for term, state in zip(model.terms, chain.states):
            for key, value in term.record(state, chain.ctx).items():
                out[key if isinstance(key, tuple) else ("posterior", key)] = value
        if model._genetic:
            out[("posterior", "h2")] = model.heritability(chain.states)
            for key, value in model.likelihood.scale_heritability(chain.states[-1], out[("posterior", "h2")]).items():
                out[("posterior", key)] = value
        if wanted is None or ("log_likelihood", "y") in wanted:
            integrated = model.integrated_likelihood(chain.states, chain.ctx) if model.integrated_likelihood else None
            out[("log_likelihood", "y")] = model.likelihood.log_likelihood(chain.states[-1], chain.ctx, integrated)
        out[("sample_stats", "log_prior")] = sum(t.log_prior(s) for t, s in zip(model.terms, chain.states))
        return out

    # ------------------------------------------------------------------ joint-distribution tests
    def draw_prior(self, rng: np.random.Generator, chain: ChainState) -> None:
        """Replace every parameter by a draw from its prior (all priors must be proper)."""
        for term, state in zip(self.model.terms, chain.states):
            term.draw_prior(rng, state)
        self.refresh_residual(chain)

    def linear_predictor(self, chain: ChainState) -> np.ndarray:
        return sum(term.fitted(state) for term, state in zip(self.model.terms, chain.states))

    def simulate_response(self, rng: np.random.Generator, chain: ChainState) -> None:
        """Draw the observed phenotypes from the likelihood given the current parameters."""
        self.model.likelihood.simulate_response(rng, chain.states[-1], self.linear_predictor(chain))
        self.refresh_residual(chain)
