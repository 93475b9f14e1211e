"""Update blocks: the order and grouping in which a model's parameters are drawn.

The simplest block is one term's own ``step``. A location block (``joint``, ``pcg``, ``collapsed``)
draws the effects of every location term at once from the mixed-model equations. After a
term's update comes its group move (``group_move``) when the term declares one; translation
moves pair fixed and random terms; the likelihood's own step (augmentation, the residual
covariance unless a collapsed block owns it) comes last. ``build_blocks`` turns a model and
its ``sampler`` option into that list, knowing the terms only through their protocols.
"""

from __future__ import annotations

from ..terms.location import LocationTerm
from .context import StepContext
from .update_block import UpdateBlock


class TermBlock(UpdateBlock):
    """A block that runs one term's own Gibbs ``step``."""

    def __init__(self, index: int, term):
        self.index = index
        self.term = term

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        return self.term.step(rng, states[self.index], ctx)

    def info_variables(self) -> list:
        return self.term.info_variables()

    def describe(self) -> dict:
        return {"block": "term", "term": self.term.name}


class LikelihoodBlock(UpdateBlock):
    """The likelihood's step: augmentation, its covariance (unless a location block draws it), noise."""

    def __init__(self, index: int, likelihood, draws_covariance: bool = True):
        self.index = index
        self.likelihood = likelihood
        self.draws_covariance = draws_covariance

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        return self.likelihood.step(rng, states[self.index], ctx, draw_covariance=self.draws_covariance)

    def info_variables(self) -> list:
        return self.likelihood.info_variables()

    def describe(self) -> dict:
        if self.draws_covariance:
            return {"block": "term", "term": self.likelihood.name, "family": self.likelihood.family}
        return {"block": "residual noise", "family": self.likelihood.family}


def location_terms(model) -> list[int]:
    """Indices of the terms that speak the location protocol (the joint samplers can draw them together)."""
    return [k for k, t in enumerate(model.terms) if isinstance(t, LocationTerm)]


def build_blocks(model, sampler: str) -> list:
    """The update blocks of ``model`` for the chosen location sampler."""
    from .group_move import GroupMove
    from .marginal_group_move import marginal_group_moves
    from .scale_move import scale_move
    from .translation_move import translation_moves

    indices = location_terms(model)
    joint = None
    if indices and sampler == "auto":
        from .auto import auto_block

        joint = auto_block(model, indices)
    elif indices and sampler in ("joint", "collapsed"):
        from .collapsed import CollapsedLocations
        from .joint import JointLocations

        joint = (JointLocations if sampler == "joint" else CollapsedLocations)(model, indices)
    elif indices and sampler == "pcg":
        from .perturbation import PerturbedLocations

        joint = PerturbedLocations(model, indices)
    in_block = set(joint.indices) if joint is not None else set()
    blocks = []
    if joint is not None:
        blocks.append(joint)
        if joint.kind in ("joint", "pcg"):  # the collapsed block draws the covariances marginally: no moves needed
            for k in joint.indices:
                action = model.terms[k].group_action()
                if action is not None:
                    blocks.append(GroupMove(k, action))
    likelihood_index = len(model.terms) - 1
    for k, term in enumerate(model.terms[:-1]):
        if k in in_block:
            continue
        blocks.append(TermBlock(k, term))
        action = term.group_action()
        if action is not None:
            blocks.append(GroupMove(k, action))
    # Fixed effects and a random term's mean coefficients, shifted together (exact; see
    # translation_move), where single-site updates would trade one off against the other.
    blocks += translation_moves(model, joint.indices if joint is not None else ())
    # Everything rescaled together when the likelihood fixes the scale (scale_move).
    blocks += scale_move(model)
    # A term's scale moved with the augmented data integrated out (a likelihood that can). Placed
    # last, just before the likelihood's augmentation, which redraws the augmented data for them.
    blocks += marginal_group_moves(model, redraw=False)
    owns_residual = joint is not None and joint.owns_residual_covariance
    blocks.append(LikelihoodBlock(likelihood_index, model.likelihood, draws_covariance=not owns_residual))
    return blocks
