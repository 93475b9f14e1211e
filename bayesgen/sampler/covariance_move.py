"""A joint linear move of a multi-trait random term's effects and covariance (GL(t) move)."""

from __future__ import annotations

import numpy as np
import scipy.linalg

from ..terms.base import StepContext, Variable


def linear_move(rng, term, state: dict, ctx: StepContext) -> bool:
    r"""Joint move :math:`u_i \to Mu_i` for every level, :math:`G \to MGM'`, M in GL(t).

    A generalised Gibbs step on the group GL(t) (Liu & Sabatti 2000), the t-trait version of
    ``Random.rescale_move``: single-site updates of the effects given G and of G given the
    effects travel slowly along their joint ridges (the genetic correlation, and each
    variance against the residual); this move carries them along together. With left Haar
    measure :math:`dM/|\det M|^t` the target on the group is
    :math:`\pi(UM', MGM')\,|\det M|^{q + t + 1}` (q levels; the effects' Gaussian prior
    contributes :math:`|\det M|^{-q}`), i.e. :math:`L(M)\,p(MGM')\,|\det M|` in Lebesgue
    measure, L the likelihood and p the prior density of G given its auxiliary variables.
    The term's fit F (records x t) becomes :math:`FM'`, so with :math:`\tilde E = E + F`
    (the residual with the fit added back), :math:`S = F'WF` and the residual covariance R,
    L is Gaussian in M: :math:`\mathrm{vec}_{row}(M) \sim N(\mathrm{vec}_{row}(\tilde E'WFS^{-1}),\, R \otimes S^{-1})`.
    An independence Metropolis step proposes :math:`M^*` from it,
    :math:`M^* = \tilde E'WFS^{-1} + L_R Z L_S^{-1}` (Z t x t standard normal,
    :math:`R = L_RL_R'`, :math:`S = L_SL_S'`), and accepts with probability
    :math:`\min(1, f(M^*)/f(I))`, :math:`f(M) = p(MGM')|\det M|` (the Gaussian parts and
    the Haar factors of the forward and reverse proposals cancel). Records enter with their
    row weight (augmented traits count as data: ``bayesgen.terms.residual``). Cost
    O(records x t^2). Returns whether the move was accepted.

    A prior with auxiliary variables (``HuangWand``: G | a ~ IW) enters through its density
    given them, valid only with them held fixed; ``CovarianceMoveBlock`` redraws them given
    G before and after the move (exact Gibbs steps, ``refresh_aux``).
    """
    u, g = state["u"], state["sigma2"]
    t = g.shape[0]
    fit = term.fitted(state)
    weighted = fit * ctx.weights[:, :1]
    gram = weighted.T @ fit
    try:
        chol_s = np.linalg.cholesky(gram)
        chol_r = np.linalg.cholesky(ctx.residual_covariance)
    except np.linalg.LinAlgError:
        return False
    if not np.all(np.diag(chol_s) > 1e-8 * np.sqrt(np.diag(gram).max())):
        return False
    target = ctx.resid + fit
    mean = scipy.linalg.cho_solve((chol_s, True), weighted.T @ target).T  # E~'WF S^-1
    # L_R Z L_S^-1 = L_R (L_S^-T Z')': rows of Z L_S^-1 have covariance S^-1.
    noise = chol_r @ scipy.linalg.solve_triangular(chol_s, rng.standard_normal((t, t)).T, lower=True, trans="T").T
    proposal = mean + noise
    log_u = np.log(rng.random())
    sign, log_det = np.linalg.slogdet(proposal)
    if sign == 0:
        return False
    moved = proposal @ g @ proposal.T
    moved = 0.5 * (moved + moved.T)
    aux = state["prior_aux"]  # kept fixed by the move: the prior's conditional density given them
    log_ratio = term.prior.log_density(moved, aux) - term.prior.log_density(g, aux) + log_det
    if log_u < log_ratio:
        ctx.resid[:] = target - fit @ proposal.T
        u[:] = u @ proposal.T
        g[:] = moved
        return True
    return False


class CovarianceMoveBlock:
    """Runs ``linear_move`` on one multi-trait random term after its own update."""

    def __init__(self, index: int, term):
        self.index = index
        self.term = term

    def init_state(self, rng) -> dict:
        return {}

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        state, prior = states[self.index], self.term.prior
        # a | G before and after: Gibbs steps of the auxiliary variables (no-ops without them);
        # the move itself keeps them fixed and uses the density of G given them.
        prior.refresh_aux(rng, state["sigma2"], state["prior_aux"])
        accepted = linear_move(rng, self.term, state, ctx)
        prior.refresh_aux(rng, state["sigma2"], state["prior_aux"])
        return {f"move_accept_{self.term.name}": float(accepted)}

    def info_variables(self) -> list:
        return [Variable(f"move_accept_{self.term.name}", group="sample_stats")]

    def describe(self) -> dict:
        return {"block": "GL(t) move", "term": self.term.name}


def moves_for(model) -> dict:
    """{term index: CovarianceMoveBlock} for the multi-trait random terms whose covariance is sampled."""
    from ..terms.random import Random

    if model.n_traits == 1:
        return {}
    out = {}
    for k, term in enumerate(model.terms):
        if (isinstance(term, Random) and getattr(term, "n_traits", 1) == model.n_traits and term.expand
                and term.prior.sampled):
            out[k] = CovarianceMoveBlock(k, term)
    return out
