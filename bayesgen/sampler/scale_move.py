r"""The scale move: every effect, the working response and every variance rescaled together.

A likelihood whose residual variance is fixed (a threshold trait's liability, variance 1)
pins the scale of the whole model to the liabilities: single-site and joint updates move the
effects and their variances only as far as the liabilities drawn last let them, and the
liabilities only as far as the effects let them, so the location of the liability scale (the
intercept) and the variances creep (Albert & Chib's sampler is known to mix slowly there).
Parameter expansion (Liu & Wu 1999's PX-DA; Imai & van Dyk 2005's marginal augmentation)
frees the scale: as a generalised Gibbs step (Liu & Sabatti 2000) on the multiplicative group
k > 0, acting by

.. math:: \ell \to k\ell,\quad \beta \to k\beta,\quad u \to ku,\quad \alpha \to k\alpha,\quad
          \Sigma \to k^2\Sigma,\quad \tau \to k\tau,

(liabilities, fixed, random and marker effects, covariances, cut-points; the categories stay,
since the first cut-point is 0) with Haar measure dk/k, k is drawn from the target at the moved
point times the Jacobian. Each term declares its share (``bayesgen.terms.scaling``): a power
a of k (Jacobians of the n liabilities, of effects under a flat prior, of flat cut-points), a
quadratic Q of :math:`\exp(-k^2Q/2)` (the Gaussian residual :math:`\sum_r w_r e_r^2`, effects
under a fixed covariance) and a rest :math:`\phi(k)` (a sampled covariance's prior at
:math:`k^2\Sigma` and its Jacobian; a cut-point prior). So

.. math:: p(k) \propto k^{A}\,e^{-k^2 Q/2}\,\prod \phi(k)\ \frac{dk}{k},\qquad A = \sum a,\ Q = \sum Q,

and one independence Metropolis step proposes :math:`k^{*2} \sim \text{Gamma}(A/2, \text{rate } Q/2)`
(exact for the first two factors) and accepts with probability
:math:`\min(1, \prod\phi(k^*)/\prod\phi(1))`. With many records the gamma is sharp and the rest
nearly flat over it, so nearly every proposal is accepted. The residual moves to
:math:`k^*e`. Cost O(records) per iteration.

**One trait among several.** A threshold trait b beside other traits (``Mixed``: its residual
variance fixed at 1) pins its own scale the same way. Its move acts on trait b only: its working
response, fixed and random effects by k, each covariance's row and column b by k (terms'
``trait_scale_action``), and the residual covariance so that the other traits' conditional given
the threshold traits stays put (the likelihood's ``trait_scale_actions``); the residual's column
b moves to :math:`k^*e_b`. Same proposal and acceptance, one move per threshold trait.
"""

from __future__ import annotations

import numpy as np

from ..variable import Variable
from .context import StepContext
from .update_block import UpdateBlock


class ScaleMove(UpdateBlock):
    """Update block: the scale move over every term (module docstring).

    ``scalings``: (term index, ``Scaling``) for every term of the model, the likelihood last.
    """

    def __init__(self, scalings: list, trait: int | None = None, trait_name: str | None = None):
        self.scalings = list(scalings)
        #: None: everything scales; else the one trait (residual column) that does.
        self.trait = trait
        self.info_name = "scale_accept" if trait is None else f"scale_accept_{trait_name}"

    def info_variables(self) -> list:
        return [Variable(self.info_name, group="sample_stats")]

    def describe(self) -> dict:
        out = {"block": "scale move", "terms": len(self.scalings)}
        if self.trait is not None:
            out["trait"] = self.info_name.removeprefix("scale_accept_")
        return out

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        return {self.info_name: float(self.move(rng, states, ctx))}

    def move(self, rng, states: list, ctx: StepContext) -> bool:
        power = sum(scaling.power(states[k]) for k, scaling in self.scalings)
        quadratic = sum(scaling.quadratic(states[k], ctx) for k, scaling in self.scalings)
        if not (power > 0.0 and quadratic > 0.0):
            return False
        factor = float(np.sqrt(rng.gamma(0.5 * power, 2.0 / quadratic)))
        log_u = np.log(rng.random())
        log_ratio = sum(
            scaling.log_factor(states[k], factor) - scaling.log_factor(states[k], 1.0) for k, scaling in self.scalings
        )
        if not log_u < log_ratio:
            return False
        if self.trait is None:
            ctx.resid *= factor
        else:
            ctx.resid[:, self.trait] *= factor
        for k, scaling in self.scalings:
            scaling.apply(states[k], factor)
        return True


def scale_move(model) -> list[ScaleMove]:
    """The scale move of ``model`` when its likelihood asks for one and every term declares its
    scaling (``Term.scale_action``); else one per trait the likelihood names in
    ``trait_scale_actions`` whose view every term declares (``Term.trait_scale_action``); else none."""
    scalings = [(k, term.scale_action()) for k, term in enumerate(model.terms)]
    if all(scaling is not None for _, scaling in scalings):  # the likelihood's too: None unless it asks
        return [ScaleMove(scalings)]
    moves = []
    likelihood_index = len(model.terms) - 1
    for trait, likelihood_scaling in model.likelihood.trait_scale_actions():
        scalings = [(k, term.trait_scale_action(trait)) for k, term in enumerate(model.terms[:-1])]
        if all(scaling is not None for _, scaling in scalings):
            scalings.append((likelihood_index, likelihood_scaling))
            moves.append(ScaleMove(scalings, trait, model.likelihood.traits[trait]))
    return moves
