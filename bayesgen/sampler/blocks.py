"""Update blocks: the order and grouping in which a model's parameters are drawn.

The simplest block is one term's own ``step``. Location blocks draw the fixed, iid and
pedigree effects of several terms at once from the mixed-model equations
(``bayesgen.sampler.joint``). ``build_blocks`` turns a model and its ``sampler`` option into
the list the Gibbs step runs through.
"""

from __future__ import annotations

from ..terms.base import StepContext


class TermBlock:
    """A block that runs one term's own Gibbs ``step``."""

    def __init__(self, index: int, term):
        self.index = index
        self.term = term

    def init_state(self, rng) -> dict:
        return {}

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        return self.term.step(rng, states[self.index], ctx)

    def info_variables(self) -> list:
        return self.term.info_variables()

    def describe(self) -> dict:
        return {"block": "term", "term": self.term.name}


class ResidualNoiseBlock:
    """The residual's per-iteration draws other than its variance, when a block owns the variance."""

    def __init__(self, residual):
        self.residual = residual

    def init_state(self, rng) -> dict:
        return {}

    def step(self, rng, states: list, block_state: dict, ctx: StepContext) -> dict:
        self.residual.draw_noise(rng, states[-1])
        return {}

    def info_variables(self) -> list:
        return []

    def describe(self) -> dict:
        return {"block": "residual noise"}


def location_terms(model) -> list[int]:
    """Indices of the terms whose effects the joint samplers can draw together."""
    from ..terms.fixed import Fixed
    from ..terms.maternal import MaternalAnimal
    from ..terms.random import Random

    if model.n_traits != 1:
        return []
    # A direct-maternal term joins them unless it asked for its own joint block (joint=True).
    return [k for k, t in enumerate(model.terms)
            if isinstance(t, (Fixed, Random)) or (isinstance(t, MaternalAnimal) and not t.joint)]


def build_blocks(model, sampler: str) -> list:
    """The update blocks of ``model`` for the chosen location sampler."""
    indices = location_terms(model)
    joint = None
    if indices and sampler == "auto":
        from .joint import auto_block

        joint = auto_block(model, indices)
    elif indices and sampler in ("joint", "collapsed"):
        from .joint import CollapsedLocations, JointLocations

        joint = (JointLocations if sampler == "joint" else CollapsedLocations)(model, indices)
    if joint is None:
        blocks = [TermBlock(k, t) for k, t in enumerate(model.terms)]
    else:
        blocks = []
        for k, term in enumerate(model.terms):
            if k == indices[0]:
                blocks.append(joint)
            elif term is model.residual and getattr(joint, "samples_residual", False):
                blocks.append(ResidualNoiseBlock(term))  # sigma2_e is drawn by the collapsed block
            elif k not in indices:
                blocks.append(TermBlock(k, term))
    # Fixed effects and a random term's mean coefficients, shifted together (exact; see
    # translation_move), where single-site updates would trade one off against the other.
    from .translation_move import translation_moves

    moves = translation_moves(model, joint.indices if joint is not None else ())
    return blocks[:-1] + moves + blocks[-1:]
