r"""The marginal group move: a term's effects and scale moved with the augmented data integrated out.

Under a likelihood that augments its working response (a threshold trait's liabilities), the
group move (``group_move``) and the collapsed block condition on the augmented values, and
those carry much of what the effects were: a variance component near zero, or weakly
identified by categories, then creeps. This move takes the term's scalar group action
(:math:`\theta \to k\theta`, its variance :math:`\to k^2` of itself; a marker prior's scale) and
moves k by a random walk on log k whose target has the augmented data integrated out:

.. math:: \pi(k) \propto P(\text{data} \mid \mu + (k - 1)f)\; f_{\text{action}}(k)\; k,

:math:`\mu` the linear predictor, f the term's fit, P the likelihood's
``marginal_log_likelihood`` (for a threshold trait :math:`\prod_r P(c_r \mid \mu_r)`, the
liabilities integrated out), :math:`f_{\text{action}}` the action's ``log_factor`` (the prior of the
scale parameter, the Jacobian and the Haar measure dk/k; the factor k turns dk into d log k).
This is a Metropolis–Hastings step on the posterior with the augmented data integrated out
(the non-centred, ancillary update of Yu & Meng 2011's interweaving). After an accepted move
the augmented data are redrawn from their conditional (``likelihood.augment``) before anything
conditions on them, so that the pair is a draw from the joint posterior (a partially collapsed
step, van Dyk & Park 2008): at once, or, for moves placed just before the likelihood's own
augmentation, by that augmentation. After a rejected move nothing moved. The step size of
log k adapts in burn-in towards an acceptance rate of 0.44 and is then fixed. Cost
O(records) per move.
"""

from __future__ import annotations

import numpy as np

from ..variable import Variable
from .context import StepContext
from .update_block import UpdateBlock

#: Target acceptance rate of the random walk on log k while it adapts (burn-in only).
TARGET_ACCEPTANCE = 0.44
#: Starting standard deviation of the random walk on log k.
START_STEP = 0.5


class MarginalGroupMove(UpdateBlock):
    """Update block: the marginal group move of one term (module docstring)."""

    def __init__(self, index: int, action, likelihood_index: int, likelihood, redraw: bool = True):
        self.index = index
        self.action = action
        self.likelihood_index = likelihood_index
        self.likelihood = likelihood
        #: Redraw the augmented data after an accepted move. ``marginal_group_moves`` turns it off
        #: for moves that run just before the likelihood's own augmentation, with only moves that
        #: integrate the augmented data out in between: that augmentation redraws them before
        #: anything conditions on them, so the run of moves is one step on the marginal posterior.
        self.redraw = redraw
        self.info_name = f"marginal_accept_{action.name}"

    def init_state(self, rng) -> dict:
        return {"log_step": np.array([np.log(START_STEP)]), "moves": np.zeros(2)}

    def info_variables(self) -> list:
        return [Variable(self.info_name, group="sample_stats")]

    def describe(self) -> dict:
        return {"block": "marginal group move", "term": self.action.name}

    def _log_target(self, state: dict, likelihood_state: dict, mu: np.ndarray, fit: np.ndarray, k: float) -> float:
        log_factor = float(self.action.log_factor(state, np.array([k])))
        if not np.isfinite(log_factor):
            return -np.inf
        moved = mu + (k - 1.0) * fit
        return self.likelihood.marginal_log_likelihood(likelihood_state, moved) + log_factor + float(np.log(k))

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        state, likelihood_state = states[self.index], states[self.likelihood_index]
        fit = self.action.basis_fits(state)[0]  # records x t
        mu = self.likelihood.working_response(likelihood_state) - ctx.resid
        k = float(np.exp(np.exp(block_state["log_step"][0]) * rng.standard_normal()))
        log_u = np.log(rng.random())
        log_ratio = self._log_target(state, likelihood_state, mu, fit, k) - self._log_target(
            state, likelihood_state, mu, fit, 1.0
        )
        accepted = bool(log_u < log_ratio)
        if accepted:
            ctx.resid -= (k - 1.0) * fit
            self.action.apply(state, np.array([k]))
            if self.redraw:
                self.likelihood.augment(rng, likelihood_state, ctx)
        moves = block_state["moves"]
        moves += (1.0, float(accepted))
        if ctx.tuning:  # Robbins-Monro on the log step towards the target rate; frozen after burn-in
            gain = min(0.5, 5.0 / np.sqrt(moves[0]))
            block_state["log_step"][0] += gain * (float(np.exp(min(0.0, log_ratio))) - TARGET_ACCEPTANCE)
        return {self.info_name: float(accepted)}


def marginal_group_moves(model, redraw: bool = True) -> list[MarginalGroupMove]:
    """One move per term with a scalar group action, and per term and trait the likelihood names in
    ``marginal_traits`` with that trait's coordinate (``Term.trait_group_action``), when the
    likelihood integrates its augmented data out (``Likelihood.marginal_log_likelihood``); else none. ``redraw`` False: the caller
    places them just before the likelihood's augmentation (``MarginalGroupMove.redraw``)."""
    likelihood = model.likelihood
    if not likelihood.integrates_augmentation:
        return []
    likelihood_index = len(model.terms) - 1
    moves = []
    for k, term in enumerate(model.terms[:-1]):
        action = term.group_action()
        if action is not None and getattr(action, "kind", "scalar") == "scalar":
            moves.append(MarginalGroupMove(k, action, likelihood_index, likelihood, redraw=redraw))
    for trait in likelihood.marginal_traits():  # a threshold trait among several: its own coordinate
        for k, term in enumerate(model.terms[:-1]):
            action = term.trait_group_action(trait)
            if action is not None:
                moves.append(MarginalGroupMove(k, action, likelihood_index, likelihood, redraw=redraw))
    return moves
