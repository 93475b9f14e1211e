r"""The group move: a term's effects and the parameter that scales them, moved together.

Single-site updates of effects given their (co)variance and of the (co)variance given the
effects travel slowly along their joint ridge (each variance against the residual, a genetic
correlation, a marker scale when p >> n). A generalised Gibbs step on a group of linear maps
(Liu & Sabatti 2000; the idea of parameter expansion, Liu, Rubin & Wu 1998) moves them along
it in one step: the group element m acts on the term's effects and its scale parameter, and
the term's fit moves linearly, :math:`F(m) = \sum_j m_j B_j` (``action.basis_fits``: s basis
fits, records x t each). The likelihood is therefore Gaussian in m: with
:math:`\tilde E = E + F(m_0)` (the residual with the term's fit added back, :math:`m_0` the
identity), weights w and the residual covariance R,

.. math:: m \sim N(G^{-1}h,\; G^{-1}),\qquad G_{ij} = \sum_r w_r B_{i,r}'R^{-1}B_{j,r},\qquad
          h_i = \sum_r w_r B_{i,r}'R^{-1}\tilde e_r.

One independence Metropolis step proposes :math:`m^*` from it and accepts with probability
:math:`\min(1, f(m^*)/f(m_0))`, f the rest of the target on the group in these coordinates
(the prior of the scale parameter, the Jacobian of the action and the Haar measure: the
action's ``log_factor``); the Gaussian parts cancel. What the action is (a location term's
:math:`\theta_l \to M\theta_l`, :math:`\Sigma \to M\Sigma M'`, ``bayesgen.terms.location``; a
marker prior's scale, ``bayesgen.terms.markers``) the move does not know. Cost O(records s^2 t^2).
"""

from __future__ import annotations

import numpy as np

from ..variable import Variable
from .context import StepContext
from .update_block import UpdateBlock


class GroupMove(UpdateBlock):
    """Update block: the group move of one term (module docstring)."""

    def __init__(self, index: int, action):
        self.index = index
        self.action = action
        self.info_name = f"rescale_accept_{action.name}"

    def info_variables(self) -> list:
        return [Variable(self.info_name, group="sample_stats")]

    def describe(self) -> dict:
        return {"block": "group move", "term": self.action.name, "group": getattr(self.action, "kind", "scalar")}

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        return {self.info_name: float(self.move(rng, states[self.index], ctx))}

    def move(self, rng, state: dict, ctx: StepContext) -> bool:
        action = self.action
        fits = action.basis_fits(state)  # s x records x t
        identity = action.identity
        weights = ctx.weights[:, 0]
        resid = ctx.resid
        s, _, t = fits.shape
        if s == 1 and t == 1:
            return self._move_one_scale(rng, state, ctx, fits[0, :, 0], float(identity[0]))
        current = np.tensordot(identity, fits, axes=1)  # the term's fit now
        target = resid + current
        precision = np.linalg.inv(ctx.residual_covariance)
        weighted = fits * weights[None, :, None]
        mixed = weighted @ precision  # s x records x t: w_r B_{i,r}' R^-1
        gram = np.einsum("irk,jrk->ij", mixed, fits)
        linear = np.einsum("irk,rk->i", mixed, target)
        try:
            chol = np.linalg.cholesky(gram)
        except np.linalg.LinAlgError:
            return False
        if not np.all(np.diag(chol) > 1e-8 * np.sqrt(np.diag(gram).max())):
            return False
        mean = np.linalg.solve(gram, linear)
        # m* = mean + L'^-1 z has covariance (LL')^-1 = G^-1.
        proposal = mean + np.linalg.solve(chol.T, rng.standard_normal(s))
        log_u = np.log(rng.random())
        log_ratio = action.log_factor(state, proposal) - action.log_factor(state, identity)
        if not log_u < log_ratio:
            return False
        resid[:] = target - np.tensordot(proposal, fits, axes=1)
        action.apply(state, proposal)
        return True

    def _move_one_scale(self, rng, state: dict, ctx: StepContext, fit: np.ndarray, identity: float) -> bool:
        """``move`` for one scale and one trait, in scalars (G = w'f^2 / sigma2_e, h = (wf)'(e + f m_0) /
        sigma2_e; f the fit of the one basis), with the general path's arithmetic: the same draws."""
        weights, resid = ctx.weights[:, 0], ctx.resid[:, 0]
        sigma2_e = ctx.sigma2_e
        target = resid + identity * fit
        wf = weights * fit
        a = float(np.dot(wf, fit))
        if not a > 0.0:
            return False
        gram = a / sigma2_e
        linear = float(np.dot(wf, target)) / sigma2_e
        proposal = np.array([linear / gram + rng.standard_normal() / np.sqrt(gram)])
        log_u = np.log(rng.random())
        log_ratio = self.action.log_factor(state, proposal) - self.action.log_factor(state, np.array([identity]))
        if not log_u < log_ratio:
            return False
        resid[:] = target - proposal[0] * fit
        self.action.apply(state, proposal)
        return True
